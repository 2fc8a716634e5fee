"""A real ``danvan import`` of a large file killed with SIGKILL mid-way leaves the database
exactly as it was: the batch is one transaction, so a crash can only lose it whole."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from danvan_scoring import store
from danvan_scoring.criteria import default_framework

pytestmark = pytest.mark.slow

PERIODS = [str(y) for y in range(2021, 2026)]
N_UNITS = 3321


def danvan_command() -> list[str]:
    exe = Path(sys.executable).with_name("danvan")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "danvan_scoring.cli"]


def build_db(path: Path) -> None:
    fw = default_framework()
    con = duckdb.connect(str(path))
    store.migrate(con)
    con.execute("INSERT INTO provinces VALUES ('01', 'Thành phố Hà Nội', 'Hà Nội', NULL, NULL)")
    con.execute(f"INSERT INTO units SELECT lpad(i::VARCHAR, 5, '0'), 'Xã ' || i, NULL, 'xa', '01', NULL, NULL, "
                f"NULL, 'test' FROM range(1, {N_UNITS + 1}) r(i)")
    for p in PERIODS:
        store.add_period(con, p, fw)
    from danvan_scoring.permissions import CLI_ACTOR
    from danvan_scoring.ingest import import_file

    import_file(con, b"unit_code,period,criterion_code,score\n00001,2025,A3,2\n00002,2025,A3,3\n", "truoc.csv",
                actor=CLI_ACTOR)
    con.execute("CHECKPOINT")
    con.close()


def big_file(path: Path) -> int:
    fw = default_framework()
    codes = [c.code for c in fw.criteria.values() if not c.appraiser_only and not c.derived][:20]
    lines = ["unit_code,period,criterion_code,score,stage,evidence,note"]
    for p in PERIODS:
        for u in range(1, N_UNITS + 1):
            for k, c in enumerate(codes):
                lines.append(f"{u:05d},{p},{c},{(u + k) % 2},appraised,,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines) - 1


def state(db: Path) -> tuple:
    con = duckdb.connect(str(db))
    try:
        return (con.execute("SELECT count(*), sum(value) FROM score_entries").fetchone(),
                con.execute("SELECT batch_id, filename FROM batches ORDER BY batch_id").fetchall(),
                con.execute("SELECT count(*) FROM audit_log").fetchone())
    finally:
        con.close()


def files_signature(db: Path) -> tuple:
    wal = db.with_name(db.name + ".wal")
    st = db.stat()
    return (st.st_size, st.st_mtime_ns, wal.exists() and wal.stat().st_size)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("kill")
    db = d / "base.duckdb"
    build_db(db)
    csv = d / "lon.csv"
    n = big_file(csv)
    return d, db, csv, n


def start(db: Path, csv: Path) -> subprocess.Popen:
    return subprocess.Popen(danvan_command() + ["import", str(csv), "--db", str(db)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def test_import_runs_to_completion_when_not_killed(setup):
    d, base, csv, n = setup
    db = d / "full.duckdb"
    shutil.copy(base, db)
    p = start(db, csv)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err.decode()
    rows, batches, _ = state(db)
    assert rows[0] == 2 + n and len(batches) == 2


def test_sigkill_while_writing_leaves_the_database_unchanged(setup):
    d, base, csv, n = setup
    before = state(base)
    full = d / "timing.duckdb"
    shutil.copy(base, full)
    t0 = time.perf_counter()
    p = start(full, csv)
    p.communicate(timeout=120)
    total = time.perf_counter() - t0
    assert p.returncode == 0
    after_full = state(full)

    outcomes = []
    # 1) kill the moment the database files start to change (the write is under way)
    # 2) kill at fixed fractions of an uninterrupted run
    plans = [("first-write", None)] + [(f"{f:.0%}", f * total) for f in (0.5, 0.7, 0.8, 0.9, 0.95)]
    for label, delay in plans:
        db = d / f"k{len(outcomes)}.duckdb"
        shutil.copy(base, db)
        sig0 = files_signature(db)
        p = start(db, csv)
        t0 = time.perf_counter()
        if delay is None:
            while p.poll() is None and files_signature(db) == sig0 and time.perf_counter() - t0 < 60:
                time.sleep(0.0005)
        else:
            while p.poll() is None and time.perf_counter() - t0 < delay:
                time.sleep(0.001)
        killed = p.poll() is None
        if killed:
            os.killpg(p.pid, signal.SIGKILL)
        p.communicate(timeout=60)
        got = state(db)
        outcomes.append((label, killed, p.returncode, got == before))
        # a crash loses the batch whole or (if it had committed) keeps it whole, never a part
        assert got in (before, after_full), (label, got)
    killed_mid = [o for o in outcomes if o[1] and o[2] == -signal.SIGKILL]
    assert killed_mid, outcomes
    assert all(o[3] for o in killed_mid if o[0] == "first-write"), outcomes
    assert any(o[3] for o in killed_mid), outcomes
