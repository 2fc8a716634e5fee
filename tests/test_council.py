"""Council weighting (submissions, spread, consensus, adoption) and publishing frozen rankings."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from danvan_scoring import council, periods, permissions, publish, results, store, weights
from danvan_scoring.permissions import Actor

PERIOD = "2025"
CHAIR = Actor("hoidong", "council", True)          # the demo council account is the chair
MEMBER2 = Actor("tv2", "council")
MEMBER3 = Actor("tv3", "council")
ADMIN = Actor("quantri", "admin")
LEADER = Actor("lanhdao", "leader")
STAFF = Actor("canbo", "staff")


@pytest.fixture(scope="module")
def council_template(tmp_path_factory, demo_db_template):
    path = tmp_path_factory.mktemp("council") / "demo.duckdb"
    shutil.copy(demo_db_template, path)  # the session's demo DB, built once (conftest)
    return path


@pytest.fixture
def con(council_template, tmp_path):
    path = tmp_path / "db.duckdb"
    shutil.copy(council_template, path)
    c = store.connect(path)
    yield c
    c.close()


def _three_submissions(con):
    fw = periods.framework_for_period(con, PERIOD)
    council.submit(con, PERIOD, actor=CHAIR, points={"A": 30, "B": 20, "C": 20, "D": 20, "E": 10})
    council.submit(con, PERIOD, actor=MEMBER2, points={"A": 10, "B": 30, "C": 30, "D": 20, "E": 10})
    p = weights.default_profile(fw)
    p = p.model_copy(update={"groups": {**p.groups, "E": 40.0}, "criteria": {**p.criteria, "A1": 10.0}})
    council.submit(con, PERIOD, actor=MEMBER3, profile=p)
    return fw


# --------------------------------------------------------------------------- submissions
def test_submissions_show_every_member(con):
    _three_submissions(con)
    sub = council.submissions(con, PERIOD)
    assert sub["member"].tolist() == ["hoidong", "tv2", "tv3"]
    assert sub["method"].tolist() == ["budget", "budget", "weights"]
    shares = sub[[f"share_{g}" for g in "ABCDE"]]
    assert np.allclose(shares.sum(axis=1), 100)
    assert sub.loc[0, "share_A"] == pytest.approx(30)
    assert sub.loc[2, "share_E"] == pytest.approx(100 * 40 / 130)
    # stored as versioned profiles with the member set
    profs = weights.list_profiles(con)
    mine = profs[profs["name"] == council.member_profile_name(PERIOD, "tv2")]
    assert mine["member"].tolist() == ["tv2"]
    long = council.submission_weights(con, PERIOD)
    assert set(long["member"]) == {"hoidong", "tv2", "tv3"}
    a1 = long[(long["member"] == "tv3") & (long["code"] == "A1")].iloc[0]
    assert a1["weight"] == 10.0


def test_resubmission_supersedes(con):
    council.submit(con, PERIOD, actor=MEMBER2, points={"A": 10, "B": 30, "C": 30, "D": 20, "E": 10})
    council.submit(con, PERIOD, actor=MEMBER2, points={"A": 20, "B": 20, "C": 20, "D": 20, "E": 20})
    sub = council.submissions(con, PERIOD)
    assert len(sub) == 1 and sub.loc[0, "share_E"] == pytest.approx(20)
    assert sub.loc[0, "profile"].endswith("(v2)")


def test_budget_must_sum_to_100(con):
    with pytest.raises(store.StoreError, match="100"):
        council.submit(con, PERIOD, actor=CHAIR, points={"A": 30, "B": 20, "C": 20, "D": 20, "E": 20})
    with pytest.raises(store.StoreError):
        council.submit(con, PERIOD, actor=CHAIR, points={"A": 50, "Z": 50})
    with pytest.raises(store.StoreError):
        council.submit(con, PERIOD, actor=CHAIR)


def test_spread_and_consensus(con):
    fw = _three_submissions(con)
    sp = council.spread(con, PERIOD).set_index("group")
    e = [10, 10, 100 * 40 / 130]
    assert sp.loc["E", "min"] == pytest.approx(10) and sp.loc["E", "max"] == pytest.approx(max(e))
    assert sp.loc["E", "median"] == pytest.approx(10)
    assert sp.loc["E", "mean"] == pytest.approx(np.mean(e))
    assert sp.loc["E", "std"] == pytest.approx(np.std(e, ddof=1))
    assert (sp["members"] == 3).all()
    med = council.consensus_profile(con, PERIOD, "median")
    mean = council.consensus_profile(con, PERIOD, "mean")
    for p in (med, mean):
        p.check_against(fw)
        assert sum(p.groups.values()) == pytest.approx(100)
    sub = council.submissions(con, PERIOD)
    raw_mean_A = sub["share_A"].mean()
    assert mean.groups["A"] == pytest.approx(raw_mean_A * 100 / sum(sub[f"share_{g}"].mean() for g in "ABCDE"))
    # criterion weights: median of within-group shares × the group's framework points
    assert med.criteria["B2"] == pytest.approx(fw.criteria["B2"].max_points)
    with pytest.raises(store.StoreError):
        council.consensus_profile(con, PERIOD, "mode")


def test_rankings_under_each_candidate(con):
    _three_submissions(con)
    r = council.rankings(con, PERIOD)
    keys = ["chinh_thuc", "hoidong", "tv2", "tv3", "trung_vi", "trung_binh"]
    for k in keys:
        assert f"rank_{k}" in r.columns and f"total_{k}" in r.columns
    assert set(r.attrs["labels"]) == set(keys)
    live = results.period_results(con, PERIOD, with_previous=False)
    m = r.merge(live[["unit_code", "rank"]], on="unit_code")
    assert (m["rank_chinh_thuc"].fillna(-1) == m["rank"].fillna(-1)).all()
    tv2 = council.member_profiles(con, PERIOD)["tv2"]
    under = results.period_results(con, PERIOD, tv2, with_previous=False)
    m2 = r.merge(under[["unit_code", "rank"]], on="unit_code")
    assert (m2["rank_tv2"].fillna(-1) == m2["rank"].fillna(-1)).all()


def test_chair_adopts_and_everything_is_audited(con):
    _three_submissions(con)
    adopted = council.adopt(con, PERIOD, "trung_vi", actor=CHAIR, note="đồng thuận")
    assert adopted.profile_id is not None
    assert weights.official_profile(con, PERIOD).profile_id == adopted.profile_id
    saved = council.save_consensus(con, PERIOD, "mean", actor=MEMBER2)
    council.adopt(con, PERIOD, saved, actor=ADMIN)
    assert weights.official_profile(con, PERIOD).profile_id == saved.profile_id
    log = store.audit_log(con)
    actions = log["action"].tolist()
    assert actions.count("council.submit") == 3
    assert actions.count("council.adopt") == 2 and "council.consensus" in actions
    assert actions.count("weights.official") == 2
    adopt_row = log[log["action"] == "council.adopt"].iloc[-1]     # the older one: the median
    assert json.loads(adopt_row["after"])["source"] == "median"


def test_non_chair_cannot_adopt_or_publish(con):
    _three_submissions(con)
    with pytest.raises(permissions.PermissionDenied):
        council.adopt(con, PERIOD, "tv2", actor=MEMBER2)
    with pytest.raises(permissions.PermissionDenied):
        publish.publish(con, PERIOD, actor=MEMBER2)


def test_leader_cannot_submit_or_publish(con):
    for who in (LEADER, STAFF):
        with pytest.raises(permissions.PermissionDenied):
            council.submit(con, PERIOD, actor=who, points={"A": 20, "B": 20, "C": 20, "D": 20, "E": 20})
    with pytest.raises(permissions.PermissionDenied):
        publish.publish(con, PERIOD, actor=LEADER)
    with pytest.raises(permissions.PermissionDenied):
        council.adopt(con, PERIOD, "chinh_thuc", actor=LEADER)
    assert con.execute("SELECT count(*) FROM council_submissions").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM published_rankings").fetchone()[0] == 0


# --------------------------------------------------------------------------- publishing
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
