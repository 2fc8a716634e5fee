"""Council weighting: submissions, spread, consensus, adoption (publishing: test_publish.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from council_support import ADMIN, CHAIR, LEADER, MEMBER2, PERIOD, STAFF
from council_support import three_submissions as _three_submissions

from danvan_scoring import council, permissions, publish, results, store, weights

BOTH_BACKENDS = True  # tests/conftest.py: each test that uses a database runs on DuckDB and PostgreSQL


@pytest.fixture
def con(demo_con):
    return demo_con  # a fresh copy of the session demo DB (conftest)


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
