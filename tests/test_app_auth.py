"""Dashboard shell (AppTest): sign-in, sign-out, navigation built per role, role gating."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from apptest_support import button as _button
from apptest_support import danvan_db_env
from apptest_support import field as _field
from streamlit.testing.v1 import AppTest

from danvan_scoring import auth, batches, periods, permissions, store

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
VIEW_PAGES = ["tong_quan", "xep_hang", "so_sanh", "ho_so", "mo_hinh", "bao_cao", "tien_do"]   # + progress
ALL_PAGES = VIEW_PAGES + ["trong_so", "nhap_du_lieu", "quan_tri", "khen_thuong", "tu_danh_gia", "tham_dinh"]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory, demo_db_template):
    path = tmp_path_factory.mktemp("auth") / "demo.duckdb"
    shutil.copy(demo_db_template, path)  # the session's demo DB, built once (conftest)
    with danvan_db_env(path):
        yield path




def sign_in(username: str, password: str = "demo") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    _field(at, "Tên đăng nhập").input(username)
    _field(at, "Mật khẩu").input(password)
    _button(at, "Đăng nhập").click().run()
    return at


def nav_pages(at) -> set[str]:
    """Page files st.navigation registered in this session."""
    return {Path(info["script_path"]).stem.replace("-", "_") for info in at._registered_pages.values() if info.get("script_path")}


def test_sign_in_page_names_demo_accounts(demo_db):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Đăng nhập"]
    assert _field(at, "Mật khẩu").proto.type == _field(at, "Mật khẩu").proto.PASSWORD
    assert _field(at, "Tên đăng nhập").value == ""
    info = " ".join(i.value for i in at.info)
    for name in ("lanhdao", "hoidong", "canbo", "quantri", "demo"):
        assert name in info
    assert any("Dữ liệu minh họa" in m.value for m in at.markdown)
    assert nav_pages(at) == set()  # signed out: no dashboard page is registered


def test_wrong_password_fails(demo_db):
    at = sign_in("lanhdao", "sai-mat-khau")
    assert not at.exception
    assert "actor" not in at.session_state
    assert any("không đúng" in e.value for e in at.error)
    assert [t.value for t in at.title] == ["Đăng nhập"]


def test_right_password_signs_in_and_out(demo_db):
    at = sign_in("lanhdao")
    assert not at.exception
    assert at.session_state["actor"].role == "leader"
    assert [t.value for t in at.title] == ["Tổng quan"]
    assert any("lanhdao" in m.value for m in at.sidebar.markdown)
    token = at.session_state["token"]
    con = store.connect(demo_db)
    assert auth.resume_session(con, token) is not None  # what the cookie carries across a reload
    _button(at, "Đăng xuất").click().run()
    assert not at.exception
    assert "actor" not in at.session_state
    assert [t.value for t in at.title] == ["Đăng nhập"]
    assert auth.resume_session(con, token) is None  # the session is gone, not just forgotten


@pytest.mark.parametrize("username, pages", [
    ("lanhdao", set(VIEW_PAGES)),
    ("hoidong", set(VIEW_PAGES) | {"trong_so", "khen_thuong", "tham_dinh"}),
    ("canbo", set(VIEW_PAGES) | {"nhap_du_lieu", "tu_danh_gia", "tham_dinh"}),
    ("quantri", set(ALL_PAGES)),
])
def test_navigation_per_role(demo_db, username, pages):
    at = sign_in(username)
    assert nav_pages(at) == pages


@pytest.mark.parametrize("page", ["trong_so", "nhap_du_lieu", "quan_tri", "khen_thuong"])
def test_leader_cannot_switch_to_write_pages(demo_db, page):
    at = sign_in("lanhdao")
    with pytest.raises(ValueError):
        at.switch_page(f"pages/{page.replace('_', '-')}.py")
    at.switch_page("pages/xep-hang.py").run()  # the allowed pages still work
    assert [t.value for t in at.title] == ["Xếp hạng"]


def test_library_refuses_a_leaders_writes(demo_db):
    from danvan_scoring import weights
    from danvan_scoring.ingest import import_file

    con = store.connect(demo_db)
    leader = permissions.Actor("lanhdao", "leader")
    fw = periods.framework_for_period(con, "2025")
    with pytest.raises(permissions.PermissionDenied):
        permissions.require(leader, "weights")
    with pytest.raises(permissions.PermissionDenied):
        weights.save_profile(con, weights.default_profile(fw).model_copy(update={"name": "x"}), fw, actor=leader)
    with pytest.raises(permissions.PermissionDenied):
        import_file(con, b"unit_code,period,criterion_code,score,stage\n18304,2025,A3,1,appraised\n", "a.csv",
                    actor=leader)
    with pytest.raises(permissions.PermissionDenied):
        batches.undo_batch(con, 1, actor=leader)


def test_council_member_without_chair_cannot_mark_official(demo_db):
    con = store.connect(demo_db)
    auth.add_user(con, "uyvien", "council", "matkhau1-dai-hon", actor=auth.CLI_ACTOR)
    at = sign_in("uyvien", "matkhau1-dai-hon")
    at.switch_page("pages/trong-so.py").run()
    assert not at.exception
    assert not [b for b in at.button if b.label.startswith("Chọn làm chính thức")]
    assert any("Chủ tịch" in c.value for c in at.caption)


def test_disabled_account_is_signed_out_at_once(demo_db):
    con = store.connect(demo_db)
    auth.add_user(con, "tamthoi", "leader", "matkhau1-dai-hon", actor=auth.CLI_ACTOR)
    at = sign_in("tamthoi", "matkhau1-dai-hon")
    assert at.session_state["actor"].username == "tamthoi"
    auth.set_role(con, "tamthoi", "leader", actor=permissions.CLI_ACTOR, active=False)
    at.run()
    assert [t.value for t in at.title] == ["Đăng nhập"]


# --------------------------------------------------------------------------- identity provider (st.login)
AUTH_SECRETS = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                         "client_id": "danvan", "client_secret": "bi-mat",
                         "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}}


def provider_app(user: dict | None, **sections) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets.update(AUTH_SECRETS, **sections)
    at.user = {"is_logged_in": False} if user is None else {"is_logged_in": True, **user}
    return at.run()


def test_without_auth_secrets_there_is_no_provider_button(demo_db):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert "Đăng nhập bằng tài khoản cơ quan" not in {b.label for b in at.button}


def test_provider_button_shown_when_auth_is_configured(demo_db):
    at = provider_app(None)
    assert not at.exception
    assert "Đăng nhập bằng tài khoản cơ quan" in {b.label for b in at.button}
    assert _field(at, "Tên đăng nhập")          # local accounts still work beside it


@pytest.mark.parametrize("claims, role, pages", [
    ({"email": "an@tinh.gov.vn", "danvan_role": "leader"}, "leader", set(VIEW_PAGES)),
    ({"email": "hd@tinh.gov.vn", "danvan_role": ["council"], "danvan_chair": True}, "council",
     set(VIEW_PAGES) | {"trong_so", "khen_thuong", "tham_dinh"}),
])
def test_a_provider_user_gets_the_role_of_the_claim(demo_db, claims, role, pages):
    at = provider_app(claims)
    assert not at.exception
    actor = at.session_state["actor"]
    assert (actor.username, actor.role) == (claims["email"], role)
    assert actor.is_chair == bool(claims.get("danvan_chair"))
    assert nav_pages(at) == pages
    assert any(claims["email"] in m.value for m in at.sidebar.markdown)


def test_a_provider_user_without_a_role_is_refused_in_vietnamese(demo_db):
    at = provider_app({"email": "khach@tinh.gov.vn", "groups": ["x"]})
    assert not at.exception and "actor" not in at.session_state
    assert nav_pages(at) == set()
    assert any("chưa được cấp vai trò" in e.value for e in at.error)
    assert "Thoát tài khoản cơ quan này" in {b.label for b in at.button}


def test_role_claim_name_is_configurable_and_checked(demo_db):
    at = provider_app({"sub": "u-17", "nhom": "staff"}, danvan_oidc={"role_claim": "nhom"})
    assert at.session_state["actor"].role == "staff" and at.session_state["actor"].username == "u-17"
    at = provider_app(None, danvan_oidc={"vai_tro": "x"})
    assert not at.exception
    assert any("danvan_oidc" in e.value and "vai_tro" in e.value for e in at.error)
    assert _field(at, "Tên đăng nhập")          # a wrong provider section leaves local sign-in usable


def _all_text(at) -> str:
    parts = [e.value for kind in ("title", "markdown", "caption", "error", "warning", "info", "exception")
             for e in getattr(at, kind)]
    return " ".join(str(p) for p in parts)


@pytest.mark.parametrize("build_flag", [None, "1"])
def test_missing_database_is_an_error_page_not_a_demo(tmp_path, monkeypatch, caplog, build_flag):
    # a typo in DANVAN_DB (even with start.sh's flag, which holds for the default path only)
    missing = tmp_path / "khong-co" / "danvan.duckdb"
    if build_flag:
        monkeypatch.setenv("DANVAN_BUILD_DEMO", build_flag)
    with danvan_db_env(missing), caplog.at_level("ERROR", logger="danvan.app"):
        at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert not missing.exists() and not missing.parent.exists()   # nothing built, no folder made
    assert [t.value for t in at.title] == ["Không mở được cơ sở dữ liệu"]
    text = _all_text(at)
    assert "Không mở được cơ sở dữ liệu; báo quản trị hệ thống." in text and "Mã lỗi:" in text
    assert str(missing) not in text and "khong-co" not in text and "danvan.duckdb" not in text
    assert not at.text_input and not at.button   # no sign-in form, no demo accounts listed
    error_id = at.error[0].value.rsplit("Mã lỗi: ", 1)[1]
    assert any(str(missing) in r.getMessage() and error_id in r.getMessage() for r in caplog.records)


def test_sign_in_page_renders_no_file_uploader(demo_db):
    # an uploader rendered before sign-in would let any visitor's session post files (issue 11.3)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert [t.value for t in at.title] == ["Đăng nhập"]
    assert not at.get("file_uploader")


def _submit(at, label):
    next(b for b in at.button if b.label == label).click().run()


def test_a_user_changes_their_own_password_in_the_sidebar(demo_db):
    con = store.connect(demo_db)
    try:
        auth.add_user(con, "thuky.doi", "staff", "mat-khau-cu-12", actor=permissions.Actor("quantri", "admin"))
    finally:
        con.close()
    at = sign_in("thuky.doi", "mat-khau-cu-12")
    _field(at, "Mật khẩu hiện tại").input("mat-khau-cu-12")
    _field(at, "Mật khẩu mới").input("ngan")
    _field(at, "Nhập lại mật khẩu mới").input("ngan")
    _submit(at, "Đổi mật khẩu")
    assert any("ít nhất 12 ký tự" in e.value for e in at.error)
    _field(at, "Mật khẩu hiện tại").input("mat-khau-cu-12")
    _field(at, "Mật khẩu mới").input("mat-khau-moi-34")
    _field(at, "Nhập lại mật khẩu mới").input("mat-khau-khac-56")
    _submit(at, "Đổi mật khẩu")
    assert any("không giống nhau" in e.value for e in at.error)
    _field(at, "Mật khẩu hiện tại").input("mat-khau-cu-12")
    _field(at, "Mật khẩu mới").input("mat-khau-moi-34")
    _field(at, "Nhập lại mật khẩu mới").input("mat-khau-moi-34")
    _submit(at, "Đổi mật khẩu")
    assert any("Đã đổi mật khẩu" in s.value for s in at.success)
    con = store.connect(demo_db)
    try:
        assert auth.authenticate(con, "thuky.doi", "mat-khau-moi-34", sleep=lambda s: None) is not None
        assert auth.authenticate(con, "thuky.doi", "mat-khau-cu-12", sleep=lambda s: None) is None
    finally:
        con.close()


def test_an_admin_resets_a_password_on_quan_tri(demo_db):
    con = store.connect(demo_db)
    try:
        auth.add_user(con, "thuky.quen", "staff", "mat-khau-cu-12", actor=permissions.Actor("quantri", "admin"))
    finally:
        con.close()
    at = sign_in("quantri")
    at.switch_page("pages/quan-tri.py").run()
    next(s for s in at.selectbox if s.label == "Tài khoản").select("thuky.quen").run()
    next(t for t in at.text_input if t.key == "adm_reset_pw").input("dat-lai-moi-78")
    _submit(at, "Đặt lại mật khẩu")
    assert not at.exception and any("Đã đặt lại mật khẩu" in s.value for s in at.success)
    con = store.connect(demo_db)
    try:
        assert auth.authenticate(con, "thuky.quen", "dat-lai-moi-78", sleep=lambda s: None) is not None
    finally:
        con.close()
