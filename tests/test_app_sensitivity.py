"""Issues 5 and 6 in the dashboard (AppTest): rank intervals and stability marks on Xếp hạng, tier
probabilities, rank swing and the unit's models on Hồ sơ đơn vị, the flip table on So sánh,
council weighting, adoption and publishing on Trọng số, model lists through Nhập dữ liệu.

Every test signs in through app.py and uses 100 Monte Carlo draws (session state) to stay fast.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import pytest
from apptest_support import button as _button
from apptest_support import danvan_db_env
from apptest_support import field as _field
from streamlit.testing.v1 import AppTest

from danvan_scoring import (
    auth,
    batches,
    derived,
    model_upload,
    periods,
    permissions,
    publish,
    registry,
    results,
    rubric,
    sensitivity,
    store,
    weights,
)
from danvan_scoring import units as unit_store

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
DRAWS = 100
COUNCIL_BUTTONS = {"Gửi phân bổ 100 điểm", "Gửi bộ trọng số này", "Chọn phương án làm chính thức…",
                   "Xác nhận chọn phương án", "Công bố kết quả…", "Xác nhận công bố"}


@pytest.fixture(scope="module")
def template(tmp_path_factory, demo_db_template):
    path = tmp_path_factory.mktemp("sens") / "demo.duckdb"
    shutil.copy(demo_db_template, path)  # the session's demo DB, built once (conftest)
    return path


@pytest.fixture(scope="module")
def shared_db(template, tmp_path_factory):
    """One copy for the read-only tests of this module."""
    path = tmp_path_factory.mktemp("sens_ro") / "demo.duckdb"
    shutil.copy(template, path)
    return path


@pytest.fixture
def own_db(template, tmp_path):
    """A fresh copy for a test that writes."""
    path = tmp_path / "demo.duckdb"
    shutil.copy(template, path)
    return path


@pytest.fixture(autouse=True)
def _restore_env():
    with danvan_db_env(None):
        yield




def _labels(at) -> set[str]:
    return {b.label for b in at.button}


def sign_in(db: Path, username: str, password: str = "demo") -> AppTest:
    os.environ["DANVAN_DB"] = str(db)
    at = AppTest.from_file(APP, default_timeout=90).run()
    _field(at, "Tên đăng nhập").input(username)
    _field(at, "Mật khẩu").input(password)
    _button(at, "Đăng nhập").click().run()
    assert at.session_state["actor"].username == username
    at.session_state["_unc_settings"] = {"draws": DRAWS, "spread": 0.25}
    return at


def page(at: AppTest, name: str) -> AppTest:
    at.switch_page(f"pages/{name}.py").run()
    return ok(at)


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _frame(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


# --------------------------------------------------------------------------- Xếp hạng
def test_ranking_shows_interval_stable_mark_and_note(shared_db):
    at = page(sign_in(shared_db, "lanhdao"), "xep-hang")
    t = at.dataframe[0].value
    assert {"Hạng chung", "Hạng dao động", "Mức ổn định của hạng"} <= set(t.columns)
    ranked = t[t["Hạng chung"].notna()]
    assert set(ranked["Mức ổn định của hạng"]) <= {"Ổn định", "Dễ thay đổi"} and len(set(ranked["Mức ổn định của hạng"])) == 2
    assert t.loc[t["Hạng chung"].isna(), "Mức ổn định của hạng"].isna().all()
    # the interval is the library's (same draws, spread, seed) and holds the rank for most units
    con = store.connect(shared_db)
    unc = sensitivity.uncertainty_table(con, "2025", draws=DRAWS, spread=0.25, seed=0).set_index("unit_code")
    row = ranked.iloc[5]
    lo, hi = unc.loc[row["Mã"], ["rank_p05", "rank_p95"]]
    assert row["Hạng dao động"] == (f"{lo}" if lo == hi else f"{lo}–{hi}")
    inside = [int(a) <= r <= int(b.split("–")[-1]) for r, a, b in
              zip(ranked["Hạng chung"], ranked["Hạng dao động"].str.split("–").str[0], ranked["Hạng dao động"])]
    assert sum(inside) >= 0.9 * len(ranked)
    captions = " ".join(c.value for c in at.caption)
    assert "Hạng dao động cho biết thứ hạng chắc chắn đến đâu" in captions and "100 lần" in captions
    assert "Mức ổn định của hạng:" in captions
    assert any("chưa công bố" in i.value for i in at.info)  # which profile, provisional
    assert at.number_input(key="unc_draws").value == DRAWS

    # zero spread: every interval collapses to the rank, every rank is stable
    at.slider(key="unc_spread").set_value(0).run()
    ok(at)
    t0 = at.dataframe[0].value
    r0 = t0[t0["Hạng chung"].notna()]
    assert (r0["Hạng dao động"] == r0["Hạng chung"].astype(int).astype(str)).all()
    assert set(r0["Mức ổn định của hạng"]) == {"Ổn định"}


def test_ranking_filter_units_without_a_model_in_a_field(shared_db):
    at = page(sign_in(shared_db, "lanhdao"), "xep-hang")
    con = store.connect(shared_db)
    summary = derived.models_summary_by_unit(con, "2025")
    fields = rubric.default_fields().codes
    field = min(fields, key=lambda f: (summary[f"n_{f}"] > 0).sum())  # the field almost empty
    at.selectbox(key="rank_nomodel").select(field).run()
    ok(at)
    t = at.dataframe[0].value
    expected = set(summary.loc[summary[f"n_{field}"] == 0, "unit_code"])
    assert len(t) > 0 and set(t["Mã"]) <= expected
    assert set(t["Mã"]) == expected & set(results.period_results(con, "2025")["unit_code"])


# --------------------------------------------------------------------------- Hồ sơ đơn vị
def test_profile_shows_tier_probabilities_swing_and_models(shared_db):
    con = store.connect(shared_db)
    res = results.period_results(con, "2025")
    unit = res[res["rank"].notna()].iloc[3]["unit_code"]
    at = sign_in(shared_db, "lanhdao")
    at.session_state["profile_unit"] = unit
    page(at, "ho-so")
    assert at.selectbox(key="profile_unit").value == unit
    metrics = {m.label: m.value for m in at.metric}
    assert "Hạng dao động" in metrics and metrics["Mức ổn định của hạng"] in {"Ổn định", "Dễ thay đổi"}
    text = " ".join(m.value for m in at.markdown)
    assert "trong 90% số lần thử thay đổi trọng số" in text
    assert "ảnh hưởng đến thứ hạng nhiều nhất" in text or "không làm thứ hạng của đơn vị thay đổi" in text
    chart = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if c.proto.id.endswith("tier_prob_chart"))
    assert chart["layout"]["title"]["text"] == "Khả năng đạt từng mức xếp loại"
    assert sum(chart["data"][0]["x"]) == pytest.approx(100, abs=0.5)  # tier probabilities sum to 1
    # the swing expander is lazy: closed, its chart and table are not built; opening it reruns
    assert not any("Chênh lệch (bậc)" in d.value.columns for d in at.dataframe)
    assert not any(c.proto.id.endswith("swing_chart") for c in at.get("plotly_chart"))
    at.session_state["swing_open"] = True
    at.run()
    assert not at.exception
    swing = _frame(at, "Chênh lệch (bậc)")
    assert len(swing) == 5
    assert any(c.proto.id.endswith("swing_chart") for c in at.get("plotly_chart"))
    # the unit's models beside the derived (model-group) points, in their tab
    at.session_state["profile_view"] = "Mô hình “Dân vận khéo”"
    at.run()
    assert not at.exception
    listed = registry.list_models(con, "2025", unit)
    shown = _frame(at, "Dùng cho tiêu chí")
    assert set(shown["Mã mô hình"]) == set(listed["model_id"])
    shown_derived = _frame(at, "Tính từ các mô hình")
    lib = derived.derived_breakdown(con, "2025", unit)
    assert list(shown_derived["Mã"]) == list(lib["criterion_code"])
    assert list(shown_derived["Tính từ các mô hình"]) == [", ".join(m) for m in lib["models"]]


# --------------------------------------------------------------------------- So sánh
def test_compare_shows_the_flip_table(shared_db):
    at = page(sign_in(shared_db, "lanhdao"), "so-sanh")
    a, b = at.selectbox(key="cmp_flip_a").value, at.selectbox(key="cmp_flip_b").value
    assert a != b
    flip = _frame(at, "Giải thích")
    assert {"Nhóm", "Hệ số cần nhân", "Trọng số mới", "Tổng điểm A sau đổi"} <= set(flip.columns)
    con = store.connect(shared_db)
    lib = sensitivity.pairwise_flip_for(con, "2025", None, a, b)
    assert list(flip["Nhóm"].str[5]) == list(lib["group"])
    possible = flip[flip["Hệ số cần nhân"].notna()]
    assert len(possible) and all("vượt" in s for s in possible["Giải thích"])
    assert all(s.startswith("Nếu trọng số nhóm") for s in possible["Giải thích"] if "×" in s)


# --------------------------------------------------------------------------- Trọng số: council
def _budget(at, points: dict[str, float]) -> None:
    for g, v in points.items():
        at.number_input(key=f"cw_pts_2025_{g}").set_value(v)
    _button(at, "Gửi phân bổ 100 điểm").click().run()


def test_council_submits_chair_adopts_and_publishes(own_db):
    con = store.connect(own_db)
    auth.add_user(con, "thanhvien", "council", "mat-khau-thanh-vien", actor=auth.CLI_ACTOR, display_name="Thành viên B")
    at = page(sign_in(own_db, "hoidong"), "trong-so")
    assert at.radio(key="cw_method").value == "budget"

    # a budget that does not add up to 100 is refused, nothing stored
    for g, v in {"A": 50.0, "B": 20.0, "C": 20.0, "D": 20.0, "E": 10.0}.items():
        at.number_input(key=f"cw_pts_2025_{g}").set_value(v)
    _button(at, "Gửi phân bổ 100 điểm").click().run()
    assert any("phải bằng 100" in e.value for e in at.error)
    assert at.session_state["actor"].is_chair

    _budget(at, {"A": 30.0, "B": 20.0, "C": 20.0, "D": 20.0, "E": 10.0})
    ok(at)
    assert any("Đã gửi trọng số của bạn" in s.value for s in at.success)
    sub = _frame(at, "Cách gửi")
    mine = sub[sub["Tài khoản"] == "hoidong"].iloc[0]
    assert mine["Cách gửi"] == "Phân bổ 100 điểm" and mine["Nhóm A (%)"] == 30.0
    assert any(str(x).startswith("Đồng thuận") for x in sub["Thành viên"])
    assert "Chênh lệch hạng" in _frame(at, "Chênh lệch hạng").columns

    # a second member (not chair) submits a saved profile; sees no adopt / publish buttons
    other = page(sign_in(own_db, "thanhvien", "mat-khau-thanh-vien"), "trong-so")
    assert not (_labels(other) & {"Chọn phương án làm chính thức…", "Công bố kết quả…"})
    other.radio(key="cw_method").set_value("weights").run()
    _button(other, "Gửi bộ trọng số này").click().run()
    ok(other)
    assert set(council_members(con)) == {"hoidong", "thanhvien"}

    # the chair adopts the median consensus, with a confirmation step
    page(at, "trong-so")
    spread = _frame(at, "Độ lệch chuẩn")
    from danvan_scoring import council

    lib = council.spread(con, "2025")
    assert list(spread["Chênh lệch"]) == pytest.approx(list(lib["range"]))
    assert lib.set_index("group").at["A", "max"] == pytest.approx(30.0)
    at.selectbox(key="cw_adopt_pick").select("trung_vi").run()
    _button(at, "Chọn phương án làm chính thức…").click().run()
    assert weights.official_profile(con, "2025").name == weights.DEFAULT_PROFILE
    _button(at, "Xác nhận chọn phương án").click().run()
    ok(at)
    adopted = weights.official_profile(con, "2025")
    assert adopted.name == "dong-thuan-trung-vi-2025"
    assert adopted.groups == pytest.approx(council.consensus_profile(con, "2025", "median").groups)

    # …then publishes, with a confirmation step
    _field(at, "Lời dẫn khi công bố").input("Kết quả sau phiên họp thử")
    _button(at, "Công bố kết quả…").click().run()
    assert publish.published(con, "2025") is None
    _button(at, "Xác nhận công bố").click().run()
    ok(at)
    pub = publish.published(con, "2025")
    assert pub is not None and pub.profile_label == adopted.label and pub.note == "Kết quả sau phiên họp thử"
    assert any("Đã công bố kết quả" in s.value for s in at.success)
    assert len(_frame(at, "Mã kiểm tra (SHA-256)")) == 1
    log = store.audit_log(con, 20)
    assert {"council.submit", "council.adopt", "ranking.publish"} <= set(log["action"])

    # the ranking page shows the published table, and says so
    rk = page(at, "xep-hang")
    assert any("đã công bố" in s.value and "hoidong" in s.value for s in rk.success)
    frozen = pub.table[pub.table["rank"].notna()]
    shown = rk.dataframe[0].value
    assert list(shown["Mã"].head(20)) == list(frozen["unit_code"].head(20))

    # a later change of the official profile does not change the published ranking
    off = weights.save_profile(con, weights.from_budget(periods.framework_for_period(con, "2025"),
                                                        {"A": 5, "B": 5, "C": 80, "D": 5, "E": 5}, name="thu-doi"),
                               periods.framework_for_period(con, "2025"), actor=permissions.CLI_ACTOR)
    weights.mark_official(con, "2025", off, actor=permissions.CLI_ACTOR)
    live = results.period_results(con, "2025", off)
    assert list(live["unit_code"].head(20)) != list(frozen["unit_code"].head(20))
    rk.run()
    ok(rk)
    assert list(rk.dataframe[0].value["Mã"].head(20)) == list(frozen["unit_code"].head(20))
    assert any("đã đổi sang" in s.value for s in rk.success)
    rk.toggle(key="rank_live").set_value(True).run()
    ok(rk)
    assert list(rk.dataframe[0].value["Mã"].head(20)) == list(live["unit_code"].head(20))
    assert any("bảng tạm tính" in w.value for w in rk.warning)


def council_members(con) -> list[str]:
    from danvan_scoring import council

    return council.submissions(con, "2025")["member"].tolist()


def test_leader_sees_no_council_buttons(shared_db):
    at = sign_in(shared_db, "lanhdao")
    for name in ("xep-hang", "ho-so", "so-sanh"):
        page(at, name)
        assert not (_labels(at) & COUNCIL_BUTTONS)
    with pytest.raises(ValueError):
        at.switch_page("pages/trong-so.py").run()


# --------------------------------------------------------------------------- Nhập dữ liệu: model lists
def _model_file(con, units: list[str]) -> bytes:
    names = unit_store.unit_names(con)
    frame = model_upload.template_frame({u: names[u] for u in units}, "2025")
    frame["Tên mô hình"] = [f"Mô hình kiểm thử số {i + 1}" for i in range(len(units))]
    frame["Lĩnh vực"] = "Xây dựng Đảng"
    frame["Trạng thái"] = "Được công nhận"
    frame["Cấp công nhận"] = "Cấp tỉnh"
    for it in rubric.default_rubric().items:
        frame[it.header] = it.max_points
    buf = io.BytesIO()
    model_upload.write_template(frame, buf, "csv")
    return buf.getvalue()


def test_model_file_uploads_through_the_page(own_db):
    con = store.connect(own_db)
    res = results.period_results(con, "2025")
    units = res[res["rank"].notna()]["unit_code"].tail(2).tolist()
    before = {u: len(registry.list_models(con, "2025", u)) for u in units}
    at = page(sign_in(own_db, "canbo"), "nhap-du-lieu")
    at.radio(key="up_kind").set_value("models").run()
    ok(at)
    assert {b.label for b in at.get("download_button")} == {"Tải mẫu CSV", "Tải mẫu Excel (XLSX)"}

    bad = b"Ma don vi,Ten mo hinh,Linh vuc\n99999,Thu,Kinh te\n18304,,Khong ro\n"
    at.file_uploader(key="upload_models").set_value(("mo-hinh-loi.csv", bad, "text/csv")).run()
    assert not at.exception
    assert any("Tệp bị từ chối" in e.value for e in at.error)
    assert {"Dòng", "Cột", "Giá trị", "Lý do"} <= set(_frame(at, "Lý do").columns)
    assert "Xác nhận nhập" not in _labels(at)
    n = len(batches.batches(con))

    at.file_uploader(key="upload_models").set_value(("mo-hinh.csv", _model_file(con, units), "text/csv")).run()
    ok(at)
    assert next(m for m in at.metric if m.label == "Mô hình mới").value == "2"
    assert len(batches.batches(con)) == n  # the preview wrote nothing
    _button(at, "Xác nhận nhập").click().run()
    ok(at)
    assert any("Đã ghi lần nhập số" in s.value for s in at.success)
    assert {u: len(registry.list_models(con, "2025", u)) for u in units} == {u: before[u] + 1 for u in units}
    hist = _frame(at, "Người hủy")
    assert hist.iloc[0]["Loại"] == "Danh sách mô hình"

    # the new batch can be undone from the same history
    batch = int(batches.batches(con)["batch_id"].iloc[0])
    at.selectbox(key="undo_pick").select(batch).run()
    _button(at, "Hủy lần nhập này…").click().run()
    _button(at, "Xác nhận hủy lần nhập").click().run()
    ok(at)
    assert {u: len(registry.list_models(con, "2025", u)) for u in units} == before


def test_staff_changes_a_model_status_on_the_model_page(own_db):
    """The status form writes one batch, says so after the rerun, and the card and the tables
    (cached on the data version) show the new status at once."""
    con = store.connect(own_db)
    listed = registry.list_models(con, "2025")
    target = listed[listed["status"] == "registered"].iloc[0]
    at = page(sign_in(own_db, "canbo"), "mo-hinh")
    at.selectbox(key="mh_pick").select(target["model_id"]).run()
    ok(at)
    assert next(m for m in at.metric if m.label == "Trạng thái").value == rubric.STATUS_LABELS["registered"]
    at.selectbox(key="new_status").select("in_progress").run()
    _button(at, "Ghi trạng thái").click().run()
    ok(at)
    assert any("Đã chuyển sang" in s.value for s in at.success)
    assert registry.get_model(con, "2025", target["model_id"])["status"] == "in_progress"
    assert next(m for m in at.metric if m.label == "Trạng thái").value == rubric.STATUS_LABELS["in_progress"]
    hist = _frame(at, "Đã hoàn tác")
    assert list(hist["Trạng thái"].head(2)) == [rubric.STATUS_LABELS["in_progress"], rubric.STATUS_LABELS["registered"]]
    con.close()
