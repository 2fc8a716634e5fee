"""A real ``danvan import`` of a large file killed with SIGKILL mid-write leaves the database
exactly as it was: the batch is one transaction, so a crash can only lose it whole. Every test
runs on a DuckDB file and on a PostgreSQL database (a copy of a template built once).

The kill is deterministic: ``DANVAN_FAULT`` names a fault point (``danvan_scoring.faults``)
inside the write where the process SIGKILLs itself, instead of timing a fraction of a run."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from danvan_scoring import bootstrap, faults, pg, store, units
from danvan_scoring.criteria import default_framework
from danvan_scoring.ingest import import_file
from danvan_scoring.permissions import CLI_ACTOR

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("backend", ["duckdb", "postgresql"], indirect=True)]

PERIODS = [str(y) for y in range(2021, 2026)]


def danvan_command() -> list[str]:
    exe = Path(sys.executable).with_name("danvan")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "danvan_scoring.cli"]


def build_db(path) -> list[str]:
    """An initialised database (official units, five periods) with one small batch; its unit codes."""
    bootstrap.init_database(path, PERIODS)
    con = store.connect(path)
    codes = list(units.unit_names(con))
    import_file(con, f"unit_code,period,criterion_code,score\n{codes[0]},2025,A3,2\n{codes[1]},2025,A3,3\n"
                .encode(), "truoc.csv", actor=CLI_ACTOR)
    con.execute("CHECKPOINT")
    con.close()
    pg.close_pool(str(path))
    return sorted(codes)


def big_file(path: Path, unit_codes: list[str]) -> int:
    fw = default_framework()
    codes = [c.code for c in fw.criteria.values() if not c.appraiser_only and not c.derived][:20]
    lines = ["unit_code,period,criterion_code,score,stage,evidence,note"]
    for p in PERIODS:
        for u, unit in enumerate(unit_codes):
            for k, c in enumerate(codes):
                lines.append(f"{unit},{p},{c},{(u + k) % 2},appraised,,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines) - 1


def state(db) -> tuple:
    con = store.connect(db)
    try:
        return (con.execute("SELECT count(*), sum(value) FROM score_entries").fetchone(),
                con.execute("SELECT batch_id, filename FROM batches ORDER BY batch_id").fetchall(),
                con.execute("SELECT count(*) FROM audit_log").fetchone())
    finally:
        con.close()


@pytest.fixture(scope="module")
def duck_setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("kill")
    db = d / "base.duckdb"
    codes = build_db(db)
    csv = d / "lon.csv"
    n = big_file(csv, codes)
    return d, db, csv, n


@pytest.fixture(scope="module")
def pg_setup(tmp_path_factory, pg_cluster):
    d = tmp_path_factory.mktemp("kill-pg")
    name = pg_cluster.create_db()
    codes = build_db(pg_cluster.url(name))
    csv = d / "lon.csv"
    n = big_file(csv, codes)
    yield d, name, csv, n
    pg_cluster.drop_db(name)


@pytest.fixture
def setup(backend, request):
    """(folder, base database, big CSV, its rows); ``copy(name)`` gives a fresh copy of the base."""
    if backend == "duckdb":
        d, base, csv, n = request.getfixturevalue("duck_setup")

        def copy(name):
            db = d / f"{name}.duckdb"
            shutil.copy(base, db)
            return db
        return base, copy, csv, n
    cluster = request.getfixturevalue("pg_cluster")
    d, name, csv, n = request.getfixturevalue("pg_setup")

    def copy_pg(_name):
        made = cluster.create_db(name)
        request.addfinalizer(lambda: cluster.drop_db(made))
        return cluster.url(made)
    return cluster.url(name), copy_pg, csv, n


def start(db, csv: Path, fault: str | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != faults.ENV}
    if fault:
        env[faults.ENV] = fault
    return subprocess.Popen(danvan_command() + ["import", str(csv), "--db", str(db)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def test_import_runs_to_completion_when_not_killed(setup):
    base, copy, csv, n = setup
    db = copy("full")
    p = start(db, csv)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err.decode()
    rows, batches, _ = state(db)
    assert rows[0] == 2 + n and len(batches) == 2


@pytest.mark.parametrize("fault", ["batch.after_rows", "write.before_commit:scores.import"])
def test_sigkill_while_writing_leaves_the_database_unchanged(setup, fault):
    base, copy, csv, n = setup
    before = state(base)
    pg.close_pool(str(base))   # a template database must have no connection while it is copied
    db = copy(fault)
    p = start(db, csv, fault)
    _, err = p.communicate(timeout=120)
    assert p.returncode == -signal.SIGKILL, err.decode()  # it died at the fault point, not elsewhere
    assert state(db) == before


def test_an_unknown_fault_name_changes_nothing(setup):
    base, copy, csv, n = setup
    db = copy("no-fault")
    p = start(db, csv, "no.such.point")
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err.decode()
    assert state(db)[0][0] == 2 + n
