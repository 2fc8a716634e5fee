"""Every role signs in, sees only its pages, and every page it may use renders without an error.

Real headless Chromium against `streamlit run app.py` on a temporary demo database
(conftest.py). Screenshots: test-artifacts/browser/<role>-<page>.png.
"""

from __future__ import annotations

import pytest
import st_harness as h
from playwright.sync_api import expect

ROLES = ["leader", "council", "staff", "admin"]


def _visit(page, path: str) -> None:
    h.open_page(page, path)
    h.assert_no_exception(page, f"{path}")


@pytest.mark.parametrize("role", ROLES)
def test_role_sees_its_pages_and_each_renders(app_server, page, role):
    h.sign_in(page, app_server.url, h.ROLE_USERS[role])
    h.assert_no_exception(page, "after sign-in")
    links = h.nav_paths(page)
    allowed = {p for p, roles in h.PAGES.items() if role in roles}
    forbidden = set(h.PAGES) - allowed
    assert allowed <= set(links), f"{role}: missing pages {sorted(allowed - set(links))}; links {links}"
    assert not forbidden & set(links), f"{role} must not see {sorted(forbidden & set(links))}"
    extra = [p for p in links if p not in h.PAGES]   # pages added since (e.g. mo-hinh): visit them too
    for path in [p for p in h.PAGES if p in allowed] + extra:
        _visit(page, path)
        text = h.main_text(page)
        assert len(text.strip()) > 20, f"{role}/{path} looks empty: {text!r}"
        h.screenshot(page, f"{role}-{path}")
    assert not page.console_errors, f"JavaScript errors: {page.console_errors}"


def test_sign_in_page_names_the_demo_accounts_and_refuses_a_wrong_password(app_server, page):
    h.goto(page, app_server.url)
    h.assert_no_exception(page, "sign-in page")
    h.screenshot(page, "sign-in")
    text = h.main_text(page)
    assert "lanhdao" in text and "demo" in text, "a demo database's sign-in page names its accounts"
    page.get_by_label("Tên đăng nhập").fill("lanhdao")
    page.get_by_label("Mật khẩu").fill("sai-mat-khau")
    h.after_rerun(page, lambda: page.get_by_role("button", name="Đăng nhập").click())
    h.assert_no_exception(page, "wrong password")
    assert not h.signed_in(page)
    assert page.locator("[data-testid='stAlert'], [data-testid='stAlertContainer']").count() > 0, \
        "a refused sign-in says so"
    h.screenshot(page, "sign-in-refused")


def test_leader_cannot_open_a_forbidden_page_by_its_url(app_server, page):
    h.sign_in(page, app_server.url, h.ROLE_USERS["leader"])
    for path in ("trong-so", "nhap-du-lieu", "quan-tri"):
        h.goto(page, f"{app_server.url}/{path}")
        h.assert_no_exception(page, f"leader → {path}")
        assert page.get_by_role("button", name="Lưu bộ trọng số").count() == 0
        assert page.get_by_role("button", name="Xác nhận nhập").count() == 0
        assert page.locator("[data-testid='stFileUploaderDropzoneInput']").count() == 0
        assert path not in h.nav_paths(page)


def test_stays_signed_in_across_a_reload(app_server, page):
    h.sign_in(page, app_server.url, h.ROLE_USERS["council"])
    h.open_page(page, "xep-hang")
    page.reload(wait_until="domcontentloaded")
    h.wait_ready(page)
    h.assert_no_exception(page, "after reload")
    assert h.signed_in(page), "a reload must not sign the user out"
    assert page.get_by_label("Mật khẩu", exact=True).count() == 0   # the sign-in field, not "Đổi mật khẩu"
    assert "trong-so" in h.nav_paths(page), "still signed in as the council after the reload"
    h.screenshot(page, "after-reload")


def test_sign_out_returns_to_the_sign_in_form(app_server, page):
    h.sign_in(page, app_server.url, h.ROLE_USERS["leader"])
    h.after_rerun(page, lambda: page.get_by_role("button", name="Đăng xuất").first.click())
    page.get_by_label("Tên đăng nhập").wait_for()
    # the sign-in form may appear while the signed-in sidebar (stale, from the run before) is still drawn
    expect(page.get_by_role("button", name="Đăng xuất")).to_have_count(0, timeout=10_000)
    assert not h.signed_in(page)
    page.reload(wait_until="domcontentloaded")
    h.wait_ready(page)
    assert not h.signed_in(page), "after signing out a reload must not sign back in"


def test_shared_profile_link_opens_the_profile_after_sign_in(app_server, page, upload_case):
    # the unit the upload test raises; here, on the untouched read-mostly server, at its old total
    url = f"{app_server.url}/ho-so?unit={upload_case.unit_code}&period={upload_case.period}"
    h.goto(page, url)
    if not h.signed_in(page):
        h.sign_in(page, None, h.ROLE_USERS["leader"])
    h.assert_no_exception(page, "shared profile link")
    text = h.main_text(page)
    assert upload_case.unit_name in text, f"the profile of {upload_case.unit_name} opens; page says {text[:400]!r}"
    assert "unit=" in page.url and upload_case.unit_code in page.url, "the URL still carries the unit"
    h.screenshot(page, "shared-profile-link")


def test_period_filter_reruns_and_redraws_the_ranking(app_server, page):
    h.sign_in(page, app_server.url, h.ROLE_USERS["leader"])
    h.open_page(page, "xep-hang")
    options = h.select_options(page, "Kỳ đánh giá")
    assert len(options) >= 2, options
    page.locator("[data-testid='stDataFrame']").first.wait_for()
    before = h.grid_signature(page)
    target = next(o for o in options if "2023" in o)
    h.select_option(page, "Kỳ đánh giá", target)
    h.assert_no_exception(page, "period change")
    h.wait_grid_change(page, before)
    h.screenshot(page, "ranking-2023")


def test_ranking_search_filters_as_one_types(app_server, page):
    """The search box commits after a pause: no Enter, and no accents needed."""
    h.sign_in(page, app_server.url, h.ROLE_USERS["leader"])
    h.open_page(page, "xep-hang")
    page.locator("[data-testid='stDataFrame']").first.wait_for()
    before = h.grid_signature(page)
    page.get_by_role("searchbox", name="Tìm đơn vị").first.press_sequentially("duc dong", delay=40)
    page.get_by_text("1 đơn vị đang hiển thị").first.wait_for(timeout=15_000)
    h.wait_grid_change(page, before)
    h.assert_no_exception(page, "live search")
    # the grid's accessible table may lag its canvas by a frame: wait for the row, then check it is alone
    expect(page.locator("[data-testid='stDataFrame']").first).to_contain_text("Xã Đức Đồng", timeout=10_000)
    assert "Xã Đức Đồng" in h.grid_text(page)
    h.screenshot(page, "ranking-search-duc-dong")


def test_ranking_chart_tab_draws_the_leaders_and_follows_a_filter(app_server, page):
    """The chart tab is drawn only when opened (lazy tabs); it then redraws on a filter change."""
    h.sign_in(page, app_server.url, h.ROLE_USERS["leader"])
    h.open_page(page, "xep-hang")
    page.locator("[data-testid='stDataFrame']").first.wait_for()
    assert page.locator(h.PLOTLY_CHART).count() == 0, "the chart is drawn while its tab is closed"
    h.after_rerun(page, lambda: page.get_by_role("tab", name="Biểu đồ các đơn vị dẫn đầu").click())
    page.locator(h.PLOTLY_CHART).first.wait_for()
    page.wait_for_function(f"() => ({h._CHART_SIG_JS})(0) !== null")
    before = h.chart_signature(page)
    assert "đơn vị điểm cao nhất" in before and before.count("(") >= 10, before
    assert page.locator("[data-testid='stDataFrame']").count() == 0, "the grid is drawn under the chart tab"
    box = page.get_by_role("combobox", name="Tỉnh, thành phố").first
    h.after_rerun(page, lambda: (box.click(), page.get_by_role("option", name="Hà Tĩnh", exact=True).first.click()))
    page.keyboard.press("Escape")
    page.wait_for_function(f"(b) => {{ const s = ({h._CHART_SIG_JS})(0); return s !== null && s !== b; }}",
                           arg=before, timeout=10_000)
    after = h.chart_signature(page)
    labels = [t for t in after.split("|") if t.endswith(")")]
    assert labels and all(t.endswith("(Hà Tĩnh)") for t in labels), after
    h.assert_no_exception(page, "chart tab")
    h.screenshot(page, "ranking-chart-ha-tinh")
    assert not page.console_errors, f"JavaScript errors: {page.console_errors}"


def test_first_visit_after_start_may_be_a_deep_link(cold_server, page, upload_case):
    """A leader opens a shared link right after the server (re)started: no 'Page not found'."""
    url = f"{cold_server.url}/ho-so?unit={upload_case.unit_code}&period={upload_case.period}"
    h.goto(page, url)
    h.sign_in(page, None, h.ROLE_USERS["leader"])
    assert upload_case.unit_name in h.main_text(page)
