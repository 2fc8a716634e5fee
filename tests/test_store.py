"""The DuckDB store on disk: connection errors, locks, migrations, transactions, data/results versions."""

import subprocess
import sys
import unicodedata

import pandas as pd
import pytest

from danvan_scoring import batches, periods, permissions, store
from danvan_scoring import units as unit_store
from danvan_scoring.permissions import CLI_ACTOR, Actor

BOTH_BACKENDS = True  # tests/conftest.py: each test that uses a database runs on DuckDB and PostgreSQL


def rows(*items):
    return pd.DataFrame([dict(unit_code=u, period=p, criterion_code=c, stage=s, value=v, evidence=e, note=None)
                         for u, p, c, s, v, e in items])


def test_missing_database_message(tmp_path):
    with pytest.raises(store.StoreMissing, match="danvan init"):
        store.connect(tmp_path / "nope.duckdb")


@pytest.mark.duckdb_only
def test_locked_database_message(empty_db):
    holder = subprocess.Popen([sys.executable, "-c",
                               "import duckdb,sys,time; c=duckdb.connect(sys.argv[1]); print('ok',flush=True); "
                               "time.sleep(30)", str(empty_db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(store.StoreLocked) as exc:
            store.connect(empty_db)
        assert "đang được một chương trình khác mở" in str(exc.value)
        assert "Nhập dữ liệu" in str(exc.value)
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.duckdb_only
def test_locked_by_the_dashboard_says_so(empty_db, hold_db):
    """A real second process whose command line is `streamlit run app.py` holds the file."""
    with hold_db(empty_db, "streamlit", "run", "app.py") as holder:
        with pytest.raises(store.StoreLocked) as exc:
            store.connect(empty_db)
        assert "bảng điều khiển (streamlit)" in str(exc.value) and f"PID {holder.pid}" in str(exc.value)


@pytest.mark.parametrize("code", ["", "C" * 5000, "CQ'1", "CQ;1", "CQ\n1", "CQ 1", "-CQ"])
def test_add_unit_refuses_bad_codes(empty_con, code):
    before = len(store.audit_log(empty_con))
    with pytest.raises(store.StoreError, match="Mã đơn vị"):
        unit_store.add_unit(empty_con, code, "Ban Dân vận", "co_quan", "42", actor=CLI_ACTOR)
    assert len(store.audit_log(empty_con)) == before


@pytest.mark.parametrize("name,fragment", [("", "1 đến 200"), ("x" * 201, "1 đến 200"),
                                           ("Ban \u202eDân", "đảo chiều"), ("Ban \u2067Dân", "đảo chiều"),
                                           ("Ban\nDân", "điều khiển")])
def test_add_unit_refuses_bad_names(empty_con, name, fragment):
    with pytest.raises(store.StoreError, match=fragment):
        unit_store.add_unit(empty_con, "CQ4298", name, "co_quan", "42", actor=CLI_ACTOR)
    assert not empty_con.execute("SELECT 1 FROM units WHERE unit_code = 'CQ4298'").fetchone()


def test_add_unit_stores_the_name_in_nfc(empty_con):

    nfd = unicodedata.normalize("NFD", "Ban Dân vận Tỉnh ủy")
    unit_store.add_unit(empty_con, "CQ4297", nfd, "co_quan", "42", actor=CLI_ACTOR)
    got = empty_con.execute("SELECT name FROM units WHERE unit_code = 'CQ4297'").fetchone()[0]
    assert got == unicodedata.normalize("NFC", nfd)


def test_demo_is_marked_synthetic(demo_con, empty_con):
    assert store.is_demo(demo_con) and not store.is_demo(empty_con)
    b = batches.batches(demo_con)
    assert b["synthetic"].all()
    assert (batches.current_scores(demo_con)["note"].str.contains("minh họa")).all()


def test_data_version_moves_on_every_write(empty_con):
    v0 = store.data_version(empty_con)
    batches.write_batch(empty_con, rows(("00004", "2025", "A3", "appraised", 3.0, None)),
                      actor=CLI_ACTOR, filename="a", content_hash="a")
    assert store.data_version(empty_con) > v0


def test_local_writes_moves_with_every_write_and_refusal_of_this_process(empty_con):
    """The dashboard reads the data version once per run and again when this moved: a write, a
    refused write and a write that fails must each move it."""
    before = store.local_writes()
    unit_store.add_unit(empty_con, "LW001", "Xã Thử Ghi", "xa", "01", actor=CLI_ACTOR)
    after_write = store.local_writes()
    assert after_write > before
    with pytest.raises(permissions.PermissionDenied):
        unit_store.add_unit(empty_con, "LW002", "Xã Thử Từ Chối", "xa", "01", actor=Actor("lanhdao", "leader"))
    assert store.local_writes() > after_write
    failed = store.local_writes()
    with pytest.raises(RuntimeError):
        with store.write(empty_con, CLI_ACTOR, "units", action="units.test"):
            raise RuntimeError("boom")
    assert store.local_writes() > failed


def test_results_version_ignores_only_writes_that_cannot_change_a_result(demo_con):
    """Draft profiles, council submissions and accounts leave the results' cache key alone; the
    default profile's next version, an official profile and new scores move it."""
    from danvan_scoring import auth, council, weights

    con, period = demo_con, "2025"
    fw = periods.framework_for_period(con, period)
    chair = Actor("hoidong", "council", is_chair=True)
    v = store.results_version(con)
    official = weights.official_profile(con, period)
    draft = official.model_copy(update={"name": "du-thao-hop", "profile_id": None, "version": None})
    weights.save_profile(con, draft, fw, actor=chair)
    council.submit(con, period, actor=chair, profile=draft.model_copy(update={"name": "y-kien-hoidong"}))
    auth.add_user(con, "thuky", "leader", "matkhau-dai-hon-12", actor=permissions.CLI_ACTOR)
    assert store.results_version(con) == v
    assert store.data_version(con) > v                       # …while every write still moves this one

    saved = weights.save_profile(con, draft.model_copy(update={"name": "chinh-thuc-moi"}), fw, actor=chair)
    weights.mark_official(con, period, saved, actor=chair)
    v2 = store.results_version(con)
    assert v2 > v
    weights.save_profile(con, official.model_copy(update={"name": weights.DEFAULT_PROFILE, "profile_id": None,
                                                         "version": None}), fw, actor=chair)
    v3 = store.results_version(con)
    assert v3 > v2
    batches.write_batch(con, rows(("18304", period, "A1", "appraised", 1.0, None)),
                      actor=CLI_ACTOR, filename="b", content_hash="b")
    assert store.results_version(con) > v3


def test_transaction_commits_rolls_back_on_error_and_on_request(empty_con):
    con = empty_con
    con.execute("CREATE TABLE t (x INTEGER)")
    with store.transaction(con):
        con.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(ValueError, match="hỏng"):
        with store.transaction(con):
            con.execute("INSERT INTO t VALUES (2)")
            raise ValueError("hỏng giữa chừng")
    with store.transaction(con) as tx:
        con.execute("INSERT INTO t VALUES (3)")
        tx.rollback()                      # a dry run: nothing written, no COMMIT after it
    assert [r[0] for r in con.execute("SELECT x FROM t").fetchall()] == [1]
    with store.transaction(con):           # the connection is usable after each path
        con.execute("INSERT INTO t VALUES (4)")
    assert con.execute("SELECT count(*) FROM t").fetchone()[0] == 2
