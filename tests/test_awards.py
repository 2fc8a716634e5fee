"""Award eligibility and block leaders: a veto bars awards, ties follow the declared rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from danvan_scoring import periods, results
from danvan_scoring.awards import award_standing
from danvan_scoring.criteria import V2_FRAMEWORK_FILE, load_framework

BOTH_BACKENDS = True  # tests/conftest.py: each test that uses a database runs on DuckDB and PostgreSQL

FW = load_framework(V2_FRAMEWORK_FILE)   # the demo's framework (five bands, P4)


def frame(rows):
    df = pd.DataFrame(rows, columns=["unit_code", "block", "total", "eligible", "vetoes", "group_A", "group_B"])
    return df


def test_a_vetoed_unit_keeps_its_rank_but_not_the_lead():
    df = frame([("1", "X", 95.0, True, "diem_nong", 20, 25), ("2", "X", 90.0, True, "", 20, 25),
                ("3", "X", 99.0, False, "", 20, 25)])
    out = award_standing(df, FW).set_index("unit_code")
    assert out["block_leader"].to_dict() == {"1": False, "2": True, "3": False}
    assert not out.at["1", "award_eligible"] and "khiếu kiện đông người" in out.at["1", "award_reason"]
    assert out.at["3", "award_reason"].startswith("chưa đủ dữ liệu")
    assert out.at["2", "award_eligible"] and pd.isna(out.at["2", "award_reason"])


def test_a_tie_is_settled_by_group_totals_in_order_never_by_code():
    df = frame([("1", "X", 90.004, True, "", 18.0, 25.0), ("2", "X", 89.996, True, "", 19.0, 24.0)])
    out = award_standing(df, FW).set_index("unit_code")
    assert out["block_leader"].to_dict() == {"1": False, "2": True}   # higher group A wins
    assert not out["leader_tie"].any()


def test_a_tie_the_rule_leaves_open_gives_no_leader():
    df = frame([("1", "X", 90.0, True, "", 19.0, 24.0), ("2", "X", 90.0, True, "", 19.0, 24.0)])
    out = award_standing(df, FW)
    assert not out["block_leader"].any() and out["leader_tie"].all()


def test_council_decides_every_tie():
    fw = FW.model_copy(update={"leader_tie_break": "council"})
    df = frame([("1", "X", 90.0, True, "", 20.0, 24.0), ("2", "X", 90.0, True, "", 19.0, 24.0)])
    out = award_standing(df, fw)
    assert not out["block_leader"].any() and out["leader_tie"].all()


def test_unknown_tie_break_group_is_refused():
    data = FW.model_dump()
    data["leader_tie_break"] = ["A", "Z"]
    with pytest.raises(ValueError, match="leader_tie_break"):
        type(FW).model_validate(data)


def test_a_framework_without_the_rule_serialises_as_before():
    assert "leader_tie_break" not in FW.model_dump_json()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("XYZ"), st.sampled_from([80.0, 85.0, 85.001, 90.0, 70.0]),
                          st.booleans(), st.sampled_from(["", "", "ky_luat"]),
                          st.sampled_from([18.0, 19.0]), st.sampled_from([24.0, 25.0])),
                min_size=1, max_size=30))
def test_at_most_one_award_eligible_leader_per_block_with_the_best_total(rows):
    df = frame([(str(i), *r) for i, r in enumerate(rows)])
    out = award_standing(df, FW)
    for _, part in out.groupby("block"):
        leaders = part[part["block_leader"]]
        assert len(leaders) <= 1
        ok = part[part["award_eligible"]]
        if len(leaders):
            assert leaders["award_eligible"].all()
            assert round(leaders["total"].iloc[0], 2) == round(ok["total"].max(), 2)
        elif len(ok):
            assert part["leader_tie"].any()       # no leader only because of an open tie
    assert not (out["award_eligible"] & (out["vetoes"] != "")).any()


def test_demo_results_carry_one_leader_per_block(demo_con):
    r = results.period_results(demo_con, periods.periods(demo_con)[-1], with_previous=False)
    per_block = r.groupby("block")["block_leader"].sum()
    assert ((per_block == 1) | r.groupby("block")["leader_tie"].any()).all()
    vetoed = r[r["vetoes"].fillna("") != ""]
    assert len(vetoed) and not vetoed["block_leader"].any() and not vetoed["award_eligible"].any()
    assert np.all(r.loc[r["block_leader"], "award_eligible"])
