"""Every INSERT/UPDATE/DELETE of the library runs inside ``store.write`` (one write path).

The fixture hands the library connections whose ``execute``/``executemany`` record each mutating
statement run while no write is open (``store.active_write()`` is None). The one named exemption
is ``store.MIGRATION_EXEMPTION``: schema creation in ``store.migrate`` is not a user's write.
The test then drives the public write API on a copy of the demo database and expects no
violation; a deliberate raw INSERT shows the check can fail.
"""

from __future__ import annotations

import re

import duckdb
import pytest

from danvan_scoring import (
    auth,
    batches,
    bootstrap,
    council,
    ingest,
    periods,
    permissions,
    publish,
    registry,
    store,
    units,
    weights,
)
from danvan_scoring.permissions import CLI_ACTOR, Actor

BOTH_BACKENDS = True  # tests/conftest.py: each test that uses a database runs on DuckDB and PostgreSQL

MUTATING = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
PERIOD = "2025"


class CheckedConnection:
    """A store connection (DuckDB or PostgreSQL) that notes mutating statements run outside a write
    context; its cursors are checked too."""

    def __init__(self, con, violations: list[str]):
        self._con = con
        self._violations = violations

    def _check(self, sql) -> None:
        if isinstance(sql, str) and MUTATING.match(sql) and store.active_write() is None:
            self._violations.append(" ".join(sql.split())[:120])

    def execute(self, sql, *args, **kwargs):
        self._check(sql)
        return self._con.execute(sql, *args, **kwargs)

    def executemany(self, sql, *args, **kwargs):
        self._check(sql)
        return self._con.executemany(sql, *args, **kwargs)

    def cursor(self):
        return CheckedConnection(self._con.cursor(), self._violations)

    def __getattr__(self, name):
        return getattr(self._con, name)


@pytest.fixture
def violations(monkeypatch):
    found: list[str] = []
    real, real_pg = duckdb.connect, store.pg.PgConnection
    monkeypatch.setattr(store.duckdb, "connect", lambda *a, **k: CheckedConnection(real(*a, **k), found))
    monkeypatch.setattr(store.pg, "PgConnection", lambda *a, **k: CheckedConnection(real_pg(*a, **k), found))
    return found


@pytest.fixture
def con(demo_db, violations):
    c = store.connect(demo_db)
    yield c
    c.close()


def test_a_raw_insert_outside_the_write_context_is_caught(con, violations):
    con.execute("INSERT INTO meta VALUES ('x', 'y')")
    assert violations == ["INSERT INTO meta VALUES ('x', 'y')"]


def test_the_same_insert_inside_the_write_context_is_not(con, violations):
    with store.write(con, CLI_ACTOR, "setup", action="meta.set", target="x"):
        con.execute("INSERT INTO meta VALUES ('x', 'y')")
    assert violations == []
    assert store.audit_log(con, 1).iloc[0]["action"] == "meta.set"


def _scores_csv(con) -> bytes:
    cur = batches.current_scores(con, PERIOD).query("value > 0").head(20)
    cur = cur.assign(score=0)
    return cur[["unit_code", "period", "criterion_code", "score", "stage", "evidence", "note"]] \
        .to_csv(index=False).encode()


def test_every_public_write_goes_through_the_write_path(con, violations, tmp_path):
    """Imports, undo, units, periods, frameworks, blocks, profiles, council, publish, users, models."""
    res = ingest.import_file(con, _scores_csv(con), "sua.csv", actor=CLI_ACTOR)
    assert res.batch_id is not None
    batches.undo_batch(con, res.batch_id, actor=CLI_ACTOR)
    prov = units.provinces(con)["province_code"].iloc[0]
    units.add_unit(con, "CQ001", "Ban Dân vận tỉnh", "co_quan", prov, actor=CLI_ACTOR)
    fw = periods.framework_for_period(con, PERIOD)
    bootstrap.ensure_period(con, "2026", fw)
    prof = weights.save_profile(con, weights.default_profile(fw).model_copy(update={"name": "thu"}), fw,
                                actor=CLI_ACTOR)
    weights.mark_official(con, PERIOD, prof, actor=CLI_ACTOR)
    member = Actor("hoidong", "council")
    council.submit(con, PERIOD, actor=member, points={g.code: 100 / len(fw.scored_groups)
                                                      for g in fw.scored_groups})
    council.save_consensus(con, PERIOD, actor=member)
    council.adopt(con, PERIOD, "trung_vi", actor=CLI_ACTOR)
    publish.publish(con, PERIOD, actor=CLI_ACTOR, note="thử")
    auth.add_user(con, "thuky", "leader", "matkhau-du-dai-12", actor=CLI_ACTOR)
    auth.set_role(con, "thuky", "staff", actor=CLI_ACTOR)
    signed_in = auth.authenticate(con, "thuky", "matkhau-du-dai-12", sleep=lambda s: None)
    token = auth.create_session(con, signed_in)
    auth.end_session(con, token)
    mperiod = registry.current_models(con)["period"].iloc[0]
    row = registry.current_models(con, mperiod).head(1)[registry.ENTRY_COLUMNS].assign(note="ghi chú mới")
    mres = registry.write_models_batch(con, row, actor=CLI_ACTOR, filename=None, content_hash=None)
    batches.undo_batch(con, mres.batch_id, actor=CLI_ACTOR)
    store.set_meta(con, "ghi_chu", "thử")
    assert violations == []


def test_a_refused_write_writes_nothing_but_its_refusal(con, violations):
    before = con.execute("SELECT count(*) FROM units").fetchone()[0]
    audit_before = int(con.execute("SELECT max(audit_id) FROM audit_log").fetchone()[0])
    results_before = store.results_version(con)
    with pytest.raises(permissions.PermissionDenied, match="không có quyền thêm đơn vị"):
        units.add_unit(con, "CQ002", "Ban X", "co_quan", "01", actor=Actor("lanhdao", "leader"))
    assert con.execute("SELECT count(*) FROM units").fetchone()[0] == before
    log = store.audit_log(con, 5)
    assert log.iloc[0]["action"] == "denied:unit.add" and log.iloc[0]["actor"] == "lanhdao"
    assert int(log.iloc[0]["audit_id"]) == audit_before + 1
    assert store.results_version(con) == results_before  # a refusal changes no result
    assert violations == []


def test_a_failed_write_leaves_nothing_and_no_audit_entry(con):
    fw = periods.framework_for_period(con, PERIOD)
    n = con.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    profiles = con.execute("SELECT count(*) FROM weight_profiles").fetchone()[0]
    with pytest.raises(store.StoreError):
        council.submit(con, PERIOD, actor=CLI_ACTOR, points={"KHONG_CO": 100})
    with pytest.raises(RuntimeError, match="hỏng"):
        with store.write(con, CLI_ACTOR, "weights", action="weights.save"):
            weights.save_profile(con, weights.default_profile(fw).model_copy(update={"name": "x"}), fw,
                                 actor=CLI_ACTOR)
            raise RuntimeError("hỏng")
    assert con.execute("SELECT count(*) FROM audit_log").fetchone()[0] == n
    assert con.execute("SELECT count(*) FROM weight_profiles").fetchone()[0] == profiles


def test_a_nested_write_joins_the_outer_transaction(con, monkeypatch):
    """council.submit saves the member's profile inside its own write: one transaction, two entries."""
    fw = periods.framework_for_period(con, PERIOD)
    seen = []
    real = store.transaction

    def counting(c):
        seen.append(1)
        return real(c)

    monkeypatch.setattr(store, "transaction", counting)
    council.submit(con, PERIOD, actor=Actor("hoidong", "council"),
                   points={g.code: 100 / len(fw.scored_groups) for g in fw.scored_groups})
    assert len(seen) == 1
    actions = list(store.audit_log(con, 2)["action"])
    assert actions == ["council.submit", "weights.save"]


def test_a_nested_write_cannot_roll_back_the_outer_one(con):
    with pytest.raises(store.StoreError):
        with store.write(con, CLI_ACTOR, "setup", action=None):
            with store.write(con, CLI_ACTOR, "setup", action=None) as inner:
                inner.rollback()


def test_migrations_are_the_named_exemption(tmp_path, violations):
    c = store.connect(tmp_path / "moi.duckdb", create=True)
    store.migrate(c)
    assert violations == []
    assert store.active_write() is None
    c.close()


def test_a_refusal_on_a_read_only_connection_is_still_a_refusal(demo_db):
    """The refusal cannot be logged there (best effort), but the caller still gets PermissionDenied."""
    c = store.connect(demo_db, read_only=True)
    try:
        with pytest.raises(permissions.PermissionDenied):
            weights.mark_official(c, PERIOD, weights.official_profile(c, PERIOD), actor=Actor("lanhdao", "leader"))
        assert store.active_write() is None
    finally:
        c.close()
