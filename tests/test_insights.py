"""insights: the read-only analysis the dashboard shows, checked against the scoring itself."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from danvan_scoring import crosswalk, insights, periods, results, store, weights
from danvan_scoring.scoring import points_of

BOTH_BACKENDS = True  # tests/conftest.py: each test that uses a database runs on DuckDB and PostgreSQL


@pytest.fixture(scope="module")
def demo(tmp_path_factory, demo_db_template):
    path = tmp_path_factory.mktemp("insights") / "demo.duckdb"
    shutil.copy(demo_db_template, path)  # the session's demo DB, built once (conftest)
    con = store.connect(path)
    fw = periods.framework_for_period(con, "2025")
    profile = weights.official_profile(con, "2025")
    res = results.period_results(con, "2025")
    scores = results.period_scores(con, "2025")  # what the period is ranked on
    yield {"con": con, "fw": fw, "profile": profile, "res": res, "scores": scores}
    con.close()


def tilted(fw):
    p = weights.default_profile(fw)
    return p.model_copy(update={"name": "nghieng", "groups": {**p.groups, "E": 40.0},
                                "criteria": {**p.criteria, "A1": 10.0}})


def test_shares_sum_to_100_and_match_default_points(demo):
    fw = demo["fw"]
    shares = insights.criterion_points(fw, weights.default_profile(fw))
    assert sum(shares.values()) == pytest.approx(100)
    assert all(shares[c.code] == pytest.approx(c.max_points) for c in fw.criteria.values() if c.ordinary)
    gm = insights.group_max(fw, tilted(fw))
    assert sum(gm.values()) == pytest.approx(100) and gm["E"] > 10


@pytest.mark.parametrize("which", ["official", "tilted"])
def test_contributions_add_up_to_group_scores(demo, which):
    fw = demo["fw"]
    profile = demo["profile"] if which == "official" else tilted(fw)
    res = results.period_results(demo["con"], "2025", profile, with_previous=False)
    cm = insights.contribution_matrix(demo["scores"], fw, profile, res["unit_code"].tolist())
    by_group = cm.T.groupby(lambda c: fw.group_of[c]).sum().T
    for g in by_group.columns:
        np.testing.assert_allclose(by_group[g].to_numpy(), res[f"group_{g}"].to_numpy(), atol=1e-9)


def test_breakdown_obtained_is_the_total(demo):
    fw, profile, res, scores = demo["fw"], demo["profile"], demo["res"], demo["scores"]
    for unit in res["unit_code"].head(20):
        bd = insights.criterion_breakdown(scores[scores["unit_code"] == unit], fw, profile)
        row = res.set_index("unit_code").loc[unit]
        assert len(bd) == len(fw.criteria)
        raw = bd["obtained"].sum()
        assert min(100.0, max(0.0, raw)) == pytest.approx(row["total"], abs=1e-9)
        ordinary = bd[bd["weight"] > 0]
        assert (ordinary["obtained"] + ordinary["lost"]).sum() == pytest.approx(100)


def test_period_breakdown_is_each_units_breakdown(demo):
    """The vectorised pass over every unit (the profile page slices it) gives, unit by unit, what
    criterion_breakdown gives for that unit's own rows; a unit without any score has every
    criterion missing; each unit's obtained points add up to its total."""
    fw, profile, res, scores = demo["fw"], demo["profile"], demo["res"], demo["scores"]
    units = sorted(res["unit_code"].tolist()) + ["99999"]
    allb = insights.period_breakdown(scores, fw, profile, units)
    assert len(allb) == len(units) * len(fw.criteria)
    assert allb["unit_code"].tolist() == [u for u in units for _ in fw.criteria]
    totals = res.set_index("unit_code")["total"]
    for unit, part in allb.groupby("unit_code", sort=False):
        if unit == "99999":
            assert part["missing"].all() and part["points_appraised"].isna().all()
            continue
        want = insights.criterion_breakdown(scores[scores["unit_code"] == unit], fw, profile)
        pd.testing.assert_frame_equal(part.drop(columns="unit_code").reset_index(drop=True), want,
                                      check_dtype=False)
        assert min(100.0, max(0.0, part["obtained"].sum())) == pytest.approx(totals[unit], abs=1e-9)


def test_breakdown_points_of_both_stages_are_each_value_scored_alone(demo):
    fw, profile, scores = demo["fw"], demo["profile"], demo["scores"]
    for unit in demo["res"]["unit_code"].head(10):
        mine = scores[scores["unit_code"] == unit]
        bd = insights.criterion_breakdown(mine, fw, profile).set_index("criterion_code")
        for stage in ("self", "appraised"):
            rows = mine[mine["stage"] == stage].drop_duplicates("criterion_code", keep="last")
            assert bd[f"points_{stage}"].notna().sum() == len(rows)
            for r in rows.itertuples():
                alone = points_of(pd.Series([float(r.value)]), pd.Series([r.criterion_code]), fw)[0]
                assert bd.at[r.criterion_code, f"points_{stage}"] == pytest.approx(alone, nan_ok=True)


def test_points_lost_largest_first_and_weighted(demo):
    fw, scores = demo["fw"], demo["scores"]
    unit = demo["res"]["unit_code"].iloc[-1]
    for profile in (demo["profile"], tilted(fw)):
        bd = insights.criterion_breakdown(scores[scores["unit_code"] == unit], fw, profile)
        lost = insights.points_lost(bd)
        assert list(lost["lost"]) == sorted(lost["lost"], reverse=True)
        assert (lost["lost"] > 0).all()
        shares = insights.criterion_points(fw, profile)
        for r in lost[lost["weight"] > 0].itertuples():
            ach = 0 if np.isnan(r.points_appraised) else r.points_appraised / r.max_points
            assert r.lost == pytest.approx(shares[r.criterion_code] * (1 - ach))


def test_missing_criterion_is_lost_in_full(demo):
    fw, profile = demo["fw"], demo["profile"]
    one = demo["scores"][demo["scores"]["unit_code"] == demo["res"]["unit_code"].iloc[0]]
    bd = insights.criterion_breakdown(one[one["criterion_code"] != "C1"], fw, profile)
    c1 = bd.set_index("criterion_code").loc["C1"]
    assert c1["missing"] and c1["lost"] == pytest.approx(fw.criteria["C1"].max_points)


def test_versus_block(demo):
    fw, res, profile = demo["fw"], demo["res"], demo["profile"]
    cm = insights.contribution_matrix(demo["scores"], fw, profile, res["unit_code"].tolist())
    unit = res["unit_code"].iloc[0]
    strong, weak = insights.versus_block(cm, res, unit, fw, n=4)
    assert len(strong) <= 4 and (strong["diff"] > 0).all()
    assert (weak["diff"] < 0).all()
    assert list(strong["diff"]) == sorted(strong["diff"], reverse=True)
    peers = insights.block_peers(res, unit)["unit_code"]
    c = strong["criterion_code"].iloc[0]
    assert strong["block_mean"].iloc[0] == pytest.approx(cm.loc[peers, c].mean())
    empty_s, empty_w = insights.versus_block(cm, res, "00000", fw)
    assert empty_s.empty and empty_w.empty


def test_block_leader_and_average(demo):
    res = demo["res"]
    block = res["block"].iloc[0]
    leader = insights.block_leader(res, block)
    assert leader["block_rank"] == 1 and leader["block"] == block
    avg = insights.block_average(res, block)
    peers = res[(res["block"] == block) & res["eligible"]]
    assert avg["total"] == pytest.approx(peers["total"].mean())
    assert insights.block_leader(res, "khong-co") is None


def test_summary_distribution_movers(demo):
    res, fw = demo["res"], demo["fw"]
    s = insights.summary(res)
    assert s["units"] == len(res) and s["eligible"] + s["not_eligible"] == len(res)
    assert s["mean_total"] == pytest.approx(res.loc[res["eligible"], "total"].mean())
    dist = insights.tier_distribution(res, fw)
    assert dist["count"].sum() == len(res) and dist["share"].sum() == pytest.approx(1)
    assert list(dist["tier"])[-2:] == [insights.INCOMPLETE_LABEL, insights.NOT_ELIGIBLE_LABEL]
    # missing data is not a sanction: the demo's unranked units are all "chưa đủ dữ liệu"
    assert dist["count"].iloc[-2] == s["incomplete"] == (res["status"] == "incomplete").sum() > 0
    assert dist["count"].iloc[-1] == s["disqualified"] == 0
    assert s["excellent"] == (res["tier_code"] == fw.tiers[0].code).sum() == insights.summary(res, fw)["excellent"]
    up, down = insights.movers(res, 5)
    assert len(up) == 5 and (up["delta_total"] > 0).all()
    assert list(up["delta_total"]) == sorted(up["delta_total"], reverse=True)
    assert list(down["delta_total"]) == sorted(down["delta_total"])
    empty = res.iloc[0:0]
    assert insights.summary(empty)["units"] == 0
    assert insights.tier_distribution(empty, fw)["count"].sum() == 0


def test_filters(demo):
    res = demo["res"]
    assert set(insights.filter_results(res, provinces=["42"])["province_code"]) == {"42"}
    assert list(insights.filter_results(res, search="ĐỨC ĐỒNG")["unit_name"]) == ["Xã Đức Đồng"]
    assert list(insights.filter_results(res, search="duc dong")["unit_name"]) == ["Xã Đức Đồng"]
    assert len(insights.filter_results(res, search="18304")) == 1
    noelig = insights.filter_results(res, tiers=[None])
    assert len(noelig) == int((~res["eligible"]).sum()) and noelig["tier_code"].isna().all()
    both = insights.filter_results(res, tiers=["xuat_sac", None])
    assert len(both) == len(noelig) + int((res["tier_code"] == "xuat_sac").sum())
    assert set(insights.filter_results(res, unit_types=["phuong"])["unit_type"]) == {"phuong"}
    assert len(insights.filter_results(res)) == len(res)


def test_rank_moves(demo):
    res, fw = demo["res"], demo["fw"]
    same = insights.rank_moves(res, res)
    assert (same["moved"].fillna(0) == 0).all() and not same["tier_changed"].any()
    new = results.period_results(demo["con"], "2025", tilted(fw), with_previous=False)
    moves = insights.rank_moves(res, new)
    assert len(moves) == len(res)
    m = moves.dropna(subset=["moved"])
    assert (m["moved"] == m["rank_official"] - m["rank_new"]).all()
    key = moves["moved"].astype("Float64").abs().fillna(0)
    assert list(key) == sorted(key, reverse=True)


def test_mean_trend_is_the_mean_of_the_eligible_rows_and_marks_the_mapped_periods(demo):
    con = demo["con"]
    frames = {p: results.mapped_results(con, p) if crosswalk.is_pre_merger(p) else
              results.period_results(con, p, with_previous=False) for p in periods.periods(con)}
    now = frames["2025"]
    units = now.loc[now["eligible"].astype(bool), "unit_code"].head(6).tolist()
    units.append(now.loc[~now["eligible"].astype(bool), "unit_code"].iloc[0])   # left out of the mean
    tr = insights.mean_trend(frames, units).set_index("period")
    assert list(tr.index) == ["2023", "2024", "2025"]
    ok = now[now["unit_code"].isin(units) & now["eligible"].astype(bool)]
    assert tr.loc["2025", "total"] == pytest.approx(ok["total"].mean()) and tr.loc["2025", "units"] == len(ok) == 6
    assert not tr.loc["2025", "estimated"] and tr.loc["2025", "predecessors"] == 0
    m24 = frames["2024"][frames["2024"]["unit_code"].isin(units)]
    assert tr.loc["2024", "total"] == pytest.approx(m24["total"].mean())
    assert tr.loc["2024", "estimated"] and tr.loc["2024", "predecessors"] == m24["predecessors"].sum() > len(m24)
    assert insights.mean_trend(frames, ["nothing"]).empty


def test_trend_and_compare(demo):
    con, fw = demo["con"], demo["fw"]
    # the years before the merger on the new map: the mapped figures (the demo scores them on old units)
    frames = {p: results.mapped_results(con, p) if crosswalk.is_pre_merger(p) else
              results.period_results(con, p, with_previous=False) for p in periods.periods(con)}
    tr = insights.trend_from(frames, ["18304"])
    assert list(tr["period"]) == ["2023", "2024", "2025"]
    ref = results.trend(con, ["18304"])
    assert list(tr["total"]) == pytest.approx(list(ref["total"]))
    assert list(ref["estimated"]) == [True, True, False] == list(tr["estimated"])
    # how many old units each estimated point comes from travels with it (the hover says it)
    n_old = len(crosswalk.crosswalk(con, unit="18304"))
    assert list(tr["predecessors"].iloc[:2]) == [n_old, n_old] and n_old >= 2
    assert insights.trend_from(frames, ["nothing"]).empty
    cm = insights.contribution_matrix(demo["scores"], fw, demo["profile"])
    table = insights.compare_criteria({"a": cm.loc["18304"], "b": cm.loc["18673"]}, fw)
    assert len(table) == 23
    row = table.iloc[0]
    assert row["spread"] == pytest.approx(abs(row["a"] - row["b"]))
    assert set(table["best"]) <= {"a", "b", ""}
    assert isinstance(table, pd.DataFrame)


def test_search_matches_the_code_in_any_case():
    res = pd.DataFrame({"unit_code": ["CQ4201", "18304"], "unit_name": ["Ban Dân vận", "Xã Đức Đồng"]})
    assert list(insights.filter_results(res, search="cq4201")["unit_code"]) == ["CQ4201"]
    assert list(insights.filter_results(res, search="CQ42")["unit_code"]) == ["CQ4201"]


def test_search_folds_the_unit_code_as_well_as_the_query():
    """Issue 11, point 9: a lower-case query finds an agency code written in capitals."""
    res = pd.DataFrame({"unit_code": ["BDV-HT", "18304"], "unit_name": ["Ban Dân vận", "Xã Đức Đồng"],
                        "province_code": ["42", "42"], "block": ["a", "a"], "tier_code": [None, None],
                        "unit_type": ["agency", "xa"]})
    assert insights.filter_results(res, search="bdv-ht")["unit_code"].tolist() == ["BDV-HT"]
    assert insights.filter_results(res, search="BDV HT")["unit_code"].tolist() == ["BDV-HT"]
