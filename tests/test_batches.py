"""Append-only score batches: write, supersede, undo, duplicates, dry runs, permissions."""

import pandas as pd
import pytest

from danvan_scoring import batches, permissions, store
from danvan_scoring.permissions import CLI_ACTOR, Actor

BOTH_BACKENDS = True  # tests/conftest.py: each test that uses a database runs on DuckDB and PostgreSQL


def rows(*items):
    return pd.DataFrame([dict(unit_code=u, period=p, criterion_code=c, stage=s, value=v, evidence=e, note=None)
                         for u, p, c, s, v, e in items])


def test_write_supersede_undo(empty_con):
    con = empty_con
    a = batches.write_batch(con, rows(("00004", "2025", "A3", "appraised", 3.0, None),
                                    ("00004", "2025", "A4", "appraised", 2.0, None)),
                          actor=CLI_ACTOR, filename="a.csv", content_hash="h1")
    assert (a.new, a.changed, a.unchanged) == (2, 0, 0)
    b = batches.write_batch(con, rows(("00004", "2025", "A3", "appraised", 4.5, None),
                                    ("00004", "2025", "A4", "appraised", 2.0, None)),
                          actor=CLI_ACTOR, filename="b.csv", content_hash="h2")
    assert (b.new, b.changed, b.unchanged) == (0, 1, 1)
    cur = batches.current_scores(con, "2025").set_index("criterion_code")["value"]
    assert cur.to_dict() == {"A3": 4.5, "A4": 2.0}
    hist = batches.score_history(con, "00004", "2025")
    assert hist[hist["criterion_code"] == "A3"]["value"].tolist() == [4.5, 3.0]   # history stays
    batches.undo_batch(con, b.batch_id, actor=CLI_ACTOR)
    cur = batches.current_scores(con, "2025").set_index("criterion_code")["value"]
    assert cur.to_dict() == {"A3": 3.0, "A4": 2.0}                                  # exactly what it superseded
    with pytest.raises(store.StoreError, match="đã được hủy"):
        batches.undo_batch(con, b.batch_id, actor=CLI_ACTOR)
    log = store.audit_log(con)
    assert {"scores.import", "batch.undo"} <= set(log["action"])


def test_same_content_twice_changes_nothing(empty_con):
    r = rows(("00004", "2025", "A3", "appraised", 3.0, "bb.pdf"))
    batches.write_batch(empty_con, r, actor=CLI_ACTOR, filename="a.csv", content_hash="h")
    n = len(batches.batches(empty_con))
    again = batches.write_batch(empty_con, r, actor=CLI_ACTOR, filename="a.csv", content_hash="h")
    assert again.skipped_duplicate and again.batch_id is None and again.unchanged == 1
    assert len(batches.batches(empty_con)) == n


def test_dry_run_writes_nothing(empty_con):
    r = rows(("00004", "2025", "A3", "appraised", 3.0, None))
    res = batches.write_batch(empty_con, r, actor=CLI_ACTOR, filename="a.csv", content_hash="h", dry_run=True)
    assert res.new == 1 and res.batch_id is None
    assert batches.current_scores(empty_con).empty


def test_a_leader_cannot_write(empty_con):
    leader = Actor("lanhdao", "leader")
    with pytest.raises(permissions.PermissionDenied, match="không có quyền nhập dữ liệu"):
        batches.write_batch(empty_con, rows(("00004", "2025", "A3", "appraised", 3.0, None)),
                          actor=leader, filename="x", content_hash="x")
    assert batches.current_scores(empty_con).empty
    with pytest.raises(permissions.PermissionDenied):
        batches.undo_batch(empty_con, 1, actor=leader)
