"""Sign-in through an identity provider (st.login, OIDC) in a real browser.

A local OpenID Connect provider (oidc-provider-mock, in a thread) knows three people by their
claims; the dashboard runs with an ``[auth]`` secrets file naming it. Each person clicks the
provider button, authorises on the provider's own page and comes back: the council member
with the chair flag gets the council's pages, a person without a role is refused in
Vietnamese, and signing out forgets the provider's sign-in.
"""

from __future__ import annotations

import urllib.parse

import httpx
import pytest
import st_harness as h
from conftest import APP, _copy_db

BUTTON = "Đăng nhập bằng tài khoản cơ quan"
PEOPLE = {
    "chutich@tinh.gov.vn": {"email": "chutich@tinh.gov.vn", "name": "Chủ tịch Hội đồng", "danvan_role": "council",
                            "danvan_chair": True},
    "khach@tinh.gov.vn": {"email": "khach@tinh.gov.vn", "name": "Khách"},
}


@pytest.fixture(scope="module")
def oidc_url():
    import oidc_provider_mock

    with oidc_provider_mock.run_server_in_thread() as server:
        url = f"http://localhost:{server.server_port}"
        for sub, claims in PEOPLE.items():
            r = httpx.put(f"{url}/users/{urllib.parse.quote(sub)}", json=claims, timeout=10)
            assert r.status_code == 204, r.text
        yield url


@pytest.fixture(scope="module")
def oidc_app(demo_db_file, tmp_path_factory, oidc_url):
    d = tmp_path_factory.mktemp("browser-oidc")
    secrets = d / "secrets.toml"

    def write_secrets(port: int) -> list[str]:
        secrets.write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            'cookie_secret = "mot-chuoi-bi-mat-du-dai-cho-cookie-0123456789"\n'
            'client_id = "danvan-dashboard"\n'
            'client_secret = "bi-mat"\n'
            f'server_metadata_url = "{oidc_url}/.well-known/openid-configuration"\n', encoding="utf-8")
        return ["--secrets.files", str(secrets)]

    srv = h.StreamlitServer(APP, db=_copy_db(demo_db_file, d), log_dir=h.ARTIFACTS / "logs",
                            args_for_port=write_secrets)
    srv.start()
    yield srv
    srv.stop()


def _through_provider(page, app_url: str, sub: str) -> None:
    h.goto(page, app_url)
    page.get_by_role("button", name=BUTTON).click()
    page.get_by_placeholder("sub").wait_for(timeout=30_000)      # the provider's own page
    page.get_by_placeholder("sub").fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{app_url}/**", timeout=30_000)
    h.wait_ready(page)


def _back_after_provider_logout(page, app_url: str) -> None:
    """st.logout ends the session at the provider too (its end-session page), which sends the
    browser back to the app's sign-in page."""
    page.wait_for_url("**/oauth2/end_session**", timeout=30_000)
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{app_url}/**", timeout=30_000)
    page.get_by_role("button", name=BUTTON).wait_for(timeout=30_000)


def test_council_chair_signs_in_through_the_provider_and_out_again(oidc_app, page):
    _through_provider(page, oidc_app.url, "chutich@tinh.gov.vn")
    page.get_by_role("button", name="Đăng xuất").first.wait_for(timeout=30_000)
    links = h.nav_paths(page)
    assert "trong-so" in links and "nhap-du-lieu" not in links and "quan-tri" not in links, links
    side = page.locator("[data-testid='stSidebar']").inner_text()
    assert "chutich@tinh.gov.vn" in side and "Hội đồng Thi đua - Khen thưởng" in side, side
    h.open_page(page, "trong-so")
    h.assert_no_exception(page, "weights page after provider sign-in")
    h.screenshot(page, "oidc-council-trong-so")

    page.reload()                                    # Streamlit's identity cookie keeps the sign-in
    page.get_by_role("button", name="Đăng xuất").first.wait_for(timeout=30_000)
    h.wait_ready(page)
    assert "chutich@tinh.gov.vn" in page.locator("[data-testid='stSidebar']").inner_text()
    page.get_by_role("button", name="Đăng xuất").first.click()
    _back_after_provider_logout(page, oidc_app.url)
    assert "Tên đăng nhập" in h.main_text(page) and not h.nav_paths(page)
    page.reload()                                    # and the identity cookie is gone
    page.get_by_role("button", name=BUTTON).wait_for(timeout=30_000)
    assert page.get_by_role("button", name="Đăng xuất").count() == 0
    assert not page.console_errors, page.console_errors


def test_a_person_without_a_role_is_refused(oidc_app, page):
    _through_provider(page, oidc_app.url, "khach@tinh.gov.vn")
    page.get_by_text("chưa được cấp vai trò").first.wait_for(timeout=30_000)
    assert page.get_by_role("button", name="Đăng xuất").count() == 0
    assert not h.nav_paths(page)
    h.screenshot(page, "oidc-refused")
    h.wait_ready(page)
    page.get_by_role("button", name="Thoát tài khoản cơ quan này").click()
    _back_after_provider_logout(page, oidc_app.url)
    assert page.get_by_text("chưa được cấp vai trò").count() == 0


def test_a_shared_link_survives_the_provider_sign_in(oidc_app, page, demo_db_file):
    """The provider returns to the app's root; the profile link opened before is where one lands."""
    import re

    from danvan_scoring import results, store

    con = store.connect(demo_db_file, read_only=True)   # the server holds its own copy
    try:
        res = results.period_results(con, "2024")
    finally:
        con.close()
    unit = res[res["rank"].notna()].iloc[7]
    h.goto(page, f"{oidc_app.url}/ho-so?unit={unit['unit_code']}&period=2024")
    page.get_by_role("button", name=BUTTON).wait_for(timeout=30_000)
    page.wait_for_timeout(300)      # the sign-in page's cookie frame has run
    page.get_by_role("button", name=BUTTON).click()
    page.get_by_placeholder("sub").fill("chutich@tinh.gov.vn")
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(r".*/ho-so\?.*unit=" + unit["unit_code"]), timeout=30_000)
    h.wait_ready(page)
    assert unit["unit_name"] in h.main_text(page)
    h.assert_no_exception(page, "profile after provider sign-in")
    h.goto(page, oidc_app.url)                 # used once: the root now opens the overview
    page.wait_for_url(re.compile(r".*/tong-quan"), timeout=30_000)
