"""The dashboard's writes (AppTest): weights saved and marked official, an upload imported and
undone, an account created — each through the page, each visible in the ranking or the log."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
from apptest_support import button as _button
from apptest_support import danvan_db_env
from apptest_support import field as _field
from streamlit.testing.v1 import AppTest

from danvan_scoring import auth, batches, periods, results, store, weights
from danvan_scoring.criteria import Kind

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


@pytest.fixture(scope="module")
def db(tmp_path_factory, demo_db_template):
    path = tmp_path_factory.mktemp("writes") / "demo.duckdb"
    shutil.copy(demo_db_template, path)  # the session's demo DB, built once (conftest)
    with danvan_db_env(path):
        yield path




def sign_in(username: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    _field(at, "Tên đăng nhập").input(username)
    _field(at, "Mật khẩu").input("demo")
    _button(at, "Đăng nhập").click().run()
    return at


def page(at, name):
    at.switch_page(f"pages/{name.replace('_', '-')}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def rank_of(at, unit: str):
    page(at, "xep_hang")
    t = at.dataframe[0].value
    return t.loc[t["Mã"] == unit, "Hạng chung"].iloc[0]


# --------------------------------------------------------------------------- weights
def test_weights_preview_save_and_mark_official(db):
    at = page(sign_in("hoidong"), "trong_so")
    box = next(n for n in at.number_input if n.label == "Nhóm E — Đánh giá của cấp trên")
    box.set_value(40.0)
    _field(at, "Tên bộ trọng số").input("thu-nghiem")
    _field(at, "Ghi chú").input("Tăng trọng số đánh giá của cấp trên")
    _button(at, "Xem trước xếp hạng").click().run()
    assert not at.exception and not at.error
    moved = next(m for m in at.metric if m.label == "Đơn vị đổi hạng")
    assert int(moved.value.replace(".", "")) > 0
    preview = next(d.value for d in at.dataframe if "Hạng mới" in d.value.columns)
    assert preview["Thay đổi"].abs().max() > 0
    con = store.connect(db)
    assert "thu-nghiem" not in set(weights.list_profiles(con)["name"])  # the preview writes nothing

    _button(at, "Lưu bộ trọng số").click().run()
    assert not at.exception and not at.error
    assert any("thu-nghiem (v1)" in s.value for s in at.success)
    saved = weights.load_profile(con, "thu-nghiem")
    assert saved.groups["E"] == 40.0 and saved.comment == "Tăng trọng số đánh giá của cấp trên"
    log = store.audit_log(con, 5)
    assert ((log["action"] == "weights.save") & (log["actor"] == "hoidong")).any()

    # mark it official, with a confirmation step
    at.run()
    pick = at.selectbox(key="w_official_2025")
    pick.select(saved.profile_id).run()
    _button(at, "Chọn làm chính thức…").click().run()
    assert weights.official_profile(con, "2025").name == weights.DEFAULT_PROFILE  # not before confirming
    _button(at, "Xác nhận").click().run()
    assert not at.exception and not at.error
    assert weights.official_profile(con, "2025").name == "thu-nghiem"
    assert any("chính thức" in s.value for s in at.success)
    # every page now ranks under it
    t = page(at, "xep_hang").dataframe[0].value
    official = results.period_results(con, "2025", saved)
    assert list(t["Mã"].head(10)) == list(official["unit_code"].head(10))


def test_weights_reject_all_zero(db):
    at = page(sign_in("hoidong"), "trong_so")
    for n in at.number_input:
        if n.label.startswith("Nhóm "):
            n.set_value(0.0)
    _field(at, "Tên bộ trọng số").input("khong-hop-le")
    _button(at, "Lưu bộ trọng số").click().run()
    assert not at.exception
    assert any("lớn hơn 0" in e.value for e in at.error)
    assert "khong-hop-le" not in set(weights.list_profiles(store.connect(db))["name"])


# --------------------------------------------------------------------------- upload
def _perfect_csv(con, unit: str, period: str = "2025") -> bytes:
    """Every ordinary criterion at full marks and no penalty for one unit (appraised), with evidence."""
    fw = periods.framework_for_period(con, period)
    lines = ["unit_code,period,criterion_code,score,stage,evidence,note"]
    for c in fw.criteria.values():
        if c.kind is Kind.bonus or getattr(c, "derived", None):  # derived: computed from the model registry
            continue
        if c.kind is Kind.penalty:
            v = 0
        elif c.kind is Kind.pass_fail:
            v = 1
        elif c.kind is Kind.ratio:
            v = c.target
        elif c.kind is Kind.count:
            v = math.ceil(c.max_points / c.per_unit)
        else:
            v = c.max_points
        lines.append(f"{unit},{period},{c.code},{v:g},appraised,minh-chung/{c.code}.pdf,kiểm tra lại")
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_upload_validates_previews_imports_and_undoes(db):
    con = store.connect(db)
    before = results.period_results(con, "2025")
    unit = before[before["eligible"]].iloc[-1]["unit_code"]  # the last ranked unit
    at = page(sign_in("canbo"), "nhap_du_lieu")
    start = rank_of(at, unit)
    assert start > 100
    page(at, "nhap_du_lieu")

    # a broken file: rejected whole, with row, column and reason
    bad = b"unit_code,period,criterion_code,score,stage\n99999,2025,A3,7,appraised\n18304,2025,ZZ,1,appraised\n"
    at.file_uploader(key="upload_file").set_value(("bang-diem-loi.csv", bad, "text/csv")).run()
    assert not at.exception
    assert any("Tệp bị từ chối" in e.value for e in at.error)
    report = next(d.value for d in at.dataframe if "Lý do" in d.value.columns)
    assert {"Dòng", "Cột", "Giá trị", "Lý do"} <= set(report.columns) and len(report) >= 2
    assert not [b for b in at.button if b.label == "Xác nhận nhập"]
    n_batches = len(batches.batches(con))

    # a good file: preview, then confirm
    at.file_uploader(key="upload_file").set_value(("bang-diem.csv", _perfect_csv(con, unit), "text/csv")).run()
    assert not at.exception and not at.error, [d.value.to_dict("records") for d in at.dataframe if "Lý do" in d.value.columns]
    assert next(m for m in at.metric if m.label == "Giá trị thay đổi").value != "0"
    assert len(batches.batches(con)) == n_batches  # the preview wrote nothing
    _button(at, "Xác nhận nhập").click().run()
    assert not at.exception and not at.error
    assert any("Đã nhập lô số" in s.value for s in at.success)
    assert len(batches.batches(con)) == n_batches + 1
    moved = rank_of(at, unit)
    assert moved < start / 2  # the ranking changed at once

    # undo it, with a confirmation step
    page(at, "nhap_du_lieu")
    batch = int(batches.batches(con)["batch_id"].iloc[0])
    at.selectbox(key="undo_pick").select(batch).run()
    _button(at, "Hủy lần nhập này…").click().run()
    _button(at, "Xác nhận hủy lần nhập").click().run()
    assert not at.exception and not at.error
    assert any("Đã hủy lần nhập số" in s.value for s in at.success)
    assert rank_of(at, unit) == start


def test_template_and_export_downloads_are_offered(db):
    at = page(sign_in("canbo"), "nhap_du_lieu")
    assert {b.label for b in at.get("download_button")} == {"Tải mẫu CSV", "Tải mẫu Excel (XLSX)"}
    assert at.file_uploader(key="upload_file") is not None
    page(at, "xep_hang")
    assert {b.label for b in at.get("download_button")} == {"Tải CSV", "Tải Excel (XLSX)"}


# --------------------------------------------------------------------------- admin
def test_admin_adds_a_user_and_reads_the_log(db):
    at = page(sign_in("quantri"), "quan_tri")
    _field(at, "Tên tài khoản mới").input("thuky")
    _field(at, "Mật khẩu ban đầu").input("matkhau1-dai-hon")
    at.selectbox(key="adm_add_role").select("staff")
    _button(at, "Tạo tài khoản").click().run()
    assert not at.exception and not at.error
    con = store.connect(db)
    assert auth.authenticate(con, "thuky", "matkhau1-dai-hon").role == "staff"
    at.run()
    log = next(d.value for d in at.dataframe if "Thao tác" in d.value.columns)
    assert "Tạo tài khoản" in set(log["Thao tác"])
    # change the role through the edit form
    at.selectbox(key="adm_edit_user").select("thuky").run()
    at.selectbox(key="adm_role_thuky").select("council")
    _button(at, "Lưu thay đổi").click().run()
    assert not at.exception and not at.error
    assert auth.authenticate(con, "thuky", "matkhau1-dai-hon").role == "council"


def test_admin_cannot_lock_themselves_out(db):
    at = page(sign_in("quantri"), "quan_tri")
    at.selectbox(key="adm_edit_user").select("quantri").run()
    at.selectbox(key="adm_role_quantri").select("leader")
    _button(at, "Lưu thay đổi").click().run()
    assert any("Không thể tự bỏ quyền" in e.value for e in at.error)
    assert auth.users(store.connect(db)).set_index("username").loc["quantri", "role"] == "admin"
