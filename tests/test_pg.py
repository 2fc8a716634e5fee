"""The PostgreSQL backend: DuckDB spellings translated, frames registered with COPY, results as
pandas, a pooled handle per dashboard run, and two real processes writing the same keys at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from danvan_scoring import batches, pg, store
from danvan_scoring.permissions import CLI_ACTOR


@pytest.fixture
def pg_url(pg_cluster):
    name = pg_cluster.create_db()
    yield pg_cluster.url(name)
    pg_cluster.drop_db(name)


def test_translation_keeps_literals_and_orders_dollar_parameters():
    sql, order = pg._translate("SELECT ? , 'a?b%' , $2, $1 FROM t WHERE x LIKE 'm:%' AND y = CAST(? AS DOUBLE)", True)
    assert sql == ("SELECT %s , 'a?b%%' , %s, %s FROM t WHERE x LIKE 'm:%%' AND y = CAST(%s AS DOUBLE PRECISION)")
    assert order == (1, 0)
    # without parameters nothing is escaped (multi-statement migrations run as they are)
    assert pg._translate("SELECT 'x%' AS a; SELECT 2", False) == ("SELECT 'x%' AS a; SELECT 2", None)


def test_is_url_and_redact():
    assert pg.is_url("postgresql://u:secret@h/db") and pg.is_url("postgres://h/db")
    assert not pg.is_url("data/danvan.duckdb")
    assert pg.redact("postgresql://u:secret@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert store.describe("postgresql://u:secret@h/db") == "postgresql://u:***@h/db"


def test_unreachable_server_is_a_clear_store_error(pg_cluster):
    with pytest.raises(store.StoreError, match="Không kết nối được PostgreSQL 'postgresql://danvan:\\*\\*\\*@"):
        store.connect(f"postgresql://danvan:pw@127.0.0.1:{pg_cluster.port}/no_such_db")


def test_migrations_on_an_empty_database_then_nothing_to_do(pg_url):
    con = store.connect(pg_url, create=True)
    done = store.migrate(con)
    assert done == [name for name, _ in store._MIGRATIONS]
    assert store.migrate(con) == []
    assert store.applied_migrations(con) == set(done)
    con.close()


def test_upsert_ignore_register_and_dtypes(pg_url):
    con = store.connect(pg_url, create=True)
    store.migrate(con)
    store.set_meta(con, "k", "1")
    store.set_meta(con, "k", "2")          # INSERT OR REPLACE on the primary key
    assert store.get_meta(con, "k") == "2"
    frame = pd.DataFrame({"a": ["x", None, "z"], "b": [1.5, np.nan, 3.0], "c": [1, 2, 3], "d": [True, False, True]})
    with store.registered(con, "_f", frame):
        back = con.execute("SELECT * FROM _f ORDER BY c").df()
    assert back["a"].tolist()[0] == "x" and back["a"].isna().tolist() == [False, True, False]
    assert back["b"].dtype == "float64" and np.isnan(back["b"][1]) and back["b"][2] == 3.0
    assert back["c"].tolist() == [1, 2, 3] and back["d"].tolist() == [True, False, True]
    # the temp table is gone and the pooled connection is back
    assert con._conn is None
    empty = con.execute("SELECT value FROM meta WHERE key = 'none'").df()
    assert list(empty.columns) == ["value"] and empty.empty
    con.close()


def test_a_failed_statement_inside_a_write_rolls_back_and_releases(pg_url):
    con = store.connect(pg_url, create=True)
    store.migrate(con)
    before = store.data_version(con)
    with pytest.raises(pg.Error):
        with store.write(con, CLI_ACTOR, "setup", action="meta.set"):
            con.execute("INSERT INTO meta VALUES (?, ?)", ["x", "1"])
            con.execute("SELECT * FROM no_such_table")
    assert store.get_meta(con, "x") is None and store.data_version(con) == before
    assert not con.in_transaction and con._conn is None
    con.close()


def test_cursor_per_run_shares_the_pool_and_sees_other_writes(pg_url):
    con = store.connect(pg_url, create=True)
    store.migrate(con)
    a, b = con.cursor(), con.cursor()
    store.set_meta(a, "seen", "yes")
    assert store.get_meta(b, "seen") == "yes"
    a.close(), b.close(), con.close()


WRITER = textwrap.dedent("""
    import sys, pandas as pd
    from danvan_scoring import batches, store
    from danvan_scoring.permissions import CLI_ACTOR
    url, value, go = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    con = store.connect(url)
    units = [r[0] for r in con.execute("SELECT unit_code FROM units ORDER BY unit_code LIMIT 300").fetchall()]
    rows = pd.DataFrame({"unit_code": units, "period": "2025", "criterion_code": "A3", "stage": "self",
                         "value": value, "evidence": None, "note": None})
    import os, time
    while not os.path.exists(go):
        time.sleep(0.005)
    r = batches.write_batch(con, rows, actor=CLI_ACTOR, filename=f"w{value}.csv", content_hash=str(value))
    print(r.batch_id, r.new, r.changed, r.unchanged)
""")


@pytest.mark.slow
def test_two_processes_importing_the_same_keys_serialise(pg_cluster, pg_templates, tmp_path):
    """Two real processes import the same 300 unit × period × criterion keys at the same moment:
    the writes queue on the store's advisory lock, so the second classifies against the first's
    committed rows (all 'changed'), nothing is lost, and the later batch is what is current."""
    name = pg_cluster.create_db(pg_templates["empty"])
    url = pg_cluster.url(name)
    try:
        script = tmp_path / "writer.py"
        script.write_text(WRITER)
        go = tmp_path / "go"
        procs = [subprocess.Popen([sys.executable, str(script), url, v, str(go)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for v in ("1", "2")]
        import time
        time.sleep(3)   # both connected and waiting
        go.write_text("go")
        outs = [p.communicate(timeout=120) for p in procs]
        assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
        results = sorted(tuple(int(x) for x in o[0].split()) for o in outs)
        (first, n1, c1, _), (second, n2, c2, _) = results
        assert (n1, c1) == (300, 0) and (n2, c2) == (0, 300)   # serialised: the second saw the first
        con = store.connect(url)
        cur = batches.current_scores(con, "2025", "self")
        cur = cur[cur["criterion_code"] == "A3"]
        later = [o for o in outs if int(o[0].split()[0]) == second][0]
        value = 1.0 if later is outs[0] else 2.0
        assert len(cur) == 300 and set(cur["value"]) == {value} and set(cur["batch_id"]) == {second}
        con.close()
    finally:
        pg_cluster.drop_db(name)


def test_danvan_init_creates_the_schema_on_an_empty_database_and_a_second_run_adds_nothing(pg_url):
    def init():
        return subprocess.run([sys.executable, "-m", "danvan_scoring.cli", "init", "--db", pg_url],
                              capture_output=True, text=True, timeout=300)
    first = init()
    assert first.returncode == 0, first.stderr
    assert "postgresql://danvan@" in first.stdout and "thêm 3321 đơn vị" in first.stdout
    con = store.connect(pg_url)
    assert store.applied_migrations(con) == {name for name, _ in store._MIGRATIONS}
    tables = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").fetchone()
    con.close()
    again = init()
    assert again.returncode == 0 and "thêm 0 đơn vị" in again.stdout, again.stdout + again.stderr
    con = store.connect(pg_url)
    assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").fetchone() \
        == tables and tables[0] >= 30
    con.close()
