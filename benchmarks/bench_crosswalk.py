"""Crosswalk build speed (issue 16).

    .venv/bin/python benchmarks/bench_crosswalk.py [--repeat R]

Measures, in one run (best of R):

* read     — reading the package's raw inputs only (admin_units_legacy, admin_units, converter_2025.json);
* build    — ``crosswalk.package_tables()``: the same reads plus the vectorised crosswalk (keys, joins,
             overlap shares of the split wards);
* load     — ``crosswalk.load_into`` into a fresh in-memory store (build + insert + audit);
* demo     — with ``--demo``: ``demo.fill_demo`` (2023 and 2024 on the ~500 legacy communes of the demo
             provinces, 2025 on the 171 new ones) against the same demo with three periods all on the
             new units (2025–2027), each into a fresh in-memory store after init.

Targets: build ≤ 3 × read (the mapping costs less than twice the reading it needs); with ``--demo``,
demo across the merger ≤ 2.5 × the new-units-only demo (it scores ~2.3 × as many unit-periods).
Exit 1 if missed.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import pandas as pd  # noqa: E402

from danvan_scoring import bootstrap, crosswalk, demo, store, units  # noqa: E402


def _read():
    path = units.dataset_path()
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        pd.read_sql_query(crosswalk._LEGACY_SQL, db)
        pd.read_sql_query("SELECT provinceKey, wardKey, wardCode FROM admin_units", db)
    json.loads((path.parent / "converter_2025.json").read_text(encoding="utf-8"))


def _load():
    con = duckdb.connect()
    store.migrate(con)
    crosswalk.load_into(con)
    con.close()


def _demo_time(periods: list[str]) -> float:
    con = duckdb.connect()
    bootstrap.init_connection(con)
    t = time.perf_counter()
    demo.fill_demo(con, periods=periods)
    took = time.perf_counter() - t
    con.close()
    return took


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--demo", action="store_true", help="also time the demo build across the merger")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 when a target is missed (off by default: a verdict on a loaded machine is noise)")
    args = ap.parse_args()
    read = best(_read, args.repeat)
    build = best(crosswalk.package_tables, args.repeat)
    load = best(_load, args.repeat)
    ratio = build / read
    print(f"read {read * 1000:.0f} ms · build {build * 1000:.0f} ms · load {load * 1000:.0f} ms · "
          f"build = {ratio:.2f} × read (target ≤ 3 ×)")
    ok = ratio <= 3
    if args.demo:
        across = min(_demo_time(list(demo.DEMO_PERIODS)) for _ in range(max(1, args.repeat // 2)))
        new_only = min(_demo_time(["2025", "2026", "2027"]) for _ in range(max(1, args.repeat // 2)))
        print(f"demo across the merger {across:.2f} s · new units only {new_only:.2f} s · "
              f"= {across / new_only:.2f} × (target ≤ 2,5 ×)")
        ok = ok and across / new_only <= 2.5
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
