"""Bảng điều khiển chấm điểm "Dân vận khéo" — the Streamlit entry point.

Run: ``danvan serve`` (or ``streamlit run app.py``; the database is ``$DANVAN_DB`` or
``data/danvan.duckdb``, built with demo data on first run).

Every run: open a cursor, find who is signed in (session state, else the session cookie),
and hand ``st.navigation`` only the pages that person's role may use. A signed-out visitor
gets the sign-in form on whatever path they opened, so a shared link such as
``/ho-so?unit=18304&period=2025`` lands on that page right after signing in.
"""

from __future__ import annotations

import functools
import sys
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import streamlit as st  # noqa: E402

from danvan_scoring import auth, oidc, store  # noqa: E402
from pages import common  # noqa: E402

st.set_page_config(page_title="Dân vận khéo — chấm điểm", page_icon=":material/how_to_vote:", layout="wide",
                   initial_sidebar_state="expanded")


# --------------------------------------------------------------------------- session
def _set_cookie_script(token: str | None) -> str:
    return common.cookie_script(common.COOKIE, token, int(auth.SESSION_TTL.total_seconds()))


NEXT_COOKIE = "danvan_next"   # the page a visitor opened before leaving for the identity provider


def _next_cookie_script(target: str | None) -> str:
    return common.cookie_script(NEXT_COOKIE, urllib.parse.quote(target, safe="") if target else None, 600)


def _cookie(name: str) -> str | None:
    """A cookie the browser sent with this session, or None (also without a request: tests)."""
    try:
        value = st.context.cookies.get(name)
    except Exception:
        return None
    return value if isinstance(value, str) and value else None


def _opened_target() -> str | None:
    """'/ho-so?unit=…&period=…' when this run is for a dashboard page with its query, else None."""
    try:
        path = urllib.parse.urlsplit(st.context.url or "").path.strip("/").rsplit("/", 1)[-1]
    except Exception:  # no request context (tests)
        return None
    if path not in common.PAGES:
        return None
    query = urllib.parse.urlencode(st.query_params.to_dict())
    return f"{path}?{query}" if query else path


def _next_target() -> tuple[str, dict[str, str]] | None:
    """(page path, query) saved before the provider sign-in, from its cookie."""
    raw = _cookie(NEXT_COOKIE)
    if raw is None:
        return None
    parts = urllib.parse.urlsplit(urllib.parse.unquote(raw))
    path = parts.path.strip("/")
    if path not in common.PAGES:
        return None
    return path, dict(urllib.parse.parse_qsl(parts.query))


def current_actor(con) -> auth.Actor | None:
    """Who is signed in: checked against the sessions table on every run (a disabled account
    or a changed role takes effect at once)."""
    token = st.session_state.get("token")
    if token is None and not st.session_state.get("signed_out"):
        token = _cookie(common.COOKIE)
    actor = auth.resume_session(con, token) if token else None
    if actor is None:
        st.session_state.pop("actor", None)
        st.session_state.pop("token", None)
        return provider_actor()
    st.session_state["actor"] = actor
    st.session_state["token"] = token
    st.session_state.pop("via_oidc", None)
    return actor


def provider_actor() -> auth.Actor | None:
    """Someone signed in through the identity provider (st.login): their role from the claims,
    read again on every run. A refusal is kept for the sign-in page to explain."""
    st.session_state.pop("via_oidc", None)
    try:
        settings = common.oidc_settings()
        if settings is None or not st.user.is_logged_in:
            return None
        actor = oidc.actor_from_claims(st.user.to_dict(), settings)
    except store.StoreError as exc:   # a refusal, or a wrong [danvan_oidc] section
        st.session_state["oidc_problem"] = str(exc)
        return None
    st.session_state.pop("oidc_problem", None)
    st.session_state.update(actor=actor, via_oidc=True)
    return actor


def sign_out(con) -> bool:
    """Forget the session; True when the browser is sent to the provider's sign-out instead of a
    plain rerun (a rerun right after st.logout could drop its redirect)."""
    via_provider = st.session_state.pop("via_oidc", False)
    auth.end_session(con, st.session_state.get("token"))
    for k in ("actor", "token"):
        st.session_state.pop(k, None)
    st.session_state["signed_out"] = True
    st.session_state["_clear_cookie"] = True
    if via_provider:
        st.logout()   # the browser goes to /auth/logout: cookie dropped, provider's end-session, back
    return via_provider


# --------------------------------------------------------------------------- sign-in page
@common.guarded
def signin_page() -> None:
    con = common.db()
    left, mid, right = st.columns([1, 1.4, 1])
    with mid:
        st.title("Đăng nhập")
        st.caption("Hệ thống chấm điểm công tác dân vận và phong trào thi đua “Dân vận khéo”")
        common.demo_badge()
        with st.form("signin", border=True):
            username = st.text_input("Tên đăng nhập", autocomplete="username")
            password = st.text_input("Mật khẩu", type="password", autocomplete="current-password")
            submitted = st.form_submit_button("Đăng nhập", type="primary", width="stretch")
        if submitted:
            actor = auth.authenticate(con, username, password, client=st.context.ip_address)
            if actor is None:
                st.error("Tên đăng nhập hoặc mật khẩu không đúng.", icon=":material/lock:")
            else:
                token = auth.create_session(con, actor)
                st.session_state.update(actor=actor, token=token, signed_out=False, _set_cookie=True,
                                        _clear_next=True)   # the page is already the one opened
                st.session_state.pop("_clear_cookie", None)
                st.rerun()
        provider_signin()
        if common.is_demo():
            st.info(
                "**Cơ sở dữ liệu minh họa.** Tài khoản mẫu, mật khẩu đều là **demo**:\n"
                "- `lanhdao` — Lãnh đạo (xem kết quả)\n"
                "- `hoidong` — Hội đồng Thi đua - Khen thưởng (+ trọng số)\n"
                "- `canbo` — Cán bộ nhập liệu (+ nhập dữ liệu)\n"
                "- `quantri` — Quản trị (toàn quyền)"
                + "".join(f"\n- `{name}` — Cán bộ đơn vị {code} (hồ sơ tự đánh giá của đơn vị mình)"
                          for name, code in auth.demo_unit_accounts(con).items()),
                icon=":material/info:")
        elif auth.users(con).empty:
            st.warning("Chưa có tài khoản nào. Quản trị viên tạo tài khoản đầu tiên bằng lệnh:\n\n"
                       "`danvan user add TEN --role admin`", icon=":material/person_add:")


def provider_signin() -> None:
    """The identity-provider button, when [auth] is configured; why a provider user was refused."""
    try:
        settings = common.oidc_settings()
    except store.StoreError as exc:
        st.error(f"Không dùng được đăng nhập qua nhà cung cấp định danh: {exc}", icon=":material/badge:")
        return
    if settings is None:
        return
    problem = st.session_state.get("oidc_problem")
    if problem and st.user.is_logged_in:
        st.error(problem, icon=":material/no_accounts:")
        if st.button("Thoát tài khoản cơ quan này", icon=":material/logout:", key="oidc_logout"):
            st.session_state.pop("oidc_problem", None)
            st.logout()
            st.stop()
        return
    target = _opened_target()
    if target:   # the provider returns to the app's root: remember the shared link for after it
        st.iframe(_next_cookie_script(target), height=1)
    st.caption("hoặc")
    if st.button(settings.button_label, icon=":material/badge:", key="oidc_login", width="stretch"):
        st.login(settings.provider) if settings.provider else st.login()


# --------------------------------------------------------------------------- navigation
def refusal_page(title: str) -> None:
    st.title("Không có quyền truy cập")
    st.warning(f"Tài khoản của bạn không được dùng trang **{title}**. Nếu cần, hãy đề nghị quản trị viên "
               "cấp quyền.", icon=":material/block:")
    st.page_link(common.PAGES["tong-quan"][0], label="Về trang Tổng quan", icon=":material/dashboard:")


def _pages_for(actor: auth.Actor) -> tuple[dict[str, list], dict[str, st.Page]]:
    objs: dict[str, st.Page] = {}
    for path, (file, title, icon, perm) in common.PAGES.items():
        if actor.can(perm, actor.unit_code):      # a unit account: for its own unit
            objs[path] = st.Page(file, title=title, icon=icon, url_path=path)
    sections = {
        "Kết quả": [objs[p] for p in ("tong-quan", "xep-hang", "so-sanh", "ho-so", "mo-hinh") if p in objs],
        "Nghiệp vụ": [objs[p] for p in ("tu-danh-gia", "tien-do", "tham-dinh", "trong-so", "nhap-du-lieu",
                                        "khen-thuong", "bao-cao") if p in objs],
        "Hệ thống": [objs[p] for p in ("quan-tri",) if p in objs],
    }
    return {k: v for k, v in sections.items() if v}, objs


def _sidebar(con, actor: auth.Actor) -> None:
    with st.sidebar:
        st.markdown(f"**{auth.ROLES.get(actor.role, actor.role)}** · {common.md(actor.username)}")
        if common.is_demo():
            st.badge(common.DEMO_BADGE, icon=":material/science:", color="orange")
        if st.button("Đăng xuất", icon=":material/logout:", key="signout"):
            if sign_out(con):
                st.stop()
            st.rerun()
        common.guarded(_password_form)(con, actor)


def _password_form(con, actor: auth.Actor) -> None:
    """Change one's own password: the current one, then the new one twice (issue 11, point 7)."""
    with st.expander("Đổi mật khẩu", icon=":material/password:"), st.form("pw_change", clear_on_submit=True):
        old = st.text_input("Mật khẩu hiện tại", type="password", autocomplete="current-password")
        new = st.text_input("Mật khẩu mới", type="password", autocomplete="new-password",
                            help=f"Ít nhất {auth.MIN_PASSWORD_LENGTH} ký tự")
        again = st.text_input("Nhập lại mật khẩu mới", type="password", autocomplete="new-password")
        if st.form_submit_button("Đổi mật khẩu"):
            if new != again:
                st.error("Hai lần nhập mật khẩu mới không giống nhau; mật khẩu chưa được đổi.")
                return
            auth.change_password(con, actor.username, old, new)
            st.success("Đã đổi mật khẩu.", icon=":material/check_circle:")


DB_PROBLEM = "Không mở được cơ sở dữ liệu; báo quản trị hệ thống."


def _open_or_explain():
    """The cursor and who is signed in, or an error page. Nothing about the database file (its
    path, the driver's message) reaches the page: there is no sign-in without a database, so every
    reader is a possible stranger. The server log has the details under the error id shown."""
    try:
        con = common.open_run()
        return con, current_actor(con)
    except common.MissingDatabase as exc:
        error_id = common.new_error_id()
        common.log.error("database file %s does not exist; no demo is built for it (error id %s)", exc, error_id)
    except Exception as exc:  # locked, damaged or unreadable: say so, never a traceback
        error_id = common.new_error_id()
        common.log.exception("cannot open the database %s (error id %s)", common.db_path(), error_id)
        if "invalidated" in str(exc) or type(exc).__name__ == "FatalException":
            common._connection.clear()  # the next run opens the file afresh
    st.title("Không mở được cơ sở dữ liệu")
    st.error(f"{DB_PROBLEM} Mã lỗi: {error_id}", icon=":material/database:")
    st.stop()


def main() -> None:
    con, actor = _open_or_explain()
    if actor is None:
        # the sign-in form on every known path, so a shared link survives signing in
        signin = st.Page(signin_page, title="Đăng nhập", icon=":material/login:", url_path="dang-nhap",
                         default=True)
        hidden = [st.Page(signin_page, title="Đăng nhập", url_path=p, visibility="hidden") for p in common.PAGES]
        page = st.navigation([signin, *hidden], position="hidden")
        if st.session_state.pop("_clear_cookie", False):
            with st.sidebar:
                st.iframe(_set_cookie_script(None), height=1)
        page.run()
        return

    sections, objs = _pages_for(actor)

    def home() -> None:
        # back from the identity provider (it always returns to the root): the link opened before
        # (once: _clear_next also marks it used)
        nxt = _next_target() if st.session_state.get("via_oidc") and not st.session_state.get("_clear_next") else None
        if nxt and nxt[0] in objs:
            st.session_state["_clear_next"] = True
            st.switch_page(objs[nxt[0]], query_params=nxt[1] or None)
        st.switch_page(objs["tong-quan"])

    root = st.Page(home, title="Trang chủ", url_path="trang-chu", default=True, visibility="hidden")
    # a path the role may not use shows a refusal (the page itself is not registered), instead of
    # Streamlit's English "page not found" dialog
    refused = [st.Page(functools.partial(refusal_page, common.PAGES[p][1]), title="Không có quyền truy cập",
                       url_path=p, visibility="hidden") for p in common.PAGES if p not in objs]
    nav = _with_root(sections, root)
    nav[next(iter(nav))] += refused
    page = st.navigation(nav, position="sidebar", expanded=True)  # 13 pages for an admin: no "View more"
    _sidebar(con, actor)
    if st.session_state.get("_set_cookie"):
        with st.sidebar:  # stays until the next sign-out: rerendering the same frame does nothing
            st.iframe(_set_cookie_script(st.session_state["token"]), height=1)
    if st.session_state.get("_clear_next"):
        with st.sidebar:  # the saved link is used once
            st.iframe(_next_cookie_script(None), height=1)
    common.guarded(page.run)()


def _with_root(sections: dict[str, list], root) -> dict[str, list]:
    first = next(iter(sections))
    out = dict(sections)
    out[first] = [root, *out[first]]
    return out


common.guard_uploads()            # once per process: see pages/widgets.py, uploads
common.freeze_long_lived_heap()   # once per process (a no-op on later runs): see its docstring
with common.app_run():
    main()
