"""A period's results table: the I/O edge that feeds the pure scoring and ranking functions.

One call gives what every page and the ``rank`` command show: ranks, block ranks,
totals, tiers, group sub-scores, the self-score beside the appraised one, and the
change against the previous period.
"""

from __future__ import annotations

import pandas as pd

from . import batches, blocks, periods
from . import units as unit_store
from .awards import award_standing
from .ranking import add_ranks, rank_change
from .scoring import score_units
from .weights import WeightProfile, official_profile

BASE_COLUMNS = ["rank", "unit_code", "unit_name", "total", "tier", "block", "block_rank"]


def scored_units(con, period: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT DISTINCT unit_code FROM current_scores WHERE period = ? ORDER BY 1", [period]).fetchall()]


def period_scores(con, period: str, fw=None) -> pd.DataFrame:
    """The scores a period is ranked on: current typed-in values, with the criteria the
    framework derives from the model registry filled in from it. Every ranking path
    (pages, uncertainty, council, CLI) reads scores through here."""
    from .derived import with_derived

    fw = fw or periods.framework_for_period(con, period)
    return with_derived(con, period, fw, batches.current_scores(con, period, ordered=False))


def self_stage_rows(scores: pd.DataFrame, fw) -> pd.DataFrame:
    """The rows the self-assessed total is computed on: the unit's own scores, except that
    criteria only the appraiser scores take the appraised value (so the self/appraised gap
    shows only what the unit scored itself). ``scores``: both stages of one period."""
    own = scores[scores["stage"] == "self"]
    appr = scores[scores["stage"] == "appraised"]
    appraiser_only = [c.code for c in fw.criteria.values() if c.appraiser_only]
    return pd.concat([own[~own["criterion_code"].isin(appraiser_only)],
                      appr[appr["criterion_code"].isin(appraiser_only)]])


def period_results(con, period: str, profile: WeightProfile | None = None, *,
                   with_previous: bool = True, scores: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every unit scored in the period, ranked; empty frame (with columns) when nothing is scored.

    ``scores``, when given, must come from :func:`period_scores` (a caller ranking the same
    period under many profiles reads it once).
    """
    fw = periods.framework_for_period(con, period)
    profile = profile or official_profile(con, period)
    profile.check_against(fw)
    if scores is None:
        scores = period_scores(con, period, fw)
    units = sorted(pd.unique(scores["unit_code"]).tolist())
    appr = scores[scores["stage"] == "appraised"]
    res = score_units(appr, fw, profile, stage="appraised", units=units)
    has_self = scores.loc[scores["stage"] == "self", "unit_code"].unique()
    self_res = score_units(self_stage_rows(scores, fw), fw, profile, stage="self", units=units)
    res["total_self"] = self_res["total"].where(self_res["unit_code"].isin(has_self))
    res["gap"] = (res["total_self"] - res["total"]).round(2)
    # the tier the self-assessed total would get ("Tốt on self-assessment → Khá after appraisal")
    res["tier_self"] = self_res["tier"].where(self_res["unit_code"].isin(has_self))
    has_appr = appr["unit_code"].unique()
    res.loc[~res["unit_code"].isin(has_appr), "missing"] = "chưa thẩm định"

    info = unit_store.units(con)[["unit_code", "name", "unit_type", "province_code", "province_name", "lat", "lon"]]
    info = info.rename(columns={"name": "unit_name"})
    res = res.merge(info, on="unit_code", how="left")
    blk = blocks.unit_blocks(con, period).rename(columns={"block_code": "block"})
    res = res.merge(blk, on="unit_code", how="left")
    res = award_standing(add_ranks(res, "block"), fw)
    res["period"] = period
    res["profile"] = profile.label
    if with_previous:
        prev_period = periods.previous_period(con, period)
        prev = period_results(con, prev_period, with_previous=False) if prev_period else None
        res = rank_change(res, prev)
    group_cols = [c for c in res.columns if c.startswith("group_")]
    first = BASE_COLUMNS + group_cols
    return res[first + [c for c in res.columns if c not in first]]


def trend(con, unit_codes: list[str]) -> pd.DataFrame:
    """Total and rank of some units over every period (each under its official profile)."""
    frames = []
    for p in periods.periods(con):
        r = period_results(con, p, with_previous=False)
        frames.append(r[r["unit_code"].isin(unit_codes)])
    if not frames:
        return pd.DataFrame(columns=BASE_COLUMNS + ["period"])
    return pd.concat(frames, ignore_index=True)
