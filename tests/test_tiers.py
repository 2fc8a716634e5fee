"""Tiers and vetoes: the one rule (tiers.py) that scoring, the pages and the Monte Carlo share."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from danvan_scoring import scoring
from danvan_scoring.criteria import default_framework
from danvan_scoring.tiers import tier_index, tier_spec, veto_caps, veto_failures
from danvan_scoring.weights import default_profile

FW = default_framework()


def _oracle_tier(total: float, cap: int) -> int:
    """Best tier whose min_total the printed total reaches, then no better than the cap."""
    printed = float(f"{total:.2f}")
    own = next(k for k, t in enumerate(FW.tiers) if printed >= t.min_total)
    return max(own, cap)


@settings(max_examples=150, deadline=None)
@given(hnp.arrays(np.float64, st.integers(1, 50),
                  elements=st.one_of(st.floats(0, 100, allow_nan=False),
                                     st.sampled_from([90.0, 89.995, 89.994999, 80.0, 79.995, 65.0, 50.0, 0.0]))),
       st.data())
def test_tier_index_follows_the_bands_and_caps(t, data):
    caps = np.array(data.draw(st.lists(st.integers(0, len(FW.tiers) - 1), min_size=len(t), max_size=len(t))))
    codes, thr = tier_spec(FW)
    got = tier_index(t, thr, caps)
    assert got.tolist() == [_oracle_tier(x, k) for x, k in zip(np.round(t, 2), caps)]
    assert codes == [x.code for x in FW.tiers]


def _sheet(unit: str, fail: set[str]) -> pd.DataFrame:
    rows = []
    for c in FW.criteria.values():
        if not c.ordinary:
            continue
        v = 0.0 if c.code in fail else (1.0 if c.kind.value == "pass_fail" else c.max_points)
        if c.kind.value == "ratio":
            v = 0.0 if c.code in fail else c.target
        if c.kind.value == "count":
            v = 0.0 if c.code in fail else c.max_points / c.per_unit
        rows.append((unit, c.code, v, "bb.pdf"))
    return pd.DataFrame(rows, columns=["unit_code", "criterion_code", "value", "evidence"])


def test_a_failed_veto_criterion_caps_and_is_listed():
    veto = FW.vetoes[0]
    s = pd.concat([_sheet("00001", set()), _sheet("00002", {veto.criterion})], ignore_index=True)
    m = scoring.build_matrices(s, FW)
    failed = veto_failures(m, FW)
    assert failed[:, 0].tolist() == [False, True]
    order = [t.code for t in FW.tiers]
    assert veto_caps(m, FW).tolist() == [0, order.index(veto.cap_tier)]
    r = scoring.score_units(s, FW, default_profile(FW)).set_index("unit_code")
    assert r.at["00002", "vetoes"] == veto.code and r.at["00001", "vetoes"] == ""
    assert order.index(r.at["00002", "tier_code"]) >= order.index(veto.cap_tier)


def test_an_unscored_veto_criterion_is_no_veto():
    veto = FW.vetoes[0]
    s = _sheet("00001", set())
    s = s[s["criterion_code"] != veto.criterion]
    m = scoring.build_matrices(s, FW)
    assert not veto_failures(m, FW).any() and veto_caps(m, FW).tolist() == [0]
