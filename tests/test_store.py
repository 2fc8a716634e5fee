"""The DuckDB store on disk: schema, append-only batches, supersede, undo, locks."""

import subprocess
import unicodedata
import sys

import pandas as pd
import pytest

from danvan_scoring import bootstrap, store
from danvan_scoring.auth import CLI_ACTOR, Actor


def rows(*items):
    return pd.DataFrame([dict(unit_code=u, period=p, criterion_code=c, stage=s, value=v, evidence=e, note=None)
                         for u, p, c, s, v, e in items])


def test_init_is_idempotent(empty_db):
    con = store.connect(empty_db)
    before = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
              for t in ("units", "provinces", "frameworks", "periods", "blocks", "unit_blocks", "weight_profiles",
                        "profile_weights", "audit_log")}
    bootstrap.init_connection(con)
    after = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in before}
    assert before == after
    assert store.migrate(con) == []


def test_official_units_loaded(empty_con):
    u = store.units(empty_con)
    assert len(u) == 3321
    assert u["unit_code"].str.fullmatch(r"\d{5}").all()
    assert u["unit_type"].value_counts().to_dict() == {"xa": 2621, "phuong": 687, "dac_khu": 13}
    assert len(store.provinces(empty_con)) == 34
    assert u.set_index("unit_code").loc["00004", "name"] == "Phường Ba Đình"


def test_every_unit_has_a_block(empty_con):
    b = store.unit_blocks(empty_con, "2025")
    assert len(b) == 3321 and b["block_code"].notna().all()
    # blocks stay within a province
    u = store.units(empty_con).merge(b, on="unit_code")
    assert (u["block_code"].str[:2] == u["province_code"]).all()


def test_write_supersede_undo(empty_con):
    con = empty_con
    a = store.write_batch(con, rows(("00004", "2025", "A3", "appraised", 3.0, None),
                                    ("00004", "2025", "A4", "appraised", 2.0, None)),
                          actor=CLI_ACTOR, filename="a.csv", content_hash="h1")
    assert (a.new, a.changed, a.unchanged) == (2, 0, 0)
    b = store.write_batch(con, rows(("00004", "2025", "A3", "appraised", 4.5, None),
                                    ("00004", "2025", "A4", "appraised", 2.0, None)),
                          actor=CLI_ACTOR, filename="b.csv", content_hash="h2")
    assert (b.new, b.changed, b.unchanged) == (0, 1, 1)
    cur = store.current_scores(con, "2025").set_index("criterion_code")["value"]
    assert cur.to_dict() == {"A3": 4.5, "A4": 2.0}
    hist = store.score_history(con, "00004", "2025")
    assert hist[hist["criterion_code"] == "A3"]["value"].tolist() == [4.5, 3.0]   # history stays
    store.undo_batch(con, b.batch_id, actor=CLI_ACTOR)
    cur = store.current_scores(con, "2025").set_index("criterion_code")["value"]
    assert cur.to_dict() == {"A3": 3.0, "A4": 2.0}                                  # exactly what it superseded
    with pytest.raises(store.StoreError, match="đã được hoàn tác"):
        store.undo_batch(con, b.batch_id, actor=CLI_ACTOR)
    log = store.audit_log(con)
    assert {"scores.import", "batch.undo"} <= set(log["action"])


def test_same_content_twice_changes_nothing(empty_con):
    r = rows(("00004", "2025", "A3", "appraised", 3.0, "bb.pdf"))
    store.write_batch(empty_con, r, actor=CLI_ACTOR, filename="a.csv", content_hash="h")
    n = len(store.batches(empty_con))
    again = store.write_batch(empty_con, r, actor=CLI_ACTOR, filename="a.csv", content_hash="h")
    assert again.skipped_duplicate and again.batch_id is None and again.unchanged == 1
    assert len(store.batches(empty_con)) == n


def test_dry_run_writes_nothing(empty_con):
    r = rows(("00004", "2025", "A3", "appraised", 3.0, None))
    res = store.write_batch(empty_con, r, actor=CLI_ACTOR, filename="a.csv", content_hash="h", dry_run=True)
    assert res.new == 1 and res.batch_id is None
    assert store.current_scores(empty_con).empty


def test_a_leader_cannot_write(empty_con):
    leader = Actor("lanhdao", "leader")
    with pytest.raises(store.PermissionDenied, match="không có quyền nhập dữ liệu"):
        store.write_batch(empty_con, rows(("00004", "2025", "A3", "appraised", 3.0, None)),
                          actor=leader, filename="x", content_hash="x")
    assert store.current_scores(empty_con).empty
    with pytest.raises(store.PermissionDenied):
        store.undo_batch(empty_con, 1, actor=leader)


def test_missing_database_message(tmp_path):
    with pytest.raises(store.StoreMissing, match="danvan init"):
        store.connect(tmp_path / "nope.duckdb")


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


def test_locked_by_the_dashboard_says_so(empty_db, tmp_path):
    """A real second process whose command line is `streamlit run app.py` holds the file."""
    script = tmp_path / "streamlit"
    script.write_text("import duckdb, sys, time\nc = duckdb.connect(sys.argv[3])\nprint('ok', flush=True)\n"
                      "time.sleep(30)\n", encoding="utf-8")
    holder = subprocess.Popen([sys.executable, str(script), "run", "app.py", str(empty_db)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(store.StoreLocked) as exc:
            store.connect(empty_db)
        assert "bảng điều khiển (streamlit)" in str(exc.value) and f"PID {holder.pid}" in str(exc.value)
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("code", ["", "C" * 5000, "CQ'1", "CQ;1", "CQ\n1", "CQ 1", "-CQ"])
def test_add_unit_refuses_bad_codes(empty_con, code):
    before = len(store.audit_log(empty_con))
    with pytest.raises(store.StoreError, match="Mã đơn vị"):
        store.add_unit(empty_con, code, "Ban Dân vận", "co_quan", "42", actor=CLI_ACTOR)
    assert len(store.audit_log(empty_con)) == before


@pytest.mark.parametrize("name,fragment", [("", "1 đến 200"), ("x" * 201, "1 đến 200"),
                                           ("Ban \u202eDân", "đảo chiều"), ("Ban \u2067Dân", "đảo chiều"),
                                           ("Ban\nDân", "điều khiển")])
def test_add_unit_refuses_bad_names(empty_con, name, fragment):
    with pytest.raises(store.StoreError, match=fragment):
        store.add_unit(empty_con, "CQ4298", name, "co_quan", "42", actor=CLI_ACTOR)
    assert not empty_con.execute("SELECT 1 FROM units WHERE unit_code = 'CQ4298'").fetchone()


def test_add_unit_stores_the_name_in_nfc(empty_con):

    nfd = unicodedata.normalize("NFD", "Ban Dân vận Tỉnh ủy")
    store.add_unit(empty_con, "CQ4297", nfd, "co_quan", "42", actor=CLI_ACTOR)
    got = empty_con.execute("SELECT name FROM units WHERE unit_code = 'CQ4297'").fetchone()[0]
    assert got == unicodedata.normalize("NFC", nfd)


def test_periods_and_previous(empty_con):
    fw = store.framework_for_period(empty_con, "2025")
    for p in ("2024", "2023", "2025-H1", "2026-H1"):
        store.add_period(empty_con, p, fw)
    assert store.periods(empty_con) == ["2023", "2024", "2025-H1", "2025", "2026-H1"]
    assert store.previous_period(empty_con, "2025") == "2024"
    assert store.previous_period(empty_con, "2026-H1") == "2025-H1"
    assert store.previous_period(empty_con, "2023") is None
    with pytest.raises(store.StoreError, match="không hợp lệ"):
        store.add_period(empty_con, "năm nay", fw)


def test_add_agency_unit(empty_con):
    store.add_unit(empty_con, "CQ001", "Ban Tuyên giáo và Dân vận Tỉnh ủy", "co_quan", "42", actor=CLI_ACTOR)
    u = store.units(empty_con, "42")
    assert "CQ001" in set(u["unit_code"])
    with pytest.raises(store.StoreError, match="đã tồn tại"):
        store.add_unit(empty_con, "CQ001", "x", "co_quan", "42", actor=CLI_ACTOR)


def test_framework_version_conflict(empty_con):
    fw = store.framework_for_period(empty_con, "2025")
    changed = fw.model_copy(update={"name": "khác"})
    with pytest.raises(store.StoreError, match="tăng số phiên bản"):
        store.save_framework(empty_con, changed)


def test_demo_is_marked_synthetic(demo_con, empty_con):
    assert store.is_demo(demo_con) and not store.is_demo(empty_con)
    b = store.batches(demo_con)
    assert b["synthetic"].all()
    assert (store.current_scores(demo_con)["note"].str.contains("minh họa")).all()


def test_data_version_moves_on_every_write(empty_con):
    v0 = store.data_version(empty_con)
    store.write_batch(empty_con, rows(("00004", "2025", "A3", "appraised", 3.0, None)),
                      actor=CLI_ACTOR, filename="a", content_hash="a")
    assert store.data_version(empty_con) > v0


def test_results_version_ignores_only_writes_that_cannot_change_a_result(demo_con):
    """Draft profiles, council submissions and accounts leave the results' cache key alone; the
    default profile's next version, an official profile and new scores move it."""
    from danvan_scoring import auth, council, weights

    con, period = demo_con, "2025"
    fw = store.framework_for_period(con, period)
    chair = Actor("hoidong", "council", is_chair=True)
    v = store.results_version(con)
    official = weights.official_profile(con, period)
    draft = official.model_copy(update={"name": "du-thao-hop", "profile_id": None, "version": None})
    weights.save_profile(con, draft, fw, actor=chair)
    council.submit(con, period, actor=chair, profile=draft.model_copy(update={"name": "y-kien-hoidong"}))
    auth.add_user(con, "thuky", "leader", "matkhau-dai-hon-12", actor=CLI_ACTOR)
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
    store.write_batch(con, rows(("18304", period, "A1", "appraised", 1.0, None)),
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
