"""Synthetic demo data: deterministic, labelled, and with the spread a council sees."""

import pandas as pd

from danvan_scoring import batches, demo
from danvan_scoring import units as unit_store
from danvan_scoring.criteria import default_framework
from danvan_scoring.results import period_results


def test_deterministic_under_seed():
    fw = default_framework()
    codes = [f"{i:05d}" for i in range(30)]
    a = demo.generate(fw, codes, ["2024", "2025"], seed=7)
    b = demo.generate(fw, codes, ["2024", "2025"], seed=7)
    c = demo.generate(fw, codes, ["2024", "2025"], seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a["value"].equals(c["value"])


def test_demo_covers_two_whole_provinces(demo_con):
    s = batches.current_scores(demo_con)
    units = unit_store.units(demo_con)
    for prov in demo.DEMO_PROVINCES:
        codes = set(units.loc[units["province_code"] == prov, "unit_code"])
        assert codes <= set(s["unit_code"])
    assert set(s["period"]) == set(demo.DEMO_PERIODS)
    assert set(s["stage"]) == {"self", "appraised"}


def test_demo_has_a_realistic_spread(demo_con):
    r = period_results(demo_con, "2025")
    assert 0.03 < (~r["eligible"]).mean() < 0.2            # some not eligible
    assert (r["vetoes"] != "").sum() >= 1                    # a few vetoed
    assert r["gap"].median() > 0                             # self a little above appraised
    assert r["gap"].median() < 6
    assert (r["delta_rank"] > 10).sum() >= 5                 # some improving
    assert r["tier"].nunique() >= 5
    assert r["block"].notna().all()
