"""Browser fixtures: a temporary demo database, `streamlit run app.py` on a free port, Chromium.

Every test here is marked ``browser`` and runs in CI (scripts/test.sh installs Debian's
chromium when it is missing); nothing is skipped. Screenshots go to test-artifacts/browser/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import st_harness as h

pytestmark = pytest.mark.browser

# the dashboard under test (overridable only to try the harness against another app)
APP = Path(os.environ.get("DANVAN_BROWSER_APP") or h.ROOT / "app.py")


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.timeout(240))


def _danvan(*args: str) -> None:
    exe = Path(sys.executable).with_name("danvan")
    cmd = [str(exe), *args] if exe.exists() else [sys.executable, "-m", "danvan_scoring.cli", *args]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)


@pytest.fixture(scope="session")
def demo_db_file(tmp_path_factory) -> Path:
    """A pristine demo database made by the CLI (`danvan demo --db …`); copy it, never write it."""
    path = tmp_path_factory.mktemp("browser-demo") / "demo.duckdb"
    _danvan("demo", "--db", str(path))
    return path


def _copy_db(src: Path, dst_dir: Path) -> Path:
    dst = dst_dir / "danvan.duckdb"
    shutil.copy(src, dst)
    return dst


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance):
    shutil.rmtree(h.ARTIFACTS / "browser", ignore_errors=True)   # the screenshots of this run only
    b = h.launch_browser(playwright_instance)
    yield b
    b.close()


def _server(demo_db_file, tmp_path_factory, browser, name: str, warm: bool = True):
    d = tmp_path_factory.mktemp(name)
    srv = h.StreamlitServer(APP, db=_copy_db(demo_db_file, d), log_dir=h.ARTIFACTS / "logs")
    srv.start()
    try:
        if warm:   # one visit to the main page first (see test_first_visit_after_start_may_be_a_deep_link)
            ctx = h.new_context(browser)
            h.goto(ctx.new_page(), srv.url)
            ctx.close()
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def app_server(demo_db_file, tmp_path_factory, browser):
    """The dashboard for read-mostly tests (its own copy of the demo database)."""
    yield from _server(demo_db_file, tmp_path_factory, browser, "browser-app")


@pytest.fixture(scope="module")
def write_server(demo_db_file, tmp_path_factory, browser):
    """A dashboard whose database the module's tests write to; stop() it to read the file."""
    yield from _server(demo_db_file, tmp_path_factory, browser, "browser-write")


@pytest.fixture
def cold_server(demo_db_file, tmp_path_factory, browser):
    """A dashboard nobody has visited since it started."""
    yield from _server(demo_db_file, tmp_path_factory, browser, "browser-cold", warm=False)


@pytest.fixture
def page(browser, request):
    ctx = h.new_context(browser)
    pg = ctx.new_page()
    console_errors: list[str] = []
    pg.on("pageerror", lambda exc: console_errors.append(str(exc)))
    pg.console_errors = console_errors
    yield pg
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        try:
            h.screenshot(pg, f"FAILED-{request.node.name}")
        except Exception:  # noqa: BLE001 — a failure screenshot must not hide the failure
            pass
    ctx.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)
    if rep.failed:   # the server log holds the traceback the page hides (showErrorDetails = "none")
        for name in ("app_server", "write_server", "cold_server"):
            srv = item.funcargs.get(name) if hasattr(item, "funcargs") else None
            if srv is not None:
                rep.sections.append((f"{name} log", srv.log_tail()))


@pytest.fixture(scope="session")
def upload_case(demo_db_file):
    """The CSV the upload test sends and the library's expected result (see cases.py)."""
    import cases

    return cases.upload_case(demo_db_file)
