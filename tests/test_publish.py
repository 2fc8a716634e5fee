"""Publishing: a frozen, hashed ranking that survives later weight edits; one audited write."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from council_support import ADMIN, CHAIR, PERIOD, STAFF, three_submissions

from danvan_scoring import council, periods, permissions, publish, results, store, weights

BOTH_BACKENDS = True  # tests/conftest.py: each test that uses a database runs on DuckDB and PostgreSQL


@pytest.fixture
def con(demo_con):
    return demo_con


def _three_submissions(con):
    return three_submissions(con)


def test_live_before_publication(con):
    table, info = publish.published_or_live(con, PERIOD)
    assert info["status"] == "live" and "chưa công bố" in info["message"]
    pd.testing.assert_frame_equal(table, results.period_results(con, PERIOD))
    assert publish.published(con, PERIOD) is None


def test_published_snapshot_survives_weight_edits(con):
    _three_submissions(con)
    adopted = council.adopt(con, PERIOD, "trung_vi", actor=CHAIR)
    pub = publish.publish(con, PERIOD, actor=CHAIR, note="Kết quả năm 2025")
    frozen = results.period_results(con, PERIOD, adopted)
    pd.testing.assert_frame_equal(pub.table, frozen)
    digest = pub.content_hash
    assert len(digest) == 64 and pub.intact

    # edit weights: a new version of the adopted profile, and a different official profile
    edited = adopted.model_copy(update={"groups": {**adopted.groups, "A": 60.0}, "version": None,
                                        "profile_id": None})
    edited = weights.save_profile(con, edited, periods.framework_for_period(con, PERIOD), actor=CHAIR)
    weights.mark_official(con, PERIOD, edited, actor=CHAIR)
    live = results.period_results(con, PERIOD)
    assert not live["total"].equals(frozen["total"])

    again = publish.published(con, PERIOD)
    assert again.publication_id == pub.publication_id and again.content_hash == digest and again.intact
    pd.testing.assert_frame_equal(again.table, frozen)
    table, info = publish.published_or_live(con, PERIOD, check_live=True)
    pd.testing.assert_frame_equal(table, frozen)
    assert info["status"] == "published" and info["profile"] == adopted.label
    assert info["official_changed"] and info["live_differs"]
    assert adopted.label in info["message"] and "đã đổi" in info["message"] and info["published_by"] == "hoidong"

    # publishing again is a new publication; the first stays as it was
    pub2 = publish.publish(con, PERIOD, actor=ADMIN)
    assert pub2.publication_id != pub.publication_id and pub2.content_hash != digest
    assert publish.published(con, PERIOD).publication_id == pub2.publication_id
    pd.testing.assert_frame_equal(publish.publication(con, pub.publication_id).table, frozen)
    hist = publish.publications(con, PERIOD)
    assert hist["publication_id"].tolist() == [pub2.publication_id, pub.publication_id]
    assert hist["profile"].tolist() == [edited.label, adopted.label]
    log = store.audit_log(con)
    assert (log["action"] == "ranking.publish").sum() == 2
    assert digest in log.loc[log["action"] == "ranking.publish", "after"].iloc[-1]


def test_hash_is_deterministic_and_detects_tampering(con):
    pub1 = publish.publish(con, PERIOD, actor=ADMIN)
    pub2 = publish.publish(con, PERIOD, actor=ADMIN)
    assert pub1.content_hash == pub2.content_hash          # same table, same profile → same hash
    assert not publish.live_differs(con, pub2)
    snap = json.loads(con.execute("SELECT snapshot FROM published_rankings WHERE publication_id = ?",
                                  [pub2.publication_id]).fetchone()[0])
    snap["table"]["rows"][0][snap["table"]["columns"].index("total")] = 100.0
    con.execute("UPDATE published_rankings SET snapshot = ? WHERE publication_id = ?",
                [publish.canonical(snap), pub2.publication_id])
    bad = publish.published(con, PERIOD)
    assert not bad.intact
    _, info = publish.published_or_live(con, PERIOD)
    assert "CẢNH BÁO" in info["message"]


def test_snapshot_roundtrip_dtypes():
    frame = pd.DataFrame({
        "rank": pd.array([1, None, 3], dtype="Int64"), "unit_code": ["a", "b", "=c"],
        "total": [99.125, np.nan, 1 / 3], "eligible": [True, False, True],
        "block": ["K1", None, "K2"], "n": np.array([1, 2, 3], dtype="int64"),
    })
    back = publish.snapshot_to_frame(publish.frame_to_snapshot(frame))
    pd.testing.assert_frame_equal(back, frame)
    empty = publish.snapshot_to_frame(publish.frame_to_snapshot(frame.iloc[:0]))
    assert empty.columns.tolist() == frame.columns.tolist()


def test_a_refused_publication_writes_nothing_but_the_refusal(con):
    n = con.execute("SELECT count(*) FROM published_rankings").fetchone()[0]
    with pytest.raises(permissions.PermissionDenied, match="công bố"):
        publish.publish(con, PERIOD, actor=STAFF)
    assert con.execute("SELECT count(*) FROM published_rankings").fetchone()[0] == n
    assert store.audit_log(con, 1).iloc[0]["action"] == "denied:ranking.publish"


def test_a_failing_publication_leaves_no_row_and_no_audit_entry(con, monkeypatch):
    def broken(*a, **k):
        raise RuntimeError("hỏng giữa chừng")

    monkeypatch.setattr(publish, "canonical", broken)
    audit = store.data_version(con)
    with pytest.raises(RuntimeError):
        publish.publish(con, PERIOD, actor=ADMIN)
    assert con.execute("SELECT count(*) FROM published_rankings").fetchone()[0] == 0
    assert store.data_version(con) == audit
