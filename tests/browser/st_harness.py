"""Drive the real dashboard in headless Chromium: start `streamlit run`, sign in, wait on state.

Shared by the browser tests (tests/browser/) and the benchmarks (benchmarks/bench_ui.py).
Everything here is loopback only and bounded: every wait has a timeout.

Waiting follows Streamlit's own e2e suite: never a sleep, always a state —
``[data-testid='stApp']`` connected, its ``data-test-script-state`` back to ``notRunning``
and no ``stSkeleton``. An init script counts the script runs the page has seen, so a
wait after an action waits for *that* action's rerun, not for the state before it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from danvan_scoring import units

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
PYTHON = sys.executable

DEMO_PASSWORD = "demo"
ROLE_USERS = {"leader": "lanhdao", "council": "hoidong", "staff": "canbo", "admin": "quantri"}

# url path → roles that may use it (issue 3, "Roles and sign-in")
PAGES = {
    "tong-quan": {"leader", "council", "staff", "admin"},
    "xep-hang": {"leader", "council", "staff", "admin"},
    "so-sanh": {"leader", "council", "staff", "admin"},
    "ho-so": {"leader", "council", "staff", "admin"},
    "trong-so": {"council", "admin"},
    "nhap-du-lieu": {"staff", "admin"},
    "quan-tri": {"admin"},
    "khen-thuong": {"council", "admin"},
    "bao-cao": {"leader", "council", "staff", "admin"},
    "tu-danh-gia": {"staff", "admin"},            # and unit accounts (their own dossier)
    "tien-do": {"leader", "council", "staff", "admin"},
    "tham-dinh": {"council", "staff", "admin"},
}

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage",
]

# Counts script runs from the attribute changes of stApp; installed before any page script.
_RUN_COUNTER = """
(() => {
  if (window.__stObs) return;
  window.__stRuns = 0; window.__stDone = 0; window.__stLastDone = 0; window.__stState = null;
  const step = (s) => {   // one value of data-test-script-state, in order
    if (s === window.__stState) return;
    const prev = window.__stState;
    window.__stState = s;
    if (s === 'notRunning') { window.__stLastDone = performance.now(); if (prev !== null) window.__stDone += 1; }
    else if (prev === 'notRunning' || prev === 'initial' || prev === null) window.__stRuns += 1;
  };
  window.__stObs = new MutationObserver((muts) => {
    const app = muts.filter(m => m.target.getAttribute && m.target.getAttribute('data-testid') === 'stApp');
    // several changes may arrive in one callback: replay them from the recorded old values
    for (let i = 0; i < app.length; i++) {
      const next = i + 1 < app.length ? app[i + 1].oldValue
                                      : app[i].target.getAttribute('data-test-script-state');
      step(next);
    }
  });
  const start = () => {
    window.__stObs.observe(document.documentElement, {subtree: true, attributes: true, attributeOldValue: true,
                                                     attributeFilter: ['data-test-script-state']});
    const app = document.querySelector("[data-testid='stApp']");
    if (app) step(app.getAttribute('data-test-script-state'));
  };
  // a fast run may go running → notRunning within one React commit, so the DOM never shows
  // 'running': count the server's messages too (every rerun sends some)
  window.__wsIn = 0;
  const WS = window.WebSocket;
  const Counted = function (...args) {
    const ws = new WS(...args);
    ws.addEventListener('message', () => { window.__wsIn += 1; window.__wsLast = performance.now(); });
    return ws;
  };
  Counted.prototype = WS.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) Counted[k] = WS[k];
  window.WebSocket = Counted;
  document.addEventListener('pointerdown', () => { window.__stInput = performance.now(); }, true);
  document.addEventListener('keydown', () => { window.__stInput = performance.now(); }, true);
  if (document.documentElement) start(); else document.addEventListener('DOMContentLoaded', start);
})();
"""

_READY_JS = """
([minRuns, minMsgs]) => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app) return false;
  if (app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
  if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector("[data-testid='stSkeleton']")) return false;
  if ((window.__stRuns || 0) >= minRuns) return true;
  // the run was too quick for the DOM to show 'running': its messages came, then 150 ms of quiet
  return minMsgs > 0 && (window.__wsIn || 0) >= minMsgs && performance.now() - (window.__wsLast || 0) > 150;
}
"""


def free_port() -> int:
    """A free loopback port: the first free one of ``DANVAN_TEST_PORTS`` ("8630-8639") when set (a
    machine shared by several runs gives each its range), else any the system picks."""
    span = os.environ.get("DANVAN_TEST_PORTS")
    if span:
        lo, _, hi = span.partition("-")
        for port in range(int(lo), int(hi or lo) + 1):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
        raise RuntimeError(f"no free port in DANVAN_TEST_PORTS={span}")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_demo_db(path: Path, provinces: list[str] | None = None, seed: int = 2025) -> Path:
    """A demo database (the two demo provinces, or the given province codes; 3 periods)."""
    from danvan_scoring import demo, store

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = store.connect(path, create=True)
    try:
        if provinces == ["*"]:
            from danvan_scoring.bootstrap import init_connection

            init_connection(con, framework=demo.demo_framework())
            provinces = sorted(units.provinces(con)["province_code"].tolist())
        demo.fill_demo(con, seed=seed, provinces=provinces)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return path


@dataclass
class StreamlitServer:
    """`streamlit run APP` on a free loopback port with DANVAN_DB set; a context manager."""

    app: Path
    db: Path | None = None
    extra_args: list[str] = field(default_factory=list)
    # more arguments that depend on the port chosen at each start (e.g. a secrets file whose
    # st.login redirect URI must name it)
    args_for_port: Callable[[int], list[str]] | None = None
    env: dict[str, str] = field(default_factory=dict)
    log_dir: Path | None = None
    startup_timeout: float = 60.0
    attempts: int = 3
    cwd: Path = ROOT          # streamlit reads .streamlit/config.toml from here: the project's config
    port: int = 0
    proc: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self) -> None:
        self.port = free_port()
        env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        if self.db is not None:
            env["DANVAN_DB"] = str(self.db)
        cmd = [PYTHON, "-m", "streamlit", "run", str(self.app),
               "--server.headless", "true", "--server.port", str(self.port),
               "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none", "--server.runOnSave", "false", *self.extra_args,
               *(self.args_for_port(self.port) if self.args_for_port else [])]
        log_dir = self.log_dir or Path(tempfile.mkdtemp(prefix="st-log-"))
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"streamlit-{self.port}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=str(self.cwd), env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)

    def _healthy(self) -> bool:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        return True
            except OSError:
                pass
            time.sleep(0.2)   # polling a socket, not waiting on the page
        return False

    def start(self) -> "StreamlitServer":
        for _ in range(self.attempts):
            self._spawn()
            if self._healthy():
                return self
            self.stop()
        raise RuntimeError(f"streamlit did not start after {self.attempts} attempts; log:\n{self.log_tail()}")

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except (OSError, AttributeError):
            return ""

    def stop(self) -> None:
        p, self.proc = self.proc, None
        if p is not None and p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=5)
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# ------------------------------------------------------------------ browser
def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError("chromium not found: run scripts/test.sh (it installs Debian's chromium)")
    return path


def launch_browser(playwright):
    return playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)


def new_context(browser, *, width: int = 1440, height: int = 900):
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN",
                              timezone_id="Asia/Ho_Chi_Minh", accept_downloads=True)
    ctx.add_init_script(_RUN_COUNTER)
    ctx.set_default_timeout(30_000)
    return ctx


def runs(page) -> int:
    return page.evaluate("window.__stRuns || 0")


def messages(page) -> int:
    return page.evaluate("window.__wsIn || 0")


def wait_ready(page, min_runs: int = 1, timeout: float = 30_000, min_messages: int = 0) -> None:
    """Connected, script not running, no skeleton, and ``min_runs`` runs (or ``min_messages``
    server messages) seen."""
    page.wait_for_function(_READY_JS, arg=[min_runs, min_messages], timeout=timeout, polling="raf")


def after_rerun(page, action, timeout: float = 30_000) -> float:
    """Do ``action()``, wait for the rerun it causes to finish; return the elapsed seconds."""
    before, msgs = page.evaluate("[window.__stRuns || 0, window.__wsIn || 0]")
    t0 = time.perf_counter()
    action()
    wait_ready(page, before + 1, timeout, min_messages=msgs + 1)
    return time.perf_counter() - t0


# the dashboard catches page errors (pages/common.guarded) and shows this instead of a traceback
PAGE_ERROR_TEXTS = ("Đã xảy ra lỗi không mong đợi",)


def exceptions(page) -> list[str]:
    """Tracebacks (stException) and the dashboard's own 'unexpected error' messages on the page."""
    found = []
    loc = page.locator("[data-testid='stException']")
    found += [loc.nth(i).inner_text()[:800] for i in range(loc.count())]
    for text in PAGE_ERROR_TEXTS:
        alerts = page.locator("[data-testid='stAlert']").filter(has_text=text)
        found += [alerts.nth(i).inner_text()[:800] for i in range(alerts.count())]
    return found


def assert_no_exception(page, where: str = "") -> None:
    found = exceptions(page)
    assert not found, f"error shown on {where or page.url}:\n" + "\n---\n".join(found)


def dialogs(page) -> list[str]:
    loc = page.locator("[role='dialog']")
    return [loc.nth(i).inner_text()[:400] for i in range(loc.count()) if loc.nth(i).is_visible()]


def goto(page, url: str, timeout: float = 30_000) -> None:
    page.goto(url, wait_until="domcontentloaded", timeout=timeout)
    wait_ready(page, 1, timeout)
    found = [d for d in dialogs(page) if "Page not found" in d]
    assert not found, f"{url}: Streamlit says {found[0]!r}"


def signed_in(page) -> bool:
    return page.get_by_role("button", name="Đăng xuất").count() > 0


def sign_in(page, base_url: str | None, username: str, password: str = DEMO_PASSWORD,
            timeout: float = 30_000) -> None:
    """Open ``base_url`` (unless None: use the current page) and sign in with the form."""
    if base_url is not None:
        goto(page, base_url, timeout)
    user = page.get_by_label("Tên đăng nhập")
    user.wait_for(timeout=timeout)
    user.fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    after_rerun(page, lambda: page.get_by_role("button", name="Đăng nhập").click(), timeout)
    page.get_by_role("button", name="Đăng xuất").first.wait_for(timeout=timeout)
    wait_ready(page, 1, timeout)


NAV_LINKS = ("[data-testid='stSidebarNav'] a[href], [data-testid='stTopNav'] a[href], "
             "[data-testid='stTopNavPopoverBody'] a[href]")
DEFAULT_PAGE = "tong-quan"   # st.navigation links the default page as "/"


def nav_paths(page) -> list[str]:
    """url paths of the navigation links (sidebar or top navigation); the default page as DEFAULT_PAGE."""
    hrefs = page.eval_on_selector_all(NAV_LINKS, "els => els.map(e => e.getAttribute('href'))")
    out = []
    for href in hrefs:
        path = urllib.parse.urlsplit(href).path.strip("/").rsplit("/", 1)[-1]
        out.append(path or DEFAULT_PAGE)
    return out


def open_page(page, path: str, timeout: float = 30_000) -> float:
    """Switch page by clicking its navigation link (same session); return seconds to ready."""
    paths = nav_paths(page)
    if path not in paths:
        raise AssertionError(f"no navigation link to {path!r}; links: {paths}")
    link = page.locator(NAV_LINKS).nth(paths.index(path))
    return after_rerun(page, lambda: link.click(), timeout)


def main_text(page) -> str:
    return page.locator("[data-testid='stMain']").inner_text()


def grid_text(page, index: int = 0) -> str:
    """The visible cells of the ``index``-th st.dataframe (glide renders an accessible table)."""
    grid = page.locator("[data-testid='stDataFrame']").nth(index)
    grid.wait_for()
    return grid.locator("table").first.inner_text() if grid.locator("table").count() else grid.inner_text()


def screenshot(page, name: str, subdir: str = "browser", max_height: int = 7000) -> Path:
    """The whole page: Streamlit scrolls inside its main container, so the viewport is made as tall
    as the content for the shot (then restored)."""
    out = ARTIFACTS / subdir / f"{name}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = page.evaluate("""() => {
        const m = document.querySelector("[data-testid='stMain']");
        return Math.max(m ? m.scrollHeight : 0, document.documentElement.scrollHeight);
    }""")
    tall = size and height > size["height"]
    if tall:
        page.set_viewport_size({"width": size["width"], "height": min(int(height) + 40, max_height)})
        page.wait_for_timeout(300)   # let charts re-lay out at the new size: a picture, not a state
    try:
        page.screenshot(path=str(out), full_page=True)
    finally:
        if tall:
            page.set_viewport_size(size)
    return out


def select_option(page, label: str, option: str, timeout: float = 30_000) -> float:
    """Pick ``option`` in the st.selectbox labelled ``label``; wait for the rerun; seconds taken."""
    box = page.get_by_role("combobox", name=label, exact=True).first

    def act():
        box.click()
        page.get_by_role("option", name=option, exact=True).first.click()

    return after_rerun(page, act, timeout)


def select_options(page, label: str, attempts: int = 3) -> list[str]:
    """The options offered by the st.selectbox labelled ``label`` (opens and closes it)."""
    box = page.get_by_role("combobox", name=label, exact=True).first
    opts = page.locator("[role='option']:not([data-key='__select_all__'])")
    for attempt in range(attempts):   # a click during a rerun may land on an element being replaced
        wait_ready(page)
        box.click()
        try:
            opts.first.wait_for(timeout=5_000)
            break
        except Exception:  # noqa: BLE001
            if attempt == attempts - 1:
                raise
            page.keyboard.press("Escape")
    names = [opts.nth(i).inner_text().strip() for i in range(opts.count())]
    page.keyboard.press("Escape")
    return names


_GRID_SIG_JS = """
(index) => {
  const grids = document.querySelectorAll("[data-testid='stDataFrame'] [data-testid='data-grid-canvas']");
  const c = grids[index];
  if (!c || !c.width || !c.height) return null;
  const ctx = c.getContext('2d');
  const h = Math.min(c.height, 400);
  const d = ctx.getImageData(0, 0, c.width, h).data;
  let a = 0, b = 0;
  for (let i = 0; i < d.length; i += 16) { a = (a + d[i] + d[i + 1] * 3 + d[i + 2] * 7) % 1000000007; b = (b * 31 + d[i]) % 1000000007; }
  return a + ':' + b;
}
"""


PLOTLY_CHART = "[data-testid='stPlotlyChart']"
# what a Plotly chart shows: its title and the category labels of its axes (an SVG, in the DOM)
_CHART_SIG_JS = """
(index) => {
  const c = document.querySelectorAll("[data-testid='stPlotlyChart']")[index];
  if (!c) return null;
  const t = [...c.querySelectorAll('.gtitle, .ytick text, .xtick text')].map(e => e.textContent);
  return t.length ? t.join('|') : null;
}
"""


def chart_signature(page, index: int = 0) -> str | None:
    """The title and tick labels a Plotly chart drew (changes when it shows other units)."""
    return page.evaluate(_CHART_SIG_JS, index)


def grid_signature(page, index: int = 0) -> str | None:
    """A hash of the pixels a st.dataframe drew (its cells live on a canvas, not in the DOM)."""
    return page.evaluate(_GRID_SIG_JS, index)


def wait_grid_change(page, before: str | None, index: int = 0, timeout: float = 10_000) -> None:
    page.wait_for_function(f"(b) => {{ const s = ({_GRID_SIG_JS})({index}); return s !== null && s !== b; }}",
                           arg=before, timeout=timeout, polling="raf")
