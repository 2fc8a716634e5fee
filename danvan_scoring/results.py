"""A period's results table: the I/O edge that feeds the pure scoring and ranking functions.

One call gives what every page and the ``rank`` command show: ranks, block ranks,
totals, tiers, group sub-scores, the self-score beside the appraised one, and the
change against the previous period.
"""

from __future__ import annotations

import pandas as pd

from . import batches, blocks, crosswalk, evidence, lifecycle, periods
from .awards import award_standing
from .errors import StoreError
from .frames import isin
from .ranking import add_ranks, competition_rank, rank_change
from .scoring import score_units
from .weights import WeightProfile, official_profile

BASE_COLUMNS = ["rank", "unit_code", "unit_name", "total", "tier", "block", "block_rank"]


def scored_units(con, period: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT DISTINCT unit_code FROM current_scores WHERE period = ? ORDER BY 1", [period]).fetchall()]


def period_scores(con, period: str, fw=None) -> pd.DataFrame:
    """The scores a period is ranked on: current typed-in values, with the criteria the
    framework derives from the model registry filled in from it. Every ranking path
    (pages, uncertainty, council, CLI) reads scores through here. Evidence files count for
    ``evidence_required`` (``evidence.with_files``)."""
    from .derived import with_derived

    fw = fw or periods.framework_for_period(con, period)
    scores = evidence.with_files(con, period, batches.current_scores(con, period, ordered=False))
    return with_derived(con, period, fw, scores)


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
    # a period before 1 July 2025 is ranked on the legacy units as they were (names, old provinces)
    info = crosswalk.unit_info(con, period)
    blk = blocks.unit_blocks(con, period).rename(columns={"block_code": "block"})
    scopes = {"block": blk.set_index("unit_code")["block"], "province": info.set_index("unit_code")["province_code"]}
    appr = scores[scores["stage"] == "appraised"]
    res = score_units(appr, fw, profile, stage="appraised", units=units, scopes=scopes)
    has_self = scores.loc[scores["stage"] == "self", "unit_code"].unique()
    self_res = score_units(self_stage_rows(scores, fw), fw, profile, stage="self", units=units, scopes=scopes)
    res["total_self"] = self_res["total"].where(isin(self_res["unit_code"], has_self))
    res["gap"] = (res["total_self"] - res["total"]).round(2)
    # the tier the self-assessed total would get ("Tốt on self-assessment → Khá after appraisal")
    res["tier_self"] = self_res["tier"].where(isin(self_res["unit_code"], has_self))
    has_appr = appr["unit_code"].unique()
    res.loc[~isin(res["unit_code"], has_appr), "missing"] = "điểm thẩm định"   # "thiếu điểm thẩm định"

    res = res.merge(info, on="unit_code", how="left")
    res = res.merge(blk, on="unit_code", how="left")
    res = award_standing(add_ranks(res, "block"), fw, closed=lifecycle.input_closed(con, period))
    res["period"] = period
    res["profile"] = profile.label
    if with_previous:
        prev_period = periods.previous_period(con, period)
        prev = period_results(con, prev_period, with_previous=False) if prev_period else None
        res = with_change(con, res, period, prev_period, prev)
    group_cols = [c for c in res.columns if c.startswith("group_")]
    first = BASE_COLUMNS + group_cols
    return res[first + [c for c in res.columns if c not in first]]


def with_change(con, res: pd.DataFrame, period: str, prev_period: str | None,
                prev: pd.DataFrame | None) -> pd.DataFrame:
    """``res`` (a period's results) with the change since ``prev`` (the previous period's results,
    without change): ``ranking.rank_change`` plus ``prev_estimated``. Across the merger (``prev``
    before 1 July 2025, ``res`` after) the comparison is with the previous figures mapped onto the
    new units, and ``prev_estimated`` is True where that figure is "ước tính từ các đơn vị cũ"."""
    across = prev is not None and crosswalk.across_merger(prev_period, period)
    if across:  # the previous period on the old map: compare with its figures mapped onto the new units
        prev = _mapped_previous(con, prev)
    out = rank_change(res, prev)
    out["prev_estimated"] = isin(out["unit_code"], prev.loc[prev["estimated"], "unit_code"]) if across else False
    return out


def trend(con, unit_codes: list[str], *, frames: dict[str, pd.DataFrame] | None = None,
          mapped: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Total and rank of some units over every period (each under its official profile).

    A period before 1 July 2025 gives a new unit its mapped figure (``mapped_results``:
    ``estimated`` True, with its predecessors) once a later period is on the new map, and a
    code's own row when the code itself was scored then (an agency, or a legacy unit asked for).
    ``frames`` (period → ``period_results`` without change) and ``mapped`` (period →
    ``mapped_results``), when given, are used instead of computing them (the pages' cache)."""
    frames_out = []
    ps = periods.periods(con) if frames is None else list(frames)
    later_new = any(not crosswalk.is_pre_merger(p) for p in ps)
    asked_old: list[str] | None = None   # the asked codes that are old units only (not a unit today)
    for p in ps:
        r = frames[p] if frames is not None else period_results(con, p, with_previous=False)
        own = r[isin(r["unit_code"], unit_codes)].assign(estimated=False)
        if crosswalk.is_pre_merger(p) and later_new and len(r):
            # a code of a unit that exists now is read as that new unit: its predecessors' mapped figure
            if asked_old is None:   # the same for every pre-merger period
                asked_old = crosswalk.old_only(con, unit_codes)
            m = mapped[p] if mapped is not None and p in mapped else mapped_results(con, p, own=r)
            m = m[isin(m["unit_code"], unit_codes) & ~isin(m["unit_code"], asked_old)]
            own = pd.concat([own[isin(own["unit_code"], asked_old)], m], ignore_index=True)
        frames_out.append(own.assign(period=p))
    if not frames_out:
        return pd.DataFrame(columns=BASE_COLUMNS + ["period", "estimated"])
    return pd.concat(frames_out, ignore_index=True)


def _mapped_previous(con, prev: pd.DataFrame) -> pd.DataFrame:
    """A pre-merger period's eligible totals mapped onto the new units, ranked among themselves."""
    ok = prev[prev["eligible"].fillna(False).astype(bool)]
    m = crosswalk.map_to_new(ok[["unit_code", "total"]], crosswalk.crosswalk(con))
    m = m[m["total"].notna()].reset_index(drop=True)
    m["eligible"] = True
    m["rank"] = competition_rank(m["total"], m["eligible"])
    return m


MAPPED_VALUES = ["total", "total_self"]


def mapped_results(con, period: str, profile: WeightProfile | None = None, *,
                   own: pd.DataFrame | None = None) -> pd.DataFrame:
    """A pre-merger period shown on the new units: each new unit's total (and group sub-scores,
    self-assessed total) is the share-weighted mean of its scored predecessors' figures
    (``crosswalk.map_to_new``), ranked among the mapped units; ``estimated`` True,
    ``predecessors`` and ``predecessor_codes`` list the old units, ``mark`` says
    "ước tính từ các đơn vị cũ". Tiers, blocks and awards belong to the legacy units' own
    ranking and are left empty here. ``own``: the period's ``period_results`` when already
    computed (under ``profile``)."""
    if not crosswalk.is_pre_merger(period):
        raise StoreError(f"Kỳ {period} kết thúc sau 01/07/2025: kết quả đã tính trên đơn vị mới, "
                         "không cần chuyển từ đơn vị cũ")
    if own is None:
        own = period_results(con, period, profile, with_previous=False)
    ok = own[own["eligible"].fillna(False).astype(bool)]
    groups = [c for c in own.columns if c.startswith("group_")]
    m = crosswalk.map_to_new(ok[["unit_code", *MAPPED_VALUES, *groups]], crosswalk.crosswalk(con),
                             MAPPED_VALUES + groups)
    m = m[m["total"].notna()].reset_index(drop=True)
    info = crosswalk.unit_info(con)  # the new units
    m = m.merge(info, on="unit_code", how="left")
    m["eligible"] = True
    m["gap"] = (m["total_self"] - m["total"]).round(2)
    m["rank"] = competition_rank(m["total"], m["eligible"])
    m["province_rank"] = competition_rank(m["total"], m["eligible"], groups=m["province_code"])
    for c in ("tier", "tier_self", "block", "award_reason", "block_leader"):
        m[c] = None
    m["block_rank"] = pd.Series(pd.NA, index=m.index, dtype="Int64")
    m["award_eligible"] = False
    m["status"] = "estimated"
    m["mark"] = crosswalk.ESTIMATED_MARK
    m["period"] = period
    m["profile"] = own["profile"].iloc[0] if len(own) else None
    m = m.sort_values(["rank", "unit_code"], kind="mergesort").reset_index(drop=True)
    first = BASE_COLUMNS + groups
    return m[first + [c for c in m.columns if c not in first]]


PREDECESSOR_COLUMNS = ["period", "legacy_code", "legacy_name", "legacy_district", "share", "share_method", "total",
                       "rank", "tier", "block", "block_rank", "mark"]


def predecessor_figures(con, unit_code: str, *, frames: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """For the profile page: the old units a new unit was formed from, with their own figures in
    every period that ended before 1 July 2025 (period, legacy_code, legacy_name, legacy_district,
    share, share_method, total, rank, tier, block, block_rank), marked ``ESTIMATED_MARK`` since
    the new unit's figure for those periods is estimated from them. Empty when there is none.
    ``frames``: period → ``period_results`` already computed (the pages' cache)."""
    return predecessor_table(con, unit_code=unit_code, frames=frames)[PREDECESSOR_COLUMNS]


def predecessor_table(con, *, unit_code: str | None = None,
                      frames: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """``predecessor_figures`` of every new unit at once (``unit_code`` first, rows of a unit
    together, each unit's rows in the order ``predecessor_figures`` gives them), or of one."""
    cols = ["unit_code", *PREDECESSOR_COLUMNS]
    cw = crosswalk.crosswalk(con, unit=unit_code)
    parts = []
    for p in periods.periods(con) if frames is None else list(frames):
        if not crosswalk.is_pre_merger(p) or cw.empty:
            continue
        r = frames[p] if frames is not None else period_results(con, p, with_previous=False)
        own = r[isin(r["unit_code"], cw["legacy_code"])][["unit_code", "total", "rank", "tier", "block", "block_rank"]]
        if own.empty:
            continue
        parts.append(cw.merge(own.rename(columns={"unit_code": "legacy_code"}), on="legacy_code").assign(period=p))
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True).assign(mark=crosswalk.ESTIMATED_MARK)[cols]
    return out.sort_values("unit_code", kind="stable").reset_index(drop=True)
