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
