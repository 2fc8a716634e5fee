"""Shared fixtures: real DuckDB files on disk, built once per session and copied per test.

A test module that sets ``BOTH_BACKENDS = True`` runs its tests that use ``empty_db``/``empty_con``/
``demo_db``/``demo_con`` twice: on a DuckDB file and on a PostgreSQL database of the throwaway
cluster (tests/pg_support.py), where the database is a copy of a template built once per session
(``CREATE DATABASE … TEMPLATE``)."""

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


BACKENDS = ("duckdb", "postgresql")
_DB_FIXTURES = {"empty_db", "empty_con", "demo_db", "demo_con"}


def pytest_generate_tests(metafunc):
    if getattr(metafunc.module, "BOTH_BACKENDS", False) and _DB_FIXTURES & set(metafunc.fixturenames) \
            and metafunc.definition.get_closest_marker("duckdb_only") is None:
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request):
    """The store engine of this test: 'duckdb' unless the module runs on both (BOTH_BACKENDS)."""
    return getattr(request, "param", "duckdb")


@pytest.fixture(scope="session")
def pg_templates(pg_cluster):  # noqa: F811 (the fixture imported below)
    """Template databases on the cluster: 'tpl_empty' (danvan init) and 'tpl_demo' (danvan demo)."""
    from danvan_scoring import pg

    made = {}
    for kind in ("empty", "demo"):
        name = f"tpl_{kind}"
        pg_cluster.admin(f"DROP DATABASE IF EXISTS {name}")
        pg_cluster.admin(f"CREATE DATABASE {name}")
        url = pg_cluster.url(name)
        con = store.connect(url, create=True)
        if kind == "demo":
            demo.fill_demo(con, seed=2025)
        else:
            bootstrap.init_connection(con)
        con.close()
        pg.close_pool(url)
        made[kind] = name
    return made


def _pg_copy(request, kind: str):
    cluster = request.getfixturevalue("pg_cluster")
    template = request.getfixturevalue("pg_templates")[kind]
    name = cluster.create_db(template)
    request.addfinalizer(lambda: cluster.drop_db(name))
    return cluster.url(name)


@pytest.fixture
def demo_db(backend, request, tmp_path):
    if backend == "postgresql":
        return _pg_copy(request, "demo")
    path = tmp_path / "demo.duckdb"
    shutil.copy(request.getfixturevalue("demo_db_template"), path)
    return path


@pytest.fixture
def empty_db(backend, request, tmp_path):
    if backend == "postgresql":
        return _pg_copy(request, "empty")
    path = tmp_path / "empty.duckdb"
    shutil.copy(request.getfixturevalue("empty_db_template"), path)
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
from pg_support import pg_cluster  # noqa: E402,F401


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
