"""Issue 12 point 6: the pages word batches, stages and the council the way councils do."""

from __future__ import annotations

import os
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def _admin(db) -> AppTest:
    os.environ["DANVAN_DB"] = str(db)
    at = AppTest.from_file(APP, default_timeout=60).run()
    next(t for t in at.text_input if t.label == "Tên đăng nhập").input("quantri")
    next(t for t in at.text_input if t.label == "Mật khẩu").input("demo")
    next(b for b in at.button if b.label == "Đăng nhập").click().run()
    return at


def test_batches_are_lan_nhap_and_stages_are_diem_tu_cham_tham_dinh(demo_db):
    at = _admin(demo_db)
    at.switch_page("pages/nhap-du-lieu.py").run()
    assert not at.exception
    subs = [s.value for s in at.subheader]
    assert "3. Các lần nhập và hủy lần nhập" in subs
    labels = [s.label for s in at.selectbox]
    assert "Điểm tự chấm hay điểm thẩm định (khi tệp không ghi)" in labels and "Lần nhập cần hủy" in labels
    stage = at.selectbox(key="up_stage")
    assert {"Điểm tự chấm", "Điểm thẩm định"} <= set(stage.options)
    assert any(b.label == "Hủy lần nhập này…" for b in at.button)
    text = " ".join(m.value for m in [*at.markdown, *at.caption])
    assert "giai đoạn" not in text.lower() and " lô " not in text.lower()


def test_council_is_named_in_full(demo_db):
    at = _admin(demo_db)
    at.switch_page("pages/trong-so.py").run()
    assert not at.exception
    text = " ".join(m.value for m in [*at.caption, *at.markdown])
    assert "Hội đồng Thi đua - Khen thưởng" in text and "Hội đồng thi đua" not in text


def test_missing_data_reads_chua_du_du_lieu_on_the_profile(demo_db):
    at = _admin(demo_db)
    at.switch_page("pages/xep-hang.py").run()
    table = at.dataframe[0].value
    unit = table.loc[~table["Đủ điều kiện"].astype(bool), "Mã"].iloc[0]
    at.query_params["unit"] = unit
    at.switch_page("pages/ho-so.py").run()
    assert not at.exception
    warn = [w.value for w in at.warning]
    assert any(w.startswith("**Chưa đủ dữ liệu** — thiếu") for w in warn), warn
    assert not any("Chưa đủ điều kiện" in w for w in warn)


def test_no_old_wording_left_in_pages_and_library_messages():
    """'giai đoạn' only for the period's cycle, batches are 'lần nhập', the council named in full,
    'Tiêu chí bị mất điểm', and the uncertainty terms in plain words (the statistic in a tooltip)."""
    root = Path(__file__).resolve().parent.parent
    texts = {p: p.read_text(encoding="utf-8") for p in [root / "app.py", *(root / "pages").glob("*.py"),
                                                         *(root / "danvan_scoring").glob("*.py")]}
    for old in ('"Giai đoạn"', "lô nhập", "Lô nhập", "lô số", "Hội đồng thi đua", "Nơi bị mất điểm",
                '"Khoảng hạng', '"Độ vững', "Chưa vững", "thứ hạng vững", "Khoảng thứ hạng"):
        assert not [p.name for p, t in texts.items() if old in t], old


def test_uncertainty_tooltips_state_the_statistic():
    from danvan_scoring import sensitivity

    assert "bách phân vị thứ 5 đến thứ 95" in sensitivity.interval_statistic(100, 0.25)
    assert "100 lần thử Monte Carlo" in sensitivity.interval_statistic(100, 0.25)
    assert f"max({sensitivity.STABLE_MIN_PLACES};" in sensitivity.stable_statistic()
