"""Interaction speed of the dashboard in a real browser at national scale (issue 3, "Speed").

    .venv/bin/python benchmarks/bench_ui.py [--changes 20] [--post-script-gc default|true|false]

In one run, in headless Chromium:

* builds a temporary database with all 3,321 communes scored for 3 periods
  (``danvan_scoring.demo.fill_demo`` over every province);
* starts ``streamlit run app.py`` on it and, with the same Streamlit config (the project's
  .streamlit/config.toml, read from the repository root, plus the flags below), a trivial
  one-widget page written to a temporary file;
* signs in as the council and measures, ``--changes`` times each:
    - period    — a change of "Kỳ đánh giá" on Xếp hạng (a whole-page rerun),
    - province  — adding / removing a province in "Tỉnh, thành phố" on Xếp hạng
                  (the filters and table are an st.fragment),
    - chart     — the same, with the tab "Biểu đồ các đơn vị dẫn đầu" open (the tabs are lazy:
                  the open one is drawn), until the Plotly chart shows other units,
    - weight    — a group weight changed in the Trọng số form, then "Xem trước xếp hạng"
                  (the preview ranks every commune under the new weights),
    - trivial   — a selectbox change on the trivial page;
* the first load of the ranking page, warm: a reload of /xep-hang in a signed-in tab
  (server caches warm) until the table is drawn, and a switch from Tổng quan to Xếp hạng.

Each time runs from the input event in the page (pointerdown / keydown, stamped by an init
script) to the moment the script state is back to ``notRunning`` *and* the table's canvas
shows different pixels (the chart: other labels; the trivial page: the new text) — measured
with the page's own clock, so Playwright's round trips are not counted. Target: p50 within 3× of the trivial page's;
first warm load under 2 s. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import st_harness as h  # noqa: E402

CHART_TAB = "Biểu đồ các đơn vị dẫn đầu"
CHANGES = ("period", "province", "chart", "weight")   # held to p50 ≤ 3 × trivial
TRIVIAL_APP = '''import streamlit as st

choice = st.selectbox("Lựa chọn", ["một", "hai", "ba", "bốn"])
st.write(f"Đã chọn: {choice}")
'''

# ready (script finished, ≥ minRuns runs) and a page-specific "updated" check; stamps the end once
_DONE_JS = """
([minRuns, kind, before, index]) => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app || app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
  if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector("[data-testid='stSkeleton']")) return false;
  let now;   // no run count needed: the view changes only when a run has drawn it
  if (kind === 'grid') {
    now = (SIG)(index);
    if (now === null || now === before) return false;
  } else if (kind === 'chart') {
    now = (CHART)(index);
    if (now === null || now === before) return false;
  } else {
    const el = document.querySelector("[data-testid='stMarkdown'] p");
    if (!el || el.innerText !== before) return false;
  }
  if (!window.__benchEnd) window.__benchEnd = performance.now();
  return true;
}
""".replace("(SIG)", "(" + h._GRID_SIG_JS.strip() + ")").replace("(CHART)", "(" + h._CHART_SIG_JS.strip() + ")")


def pct(xs: list[float], q: float) -> float:
    """The q-quantile with linear interpolation between order statistics (NaN when empty)."""
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def timed(page, action, *, kind: str = "grid", expect: str | None = None, index: int = 0,
          timeout: float = 60_000) -> float:
    """Seconds from the input event ``action`` causes to the rerun finished and the view updated."""
    before = {"grid": h.grid_signature, "chart": h.chart_signature}[kind](page, index) if kind != "text" else expect
    runs = h.runs(page)
    page.evaluate("window.__benchEnd = 0; window.__stInput = 0")
    action()
    try:
        page.wait_for_function(_DONE_JS, arg=[runs + 1, kind, before, index], timeout=timeout, polling="raf")
    except Exception:
        shot = h.screenshot(page, f"timeout-{int(time.time())}", subdir="bench")
        print(f"  timed out (runs {runs} → {h.runs(page)}, grid {before} → {h.grid_signature(page, index)}); "
              f"screenshot {shot}", file=sys.stderr)
        raise
    start, end = page.evaluate("[window.__stInput, window.__benchEnd]")
    if not start:
        raise RuntimeError("no input event was stamped")
    return (end - start) / 1000


def pick_option(page, label: str, option: str):
    box = page.get_by_role("combobox", name=label, exact=True).first

    def act():
        box.click()
        page.get_by_role("option", name=option, exact=True).first.click()
    return act


def bench_period(page, n: int) -> list[float]:
    h.open_page(page, "xep-hang")
    page.locator("[data-testid='stDataFrame']").first.wait_for()
    options = h.select_options(page, h_label := "Kỳ đánh giá")
    current = page.get_by_role("combobox", name=h_label).first.input_value() or options[-1]
    seq = [o for o in options if o != current]
    out = []
    for i in range(n):
        out.append(timed(page, pick_option(page, h_label, seq[i % len(seq)])))
        h.assert_no_exception(page, "period change")
        seq = [o for o in options if o != seq[i % len(seq)]] if len(options) > 1 else seq
    return out


def bench_province(page, n: int, view: str = "grid") -> list[float]:
    h.open_page(page, "xep-hang")
    page.locator("[data-testid='stDataFrame']").first.wait_for()
    if view == "chart":   # the chart tab: the same filter change redraws the Plotly chart instead
        h.after_rerun(page, lambda: page.get_by_role("tab", name=CHART_TAB).click(), timeout=60_000)
        page.locator(h.PLOTLY_CHART).first.wait_for()
    label = "Tỉnh, thành phố"
    box = page.get_by_role("combobox", name=label).first
    box.click()
    opts = page.locator("[role='option']:not([data-key='__select_all__'])")
    opts.first.wait_for()
    names = [opts.nth(i).inner_text().strip() for i in range(min(opts.count(), 6))]
    page.keyboard.press("Escape")
    h.wait_ready(page)
    out = []
    for i in range(n):
        if i % 2 == 0:   # add one province: the table shrinks to it
            name = names[(i // 2) % len(names)]

            def act(name=name):
                box.click()
                page.get_by_role("option", name=name, exact=True).first.click()
        else:            # remove it again (Backspace in the multiselect): every commune again
            def act():
                box.focus()
                page.keyboard.press("Backspace")
        out.append(timed(page, act, kind=view))
        h.assert_no_exception(page, "province filter")
        page.keyboard.press("Escape")
        h.wait_ready(page)
    return out


def bench_weight(page, n: int) -> list[float]:
    h.open_page(page, "trong-so")
    num = page.locator("[data-testid='stNumberInput'] input").first
    num.wait_for()
    base = float(num.input_value().replace(",", "."))
    preview = page.get_by_role("button", name="Xem trước xếp hạng")
    # a first preview, so that every measured one replaces a drawn table
    num.fill(f"{base + 1:g}")
    num.press("Tab")
    h.after_rerun(page, lambda: preview.click(), timeout=60_000)
    page.locator("[data-testid='stDataFrame']").first.wait_for()
    out = []
    for i in range(n):
        num.fill(f"{base + (2 if i % 2 == 0 else 1):g}")   # differs from the previous preview each time
        num.press("Tab")
        out.append(timed(page, lambda: preview.click()))
        h.assert_no_exception(page, "weight preview")
    return out


def bench_trivial(page, url: str, n: int) -> list[float]:
    h.goto(page, url)
    opts = ["một", "hai", "ba", "bốn"]
    out = []
    for i in range(n):
        o = opts[(i + 1) % len(opts)]
        out.append(timed(page, pick_option(page, "Lựa chọn", o), kind="text", expect=f"Đã chọn: {o}"))
    return out


_GRID_DRAWN_JS = """
([index, heading]) => {
  const h1 = document.querySelector("[data-testid='stMain'] h1");
  if (!h1 || !h1.innerText.includes(heading)) return false;   // the new page, not the one we left
  const app = document.querySelector("[data-testid='stApp']");
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector("[data-testid='stSkeleton']")) return false;
  const s = (SIG)(index);
  if (s === null) return false;
  if (!window.__benchEnd) window.__benchEnd = performance.now();
  return true;
}
""".replace("(SIG)", "(" + h._GRID_SIG_JS.strip() + ")")


def bench_first_load(page, base: str, n: int) -> tuple[list[float], list[float]]:
    """(reload of /xep-hang → table drawn, seconds since navigation start; Tổng quan → Xếp hạng switch)."""
    h.open_page(page, "xep-hang")
    reloads = []
    for _ in range(n):
        page.reload(wait_until="commit")
        page.wait_for_function(_GRID_DRAWN_JS, arg=[0, "Xếp hạng"], timeout=60_000, polling="raf")
        if not h.signed_in(page):
            raise RuntimeError("a reload signed the user out: the warm-load figure needs the session cookie")
        reloads.append(page.evaluate("window.__benchEnd") / 1000)   # performance.now() starts at navigation
        h.assert_no_exception(page, "reload of xep-hang")
    switches = []
    for _ in range(n):
        h.open_page(page, "tong-quan")
        page.evaluate("window.__benchEnd = 0; window.__stInput = 0")
        link = page.locator(h.NAV_LINKS).nth(h.nav_paths(page).index("xep-hang"))
        link.click()
        page.wait_for_function(_GRID_DRAWN_JS, arg=[0, "Xếp hạng"], timeout=60_000, polling="raf")
        start, end = page.evaluate("[window.__stInput, window.__benchEnd]")
        switches.append((end - start) / 1000)
    return reloads, switches


def streamlit_config(extra: list[str]) -> dict:
    import streamlit
    from streamlit import config

    config.get_config_options(force_reparse=True, options_from_flags={})
    out = {"streamlit": streamlit.__version__, "config_file": str(ROOT / ".streamlit" / "config.toml")}
    for key in ("runner.postScriptGC", "runner.fastReruns", "runner.magicEnabled", "server.fileWatcherType",
                "client.showErrorDetails"):
        out[key] = config.get_option(key)
    for i, a in enumerate(extra):
        if a.startswith("--") and i + 1 < len(extra):
            out[a[2:]] = extra[i + 1] + " (flag)"
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--changes", type=int, default=20, help="changes measured per kind (default 20)")
    ap.add_argument("--loads", type=int, default=5, help="warm loads measured (default 5)")
    ap.add_argument("--post-script-gc", choices=("default", "true", "false"), default="default",
                    help="Streamlit runner.postScriptGC for both servers (default: the config's value)")
    ap.add_argument("--provinces", default="*", help="comma-separated province codes, or * for all (default)")
    ap.add_argument("--app", type=Path, default=ROOT / "app.py")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--only", help="comma-separated subset: period,province,chart,weight,trivial,load")
    args = ap.parse_args(argv)
    only = set(args.only.split(",")) if args.only else {"period", "province", "chart", "weight", "trivial", "load"}

    extra = [] if args.post_script_gc == "default" else ["--runner.postScriptGC", args.post_script_gc]
    os.chdir(ROOT)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        provinces = ["*"] if args.provinces == "*" else args.provinces.split(",")
        db = h.make_demo_db(tmp / "national.duckdb", provinces=provinces)
        from danvan_scoring import store
        con = store.connect(db, read_only=True)
        n_units, n_periods = con.execute(
            "SELECT count(DISTINCT unit_code), count(DISTINCT period) FROM current_scores").fetchone()
        con.close()
        print(f"database: {n_units} communes × {n_periods} periods scored, built in {time.perf_counter() - t0:.1f} s")
        (tmp / "trivial").mkdir()
        trivial_app = tmp / "trivial" / "trivial_app.py"
        trivial_app.write_text(TRIVIAL_APP, encoding="utf-8")

        results: dict[str, list[float]] = {}
        with h.StreamlitServer(args.app, db=db, extra_args=extra, log_dir=tmp) as app, \
                h.StreamlitServer(trivial_app, extra_args=extra, log_dir=tmp) as triv, sync_playwright() as p:
            browser = h.launch_browser(p)
            ctx = h.new_context(browser)
            page = ctx.new_page()
            h.goto(page, app.url)
            t = time.perf_counter()
            h.sign_in(page, None, h.ROLE_USERS["council"])
            print(f"signed in as the council in {time.perf_counter() - t:.2f} s")
            t = time.perf_counter()
            h.open_page(page, "xep-hang", timeout=120_000)
            page.wait_for_function(_GRID_DRAWN_JS, arg=[0, "Xếp hạng"], timeout=120_000, polling="raf")
            print(f"first visit of Xếp hạng (cold server caches): {time.perf_counter() - t:.2f} s")
            n = args.changes
            if "load" in only:
                results["load_reload"], results["load_switch"] = bench_first_load(page, app.url, args.loads)
            if "period" in only:
                results["period"] = bench_period(page, n)
            if "province" in only:
                results["province"] = bench_province(page, n)
            if "chart" in only:
                results["chart"] = bench_province(page, n, view="chart")
            if "weight" in only:
                results["weight"] = bench_weight(page, n)
            if "trivial" in only:
                tpage = ctx.new_page()
                bench_trivial(tpage, triv.url, 3)                       # warm-up, not counted
                results["trivial"] = bench_trivial(tpage, triv.url, n)
            browser.close()
            chromium = browser.version

    cfg = streamlit_config(extra)
    print()
    print(f"Streamlit {cfg['streamlit']}, Chromium {chromium}, {os.cpu_count()} CPUs, {platform.python_version()}")
    print("config: " + ", ".join(f"{k}={v}" for k, v in cfg.items() if k not in ("streamlit",)))
    print()
    base = statistics.median(results["trivial"]) if results.get("trivial") else None
    print(f"{'measure':<38}{'n':>4}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}{'p50/trivial':>13}")
    labels = {"trivial": "trivial page: selectbox", "period": "Xếp hạng: period change (page)",
              "province": "Xếp hạng: province filter (fragment)", "chart": "Xếp hạng, chart tab: province filter",
              "weight": "Trọng số: weight → preview",
              "load_reload": "Xếp hạng: warm reload → table", "load_switch": "Tổng quan → Xếp hạng (warm)"}
    failed = []
    for key in ("trivial", "period", "province", "chart", "weight", "load_reload", "load_switch"):
        xs = results.get(key)
        if not xs:
            continue
        p50, p95 = pct(xs, 0.5), pct(xs, 0.95)
        ratio = f"{p50 / base:.2f}×" if base and key in CHANGES else ""
        print(f"{labels[key]:<38}{len(xs):>4}{p50 * 1000:>10.0f}{p95 * 1000:>10.0f}{max(xs) * 1000:>10.0f}{ratio:>13}")
        if base and key in CHANGES and p50 > 3 * base:
            failed.append(f"{key}: p50 {p50 * 1000:.0f} ms > 3 × trivial {base * 1000:.0f} ms")
        if key == "load_reload" and p50 >= 2.0:
            failed.append(f"warm first load p50 {p50:.2f} s ≥ 2 s")
    print()
    print("targets: p50 ≤ 3 × trivial; warm first load < 2 s — " + ("MISSED: " + "; ".join(failed) if failed else "met"))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"config": cfg, "units": n_units, "periods": n_periods,
                                         "seconds": results, "missed": failed}, indent=2, ensure_ascii=False))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
