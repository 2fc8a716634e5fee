"""The council's progress view (Tiến độ nộp hồ sơ) against the ranking page's filter change, in one run
(issue 13, "Benchmark"): the progress view for all 3,321 communes must render within 2× the ranking
page's province filter change.

    .venv/bin/python benchmarks/bench_progress.py [--changes 10] [--provinces *]

In headless Chromium, on a temporary database with every commune scored for 3 periods and the latest
period mid-cycle (``demo.demo_cycle``: most demo units submitted, the rest late, objections open):

* ranking  — adding / removing a province in "Tỉnh, thành phố" on Xếp hạng (``bench_ui.bench_province``);
* progress — a change of "Kỳ đánh giá" on Tiến độ nộp hồ sơ between the mid-cycle period and the one
  before (the whole page reruns: state, counts, tables by province and by block, late units).

Each from the input event to the rerun finished and the first table redrawn, on the page's own clock
(``bench_ui.timed``). Exit status 1 when p50(progress) > 2 × p50(ranking).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_ui as ui  # noqa: E402
import st_harness as h  # noqa: E402

TARGET = 2.0


def bench_progress(page, n: int) -> list[float]:
    h.open_page(page, "tien-do")
    page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=120_000)
    label = "Kỳ đánh giá"
    options = h.select_options(page, label)
    latest, before = options[-1], options[-2]
    out = []
    for i in range(n):
        out.append(ui.timed(page, ui.pick_option(page, label, before if i % 2 == 0 else latest)))
        h.assert_no_exception(page, "progress period change")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--changes", type=int, default=10, help="changes measured per kind (default 10)")
    ap.add_argument("--provinces", default="*", help="comma-separated province codes scored, or * (default)")
    ap.add_argument("--port", type=int, help="serve the dashboard on this port (default: any free port)")
    args = ap.parse_args(argv)
    if args.port:
        h.free_port = lambda: args.port
    os.chdir(ROOT)
    from playwright.sync_api import sync_playwright

    from danvan_scoring import demo, periods, store, units

    with tempfile.TemporaryDirectory(prefix="bench-progress-") as tmp:
        tmp = Path(tmp)
        os.environ["DANVAN_EVIDENCE_DIR"] = str(tmp / "evidence")
        t0 = time.perf_counter()
        provinces = ["*"] if args.provinces == "*" else args.provinces.split(",")
        db = h.make_demo_db(tmp / "national.duckdb", provinces=provinces)
        con = store.connect(db)
        u = units.units(con)
        scored = set(con.execute("SELECT DISTINCT unit_code FROM current_scores").df()["unit_code"])
        latest = periods.periods(con)[-1]
        info = demo.demo_cycle(con, latest, sorted(set(u["unit_code"]) & scored))
        con.execute("CHECKPOINT")
        con.close()
        print(f"database: {len(scored)} communes scored, {len(u)} units in the progress view, period {latest} "
              f"mid-cycle ({info}); built in {time.perf_counter() - t0:.1f} s")
        with h.StreamlitServer(ROOT / "app.py", db=db, log_dir=tmp) as app, sync_playwright() as p:
            browser = h.launch_browser(p)
            page = h.new_context(browser).new_page()
            h.goto(page, app.url)
            h.sign_in(page, None, h.ROLE_USERS["council"], timeout=180_000)   # cold server, national data
            bench_progress(page, 2)                                   # warm the caches, not counted
            ui.bench_province(page, 2)
            progress = bench_progress(page, args.changes)
            ranking = ui.bench_province(page, args.changes)
            browser.close()
    p_prog, p_rank = ui.pct(progress, 0.5), ui.pct(ranking, 0.5)
    ratio = p_prog / p_rank
    print(f"{'measure':<44}{'n':>4}{'p50 ms':>10}{'p95 ms':>10}")
    print(f"{'Xếp hạng: province filter (baseline)':<44}{len(ranking):>4}{p_rank * 1000:>10.0f}"
          f"{ui.pct(ranking, 0.95) * 1000:>10.0f}")
    print(f"{'Tiến độ nộp hồ sơ: period change':<44}{len(progress):>4}{p_prog * 1000:>10.0f}"
          f"{ui.pct(progress, 0.95) * 1000:>10.0f}")
    print(f"\nprogress / ranking = {ratio:.2f}× (target ≤ {TARGET:g}×) — {'met' if ratio <= TARGET else 'MISSED'}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
