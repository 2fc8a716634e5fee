"""Competition ranks: rounded totals, shared ranks, block ranks, change against the previous period."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from danvan_scoring.ranking import add_ranks, competition_rank, rank_change


def test_equal_printed_totals_share_a_rank():
    t = pd.Series([90.0, 85.004, 84.996, 70.0])
    assert competition_rank(t).tolist() == [1, 2, 2, 4]


def test_not_eligible_is_never_ranked():
    t = pd.Series([10.0, 99.0, 50.0])
    r = competition_rank(t, pd.Series([True, False, True]))
    assert r.tolist()[0] == 2 and pd.isna(r.tolist()[1]) and r.tolist()[2] == 1


def test_block_ranks_and_table_order():
    df = pd.DataFrame({"unit_code": ["b", "a", "c", "d"], "total": [80.0, 80.0, 95.0, 60.0],
                       "eligible": [True, True, True, False], "block": ["X", "Y", "X", "Y"]})
    out = add_ranks(df)
    assert out["unit_code"].tolist() == ["c", "a", "b", "d"]     # tie 'a'/'b' ordered by code
    assert out["rank"].tolist()[:3] == [1, 2, 2]
    assert out.set_index("unit_code")["block_rank"].to_dict()["b"] == 2
    assert out.set_index("unit_code")["block_rank"].to_dict()["a"] == 1
    assert pd.isna(out.set_index("unit_code")["block_rank"]["d"])


def test_rank_change_positive_when_moving_up():
    cur = pd.DataFrame({"unit_code": ["a", "b"], "total": [90.0, 80.0], "rank": pd.array([1, 2], "Int64"),
                        "eligible": [True, True]})
    prev = pd.DataFrame({"unit_code": ["a", "b"], "total": [70.0, 85.0], "rank": pd.array([2, 1], "Int64"),
                         "eligible": [True, True]})
    out = rank_change(cur, prev).set_index("unit_code")
    assert out.loc["a", "delta_rank"] == 1 and out.loc["a", "delta_total"] == 20
    assert out.loc["b", "delta_rank"] == -1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=40))
def test_equal_totals_share_a_rank_for_all_inputs(totals):
    t = pd.Series(totals)
    r = competition_rank(t)
    rounded = t.round(2)
    for i in range(len(t)):
        # rank = 1 + number of strictly higher printed totals
        assert r[i] == 1 + int((rounded > rounded[i]).sum())
    for i in range(len(t)):
        for j in range(len(t)):
            if rounded[i] == rounded[j]:
                assert r[i] == r[j]
    assert np.all(np.diff(r[np.argsort(-rounded.to_numpy(), kind="stable")].to_numpy()) >= 0)
