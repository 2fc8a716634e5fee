"""results: the table every page and `danvan rank` show, read from the store."""

from __future__ import annotations

import pandas as pd

from danvan_scoring import crosswalk, results
from danvan_scoring import periods as period_store
from danvan_scoring.criteria import V2_FRAMEWORK_FILE, load_framework
from danvan_scoring.ranking import competition_rank

BOTH_BACKENDS = True  # tests/conftest.py: each test that uses a database runs on DuckDB and PostgreSQL

FW = load_framework(V2_FRAMEWORK_FILE)   # the demo's framework (five bands, P4)


def test_self_stage_rows_take_the_appraised_value_of_appraiser_only_criteria():
    only = next(c.code for c in FW.criteria.values() if c.appraiser_only)
    other = next(c.code for c in FW.criteria.values() if not c.appraiser_only)
    scores = pd.DataFrame([
        ("00001", other, "self", 1.0), ("00001", other, "appraised", 2.0),
        ("00001", only, "self", 9.0), ("00001", only, "appraised", 3.0),
    ], columns=["unit_code", "criterion_code", "stage", "value"])
    rows = results.self_stage_rows(scores, FW).set_index("criterion_code")["value"].to_dict()
    assert rows == {other: 1.0, only: 3.0}


def test_period_results_ranks_eligible_units_and_joins_previous(demo_con):
    periods = period_store.periods(demo_con)
    latest = periods[-1]
    r = results.period_results(demo_con, latest)
    assert list(r.columns[:len(results.BASE_COLUMNS)]) == results.BASE_COLUMNS
    assert r["unit_code"].is_unique and (r["period"] == latest).all()
    ok = r["eligible"].astype(bool)
    assert r.loc[~ok, "rank"].isna().all() and r.loc[ok, "rank"].notna().all()
    assert (r["rank"].astype("Float64") == competition_rank(r["total"], r["eligible"]).astype("Float64")) \
        .fillna(True).all()
    prev = results.period_results(demo_con, periods[-2], with_previous=False)
    # issue 16: the previous period ended before 1 July 2025, so the change compares with the
    # previous figures mapped onto the new units (share-weighted mean of the predecessors), marked
    assert crosswalk.is_pre_merger(periods[-2]) and not crosswalk.is_pre_merger(latest)
    ok_prev = prev[prev["eligible"].astype(bool)]
    mapped = crosswalk.map_to_new(ok_prev[["unit_code", "total"]], crosswalk.crosswalk(demo_con)).set_index("unit_code")
    both = r[ok & r["unit_code"].isin(mapped.index[mapped["total"].notna()])]
    assert len(both) and both["prev_estimated"].all()
    assert (both["total_prev"].to_numpy() == mapped.loc[both["unit_code"], "total"].to_numpy()).all()


def test_gap_is_self_minus_appraised(demo_con):
    r = results.period_results(demo_con, period_store.periods(demo_con)[-1], with_previous=False)
    has = r["total_self"].notna()
    assert has.any()
    assert ((r.loc[has, "total_self"] - r.loc[has, "total"]).round(2) == r.loc[has, "gap"]).all()


def test_trend_has_one_row_per_period_for_each_unit(demo_con):
    r = results.period_results(demo_con, period_store.periods(demo_con)[-1], with_previous=False)
    code = r["unit_code"].iloc[0]
    t = results.trend(demo_con, [code])
    assert set(t["unit_code"]) == {code}
    assert t["period"].is_unique and set(t["period"]) <= set(period_store.periods(demo_con))


def test_empty_period_gives_an_empty_table_with_columns(empty_con):
    assert results.scored_units(empty_con, "2025") == []


def test_province_rank_and_self_tier(demo_con):
    r = results.period_results(demo_con, period_store.periods(demo_con)[-1], with_previous=False)
    ok = r["eligible"].astype(bool)
    for _, part in r[ok].groupby("province_code"):
        assert (part["province_rank"] == competition_rank(part["total"])).all()
    assert r.loc[~ok, "province_rank"].isna().all()
    fw = period_store.framework_for_period(demo_con, period_store.periods(demo_con)[-1])
    from danvan_scoring.tiers import tier_index, tier_spec

    codes, thr = tier_spec(fw)
    has = r["total_self"].notna()
    rows = r[has & ok & (r["vetoes"].fillna("") == "")]
    expect = [fw.tier_names[codes[i]] for i in tier_index(rows["total_self"].to_numpy(), thr)]
    assert rows["tier_self"].tolist() == expect
    assert r.loc[~has, "tier_self"].isna().all()


def test_trend_and_predecessors_from_given_frames_equal_the_computed_ones(demo_con):
    """The pages pass their cached tables: the figures are the same as computed here."""
    ps = period_store.periods(demo_con)
    frames = {p: results.period_results(demo_con, p, with_previous=False) for p in ps}
    mapped = {p: results.mapped_results(demo_con, p, own=frames[p]) for p in ps if crosswalk.is_pre_merger(p)}
    pd.testing.assert_frame_equal(results.trend(demo_con, ["18304"], frames=frames, mapped=mapped),
                                  results.trend(demo_con, ["18304"]))
    pre = {p: f for p, f in frames.items() if crosswalk.is_pre_merger(p)}
    assert pre
    given = results.predecessor_figures(demo_con, "18304", frames=pre)
    assert len(given) == 3 * len(pre)
    pd.testing.assert_frame_equal(given, results.predecessor_figures(demo_con, "18304"))


def test_predecessor_table_of_every_unit_slices_to_each_units_figures(demo_con):
    """The profile page slices one table of every new unit (read once a data version)."""
    table = results.predecessor_table(demo_con)
    assert table["unit_code"].is_monotonic_increasing and len(table)
    many = table.groupby("unit_code").size()
    for unit in [*many.index[:: max(1, len(many) // 5)], many.idxmax()]:
        part = table[table["unit_code"] == unit][results.PREDECESSOR_COLUMNS].reset_index(drop=True)
        pd.testing.assert_frame_equal(part, results.predecessor_figures(demo_con, unit))
    assert results.predecessor_figures(demo_con, "khong-co").empty
