"""Shared fixtures: real DuckDB files on disk, built once per session and copied per test."""

from __future__ import annotations

import shutil
import subprocess
import sys
from contextlib import contextmanager

import pytest

from danvan_scoring import bootstrap, demo, store


@pytest.fixture(scope="session")
def demo_db_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    con = store.connect(path, create=True)
    demo.fill_demo(con, seed=2025)
    con.execute("CHECKPOINT")
    con.close()
    return path


@pytest.fixture(scope="session")
def empty_db_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("empty") / "empty.duckdb"
    bootstrap.init_database(path)
    return path


@pytest.fixture
def demo_db(demo_db_template, tmp_path):
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db_template, path)
    return path


@pytest.fixture
def empty_db(empty_db_template, tmp_path):
    path = tmp_path / "empty.duckdb"
    shutil.copy(empty_db_template, path)
    return path


@pytest.fixture
def demo_con(demo_db):
    con = store.connect(demo_db)
    yield con
    con.close()


@pytest.fixture
def empty_con(empty_db):
    con = store.connect(empty_db)
    yield con
    con.close()


# the model-registry database (two frameworks, a demo registry): tests/models_support.py
from models_support import mcon, mdb, models_db_template  # noqa: E402,F401


@pytest.fixture
def hold_db(tmp_path):
    """``with hold_db(db, "streamlit", "run", "app.py") as proc:`` — a real second process whose
    command line is that program and arguments keeps the DuckDB file open until the block ends."""
    @contextmanager
    def hold(db, program: str, *args: str):
        script = tmp_path / program
        script.write_text("import duckdb, sys, time\nc = duckdb.connect(sys.argv[-1])\nprint('ok', flush=True)\n"
                          "time.sleep(60)\n", encoding="utf-8")
        proc = subprocess.Popen([sys.executable, str(script), *args, str(db)], stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout.readline().strip() == "ok"
            yield proc
        finally:
            proc.kill()
            proc.wait()
    return hold
