"""Import speed and memory at national scale (issue 4).

    .venv/bin/python benchmarks/bench_ingest.py [--rows N] [--repeat R] [--baseline-rows M]

Generates a long CSV (3,321 units × 20 criteria × 15 periods = 996,300 rows by default)
in a temporary folder and measures, in one run:

* bare     — DuckDB's own ``read_csv`` of the file into a table of a new on-disk
             database (connect, CREATE TABLE … AS SELECT * FROM read_csv(…), close);
* import   — ``ingest.import_file`` with full validation and the batch write into a
             prepared on-disk database (connect, read the bytes, import, close);
* baseline — a per-row pydantic model + ``executemany`` insert, timed on a sample
             (50,000 rows by default) and extrapolated linearly to the full file;
* memory   — peak resident memory of a fresh process that runs the import
             (VmHWM from its own /proc/self/status), and of one that only
             imports the libraries, for comparison.

Times are the best of ``--repeat`` runs. Targets: import ≤ 3 × bare, baseline ≥ 20 × import,
peak memory < 1 GB. Exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import csv
import io
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from danvan_scoring import periods, store  # noqa: E402
from danvan_scoring import units as unit_store
from danvan_scoring.criteria import default_framework  # noqa: E402
from danvan_scoring.ingest import ScoreRow, import_file  # noqa: E402
from danvan_scoring.permissions import CLI_ACTOR  # noqa: E402

N_UNITS, N_CRIT, N_PERIODS = 3321, 20, 15
PERIODS = [str(2011 + i) for i in range(N_PERIODS)]


def criteria():
    fw = default_framework()
    return fw, [c for c in fw.criteria.values() if not c.derived][:N_CRIT]  # typed-in criteria (appraised stage)


def make_csv(path: Path, rows: int) -> int:
    """Deterministic, valid long file; values within each criterion's range."""
    _, crits = criteria()
    out = io.StringIO()
    out.write("unit_code,period,criterion_code,score,stage,evidence,note\n")
    n = 0
    for p in PERIODS:
        for u in range(1, N_UNITS + 1):
            for k, c in enumerate(crits):
                if n >= rows:
                    break
                top = int(c.value_max) if c.value_max is not None else 100
                v = (u * 7 + k * 3 + int(p)) % (top + 1)
                ev = "https://minhchung.vn/%05d/%s.pdf" % (u, c.code) if c.evidence_required else ""
                out.write(f"{u:05d},{p},{c.code},{v},appraised,{ev},\n")
                n += 1
    path.write_text(out.getvalue(), encoding="utf-8")
    return n


def make_db(path: Path) -> None:
    fw = default_framework()
    con = duckdb.connect(str(path))
    store.migrate(con)
    con.execute("INSERT INTO provinces VALUES ('01', 'Tỉnh thử nghiệm', 'Thử', NULL, NULL)")
    con.execute(f"INSERT INTO units SELECT lpad(i::VARCHAR, 5, '0'), 'Xã ' || i, NULL, 'xa', '01', NULL, NULL, "
                f"NULL, 'bench' FROM range(1, {N_UNITS + 1}) r(i)")
    for p in PERIODS:
        periods.add_period(con, p, fw)
    con.execute("CHECKPOINT")
    con.close()


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        times.append(fn())
    return min(times)


def time_bare(csv_path: Path, tmp: Path, repeat: int) -> float:
    def run():
        db = tmp / "bare.duckdb"
        for f in (db, db.with_name(db.name + ".wal")):
            f.unlink(missing_ok=True)
        t = time.perf_counter()
        con = duckdb.connect(str(db))
        con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{csv_path}')")
        con.close()
        return time.perf_counter() - t

    return best(run, repeat)


def time_import(csv_path: Path, base_db: Path, tmp: Path, repeat: int) -> tuple[float, object]:
    result = {}

    def run():
        db = tmp / "import.duckdb"
        for f in (db, db.with_name(db.name + ".wal")):
            f.unlink(missing_ok=True)
        shutil.copy(base_db, db)
        t = time.perf_counter()
        con = store.connect(db)
        data = csv_path.read_bytes()
        res = import_file(con, data, csv_path.name, actor=CLI_ACTOR)
        con.close()
        elapsed = time.perf_counter() - t
        result["res"] = res
        return elapsed

    return best(run, repeat), result["res"]


def time_baseline(csv_path: Path, base_db: Path, tmp: Path, sample: int) -> tuple[float, int]:
    """The naive way: csv.DictReader, one pydantic model per row, checks in Python, executemany."""
    fw = default_framework()
    db = tmp / "baseline.duckdb"
    shutil.copy(base_db, db)
    con = duckdb.connect(str(db))
    t = time.perf_counter()
    units = set(unit_store.unit_names(con))
    rows = []
    with open(csv_path, encoding="utf-8", newline="") as fh:
        for i, rec in enumerate(csv.DictReader(fh)):
            if i >= sample:
                break
            row = ScoreRow(unit_code=rec["unit_code"].strip().zfill(5), period=rec["period"].strip(),
                           criterion_code=rec["criterion_code"].strip(), stage=rec["stage"].strip() or "appraised",
                           value=float(rec["score"]), evidence=rec["evidence"] or None, note=rec["note"] or None)
            c = fw.criteria.get(row.criterion_code)
            if row.unit_code not in units or c is None or (c.value_max is not None and row.value > c.value_max):
                raise ValueError(f"dòng {i + 2} không hợp lệ")
            rows.append((1, row.unit_code, row.period, row.criterion_code, row.stage, row.value, row.evidence,
                         row.note))
    con.execute("BEGIN TRANSACTION")
    con.execute("INSERT INTO batches VALUES (1, 'scores', 'bench', now(), 'x', 'x', 0, 0, 0, FALSE, NULL, NULL, NULL)")
    con.executemany("INSERT INTO score_entries VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute("COMMIT")
    con.close()
    return time.perf_counter() - t, len(rows)


def peak_memory(args: list[str]) -> float:
    """Peak RSS in MB of a fresh child process running this script with ``args`` (it reports
    its own VmHWM from /proc/self/status)."""
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def child(mode: str, csv_path: str, db: str) -> None:
    if mode == "import":
        con = store.connect(Path(db))
        import_file(con, Path(csv_path).read_bytes(), Path(csv_path).name, actor=CLI_ACTOR)
        con.close()
    # mode "libs": the imports at the top of this file are all it does
    print(_vm_hwm_kb())


def _vm_hwm_kb() -> int:
    """This process's peak resident memory in kB. VmHWM restarts at exec, unlike ru_maxrss,
    which a child inherits from the (large) benchmark process that forked it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=N_UNITS * N_CRIT * N_PERIODS)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--baseline-rows", type=int, default=50_000)
    ap.add_argument("--check", action="store_true",
                    help="exit 1 when a target is missed (off by default: a verdict on a loaded machine is noise)")
    ap.add_argument("--child", nargs=3, metavar=("MODE", "CSV", "DB"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(*a.child)
        return 0

    tmp = Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    try:
        csv_path = tmp / "diem_toan_quoc.csv"
        n = make_csv(csv_path, a.rows)
        size_mb = csv_path.stat().st_size / 1e6
        base_db = tmp / "base.duckdb"
        make_db(base_db)
        print(f"Tệp: {n:,} dòng, {size_mb:.1f} MB ({N_UNITS} đơn vị × {N_CRIT} tiêu chí × {N_PERIODS} kỳ, "
              f"cắt ở {a.rows:,} dòng); lấy thời gian tốt nhất của {a.repeat} lần")

        bare = time_bare(csv_path, tmp, a.repeat)
        print(f"  DuckDB read_csv trần (vào bảng, tệp DuckDB mới): {bare:8.3f} s")
        imp, res = time_import(csv_path, base_db, tmp, a.repeat)
        print(f"  import_file (kiểm tra đầy đủ + ghi lô):         {imp:8.3f} s   "
              f"({res.new:,} mới, {res.changed} đổi, {res.unchanged} không đổi)")
        sample = min(a.baseline_rows, n)
        base_t, base_n = time_baseline(csv_path, base_db, tmp, sample)
        base_full = base_t * n / base_n
        print(f"  pydantic từng dòng + executemany: {base_t:.3f} s cho {base_n:,} dòng mẫu "
              f"→ ngoại suy tuyến tính cho {n:,} dòng: {base_full:.1f} s")

        shutil.copy(base_db, tmp / "mem.duckdb")
        libs = peak_memory(["--child", "libs", str(csv_path), str(tmp / "mem.duckdb")])
        mem = peak_memory(["--child", "import", str(csv_path), str(tmp / "mem.duckdb")])
        print(f"  bộ nhớ đỉnh của tiến trình nhập: {mem:,.0f} MB (chỉ nạp thư viện: {libs:,.0f} MB)")

        r_bare = imp / bare
        r_base = base_full / imp
        ok1, ok2, ok3 = r_bare <= 3.0, r_base >= 20.0, mem < 1024
        print()
        print(f"  import / read_csv trần  = {r_bare:5.2f}×   (mục tiêu ≤ 3×)   {'ĐẠT' if ok1 else 'KHÔNG ĐẠT'}")
        print(f"  baseline / import       = {r_base:5.1f}×   (mục tiêu ≥ 20×)  {'ĐẠT' if ok2 else 'KHÔNG ĐẠT'}")
        print(f"  bộ nhớ đỉnh             = {mem:5.0f} MB (mục tiêu < 1024) {'ĐẠT' if ok3 else 'KHÔNG ĐẠT'}")
        return 1 if a.check and not (ok1 and ok2 and ok3) else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
