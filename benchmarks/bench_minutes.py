"""Appraisal minutes for every commune (issue 15: "Document generation for all 3,321 communes").

    .venv/bin/python benchmarks/bench_minutes.py                    # all 34 provinces, 3,321 communes, DOCX
    .venv/bin/python benchmarks/bench_minutes.py --provinces 42     # one province (a quick check)
    .venv/bin/python benchmarks/bench_minutes.py --pdf 50           # + LibreOffice PDF for the first 50

A temporary database with synthetic demo scores for the chosen provinces (one period), then
``paperwork.write_all_minutes`` — one document built, saved and dropped at a time — timed in
total and per document. The baseline, measured in the same run on the same machine: a bare
python-docx document with one 25-row table per unit (the least a minutes file could be), so
the ratio says what the layout and the data lookups cost on top of python-docx itself.
The process's peak resident memory before and after the streaming run is printed too (it grows
by a few MB, not by the number of documents).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from docx import Document  # noqa: E402

from danvan_scoring import paperwork, store, units  # noqa: E402
from danvan_scoring.bootstrap import init_connection  # noqa: E402
from danvan_scoring.demo import demo_framework, fill_demo  # noqa: E402


def bare_docx(path: Path, rows: int) -> None:
    doc = Document()
    doc.add_paragraph("Biên bản")
    t = doc.add_table(rows=1, cols=7)
    for _ in range(rows):
        cells = t.add_row().cells
        for c in cells:
            c.text = "x"
    doc.save(str(path))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--provinces", default="*", help="mã tỉnh, cách nhau bởi dấu phẩy; * = cả 34 tỉnh")
    ap.add_argument("--limit", type=int, default=0, help="chỉ N đơn vị đầu (0 = tất cả)")
    ap.add_argument("--pdf", type=int, default=0, help="xuất PDF cho N biên bản đầu (LibreOffice)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-minutes-") as tmp:
        tmp = Path(tmp)
        db = tmp / "b.duckdb"
        con = store.connect(db, create=True)
        init_connection(con, framework=demo_framework())
        provs = sorted(units.units(con)["province_code"].unique()) if args.provinces == "*" else args.provinces.split(",")
        t0 = time.perf_counter()
        fill_demo(con, seed=7, provinces=provs, periods=["2025"])
        print(f"demo data: {len(provs)} provinces in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        src = paperwork.MinutesSource(con, "2025")
        load = time.perf_counter() - t0
        codes = src.units()[: args.limit or None]
        n = len(codes)
        src.res = src.res.loc[codes]
        n_crit = len(src.criteria)
        print(f"units: {n}, criteria per minutes: {n_crit}; loading results and scores once: {load:.2f} s")

        t0 = time.perf_counter()
        for _ in range(n):
            bare_docx(tmp / "bare.docx", n_crit)
        base = (time.perf_counter() - t0) / n

        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0 = time.perf_counter()
        written = 0
        for _path in paperwork.write_all_minutes(src, tmp / "out", "docx"):
            written += 1
        total = time.perf_counter() - t0
        rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        per = total / max(1, written)
        size = sum(p.stat().st_size for p in (tmp / "out").glob("*.docx"))
        print(f"minutes DOCX: {written} documents in {total:.1f} s = {per * 1000:.1f} ms per document "
              f"({size / 1e6:.1f} MB on disk); peak resident memory {rss0:.0f} MB before, {rss1:.0f} MB after")
        print(f"baseline (bare python-docx, one {n_crit}-row table): {base * 1000:.1f} ms per document")
        print(f"ratio minutes / baseline: {per / base:.2f}×")
        if args.pdf:
            pdf_src = paperwork.MinutesSource(con, "2025")
            pdf_src.res = pdf_src.res.loc[codes[: args.pdf]]
            t0 = time.perf_counter()
            k = sum(1 for _ in paperwork.write_all_minutes(pdf_src, tmp / "pdf", "pdf"))
            pdf_total = time.perf_counter() - t0
            print(f"minutes PDF (LibreOffice, batches of 50): {k} documents in {pdf_total:.1f} s = "
                  f"{pdf_total / k * 1000:.0f} ms per document = {pdf_total / k / per:.1f}× the DOCX")
        con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
