"""Read-only analysis the dashboard pages show: cards, movers, block comparisons, points lost.

Pure functions on the frames :func:`results.period_results` and :func:`batches.current_scores`
return (no database, no Streamlit), so the pages hold no scoring logic and these are
tested on their own.

Points are always *points in the total* under a weight profile: a criterion ``c`` of group
``g`` carries ``share_c = 100 · W_g/ΣW · w_c/Σ_{c'∈g} w_c'`` points at full achievement, so
under the default profile its share is its framework ``max_points`` and "points lost" is
``max − points``; under another profile it is ``weight × missing achievement``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .criteria import INCOMPLETE_LABEL, NOT_ELIGIBLE_LABEL, Framework, Kind
from .frames import isin
from .scoring import build_matrices, points_of
from .text import fold

if TYPE_CHECKING:  # annotations only: weights stores profiles, and scoring stays pure
    from .weights import WeightProfile


# --------------------------------------------------------------------------- weights → points
def group_max(fw: Framework, profile: WeightProfile) -> dict[str, float]:
    """Points each scored group carries in the total (100 · W_g / ΣW)."""
    total = sum(profile.groups.get(g.code, 0.0) for g in fw.scored_groups)
    if total <= 0:
        return {g.code: 0.0 for g in fw.scored_groups}
    return {g.code: 100.0 * profile.groups.get(g.code, 0.0) / total for g in fw.scored_groups}


def criterion_points(fw: Framework, profile: WeightProfile) -> dict[str, float]:
    """Points each ordinary criterion carries in the total at full achievement."""
    gmax = group_max(fw, profile)
    out: dict[str, float] = {}
    for g in fw.scored_groups:
        crits = [c for c in g.criteria if c.ordinary]
        denom = sum(profile.criteria.get(c.code, 0.0) for c in crits)
        for c in crits:
            out[c.code] = gmax[g.code] * profile.criteria.get(c.code, 0.0) / denom if denom > 0 else 0.0
    return out


# --------------------------------------------------------------------------- one unit
BREAKDOWN_COLUMNS = ["group_code", "group_name", "criterion_code", "criterion_name", "kind", "max_points",
                     "evidence_required", "appraiser_only", "value_self", "points_self", "value_appraised",
                     "points_appraised", "evidence", "note", "missing", "missing_evidence", "weight", "obtained",
                     "lost", "gap"]


def criterion_breakdown(unit_scores: pd.DataFrame, fw: Framework, profile: WeightProfile) -> pd.DataFrame:
    """Group → criterion table of one unit in one period.

    ``unit_scores``: that unit's rows of ``current_scores`` (both stages). One row per
    criterion of the framework, in framework order, with the raw values, framework
    points, self against appraised, the points it carries in the total, the points
    obtained and the points lost (weight × missing achievement; a penalty's points).
    ``period_breakdown`` of that one unit (one implementation of the rule).
    """
    codes = unit_scores["unit_code"].unique().tolist() if "unit_code" in unit_scores.columns else []
    unit = codes[0] if len(codes) == 1 else None
    rows = unit_scores if unit is not None else unit_scores.assign(unit_code=None)
    return period_breakdown(rows, fw, profile, [unit]).drop(columns="unit_code")


def period_breakdown(scores: pd.DataFrame, fw: Framework, profile: WeightProfile,
                     units: list | None = None) -> pd.DataFrame:
    """``criterion_breakdown`` of every unit of ``units`` (default: those in ``scores``, sorted) in
    one vectorised pass: one row per unit × criterion, units in the order given, each unit's
    criteria in framework order (so one unit's rows, and one group's rows of a unit, are
    contiguous), with ``unit_code`` first."""
    if units is None:
        units = sorted(pd.unique(scores["unit_code"]).tolist())
    crits = [(g, c) for g in fw.groups for c in g.criteria]
    nu, nc = len(units), len(crits)
    code_idx = pd.Index([c.code for _, c in crits])
    unit_idx = pd.Index(units)
    out: dict[str, object] = {
        "unit_code": np.repeat(np.asarray(units, dtype=object), nc),
        "group_code": np.tile(np.asarray([g.code for g, _ in crits], dtype=object), nu),
        "group_name": np.tile(np.asarray([g.name for g, _ in crits], dtype=object), nu),
        "criterion_code": np.tile(np.asarray(code_idx, dtype=object), nu),
        "criterion_name": np.tile(np.asarray([c.name for _, c in crits], dtype=object), nu),
        "kind": np.tile(np.asarray([c.kind.value for _, c in crits], dtype=object), nu),
        "max_points": np.tile(np.asarray([float(c.max_points) for _, c in crits]), nu),
        "evidence_required": np.tile(np.asarray([bool(c.evidence_required) for _, c in crits]), nu),
        "appraiser_only": np.tile(np.asarray([bool(c.appraiser_only) for _, c in crits]), nu),
    }
    n = nu * nc
    present = np.zeros(n, dtype=bool)
    evidence = np.full(n, None, dtype=object)
    note = np.full(n, None, dtype=object)
    for stage in ("self", "appraised"):
        s = scores[scores["stage"] == stage].drop_duplicates(["unit_code", "criterion_code"], keep="last")
        u = unit_idx.get_indexer(s["unit_code"])
        c = code_idx.get_indexer(s["criterion_code"])
        keep = (u >= 0) & (c >= 0)
        s, flat = s[keep], (u * nc + c)[keep]
        values = pd.to_numeric(s["value"]).astype(float).reset_index(drop=True)
        value, points = np.full(n, np.nan), np.full(n, np.nan)
        value[flat] = values.to_numpy()
        # points_of is the one rule (vectorised over criteria of every kind)
        points[flat] = np.asarray(points_of(values, s["criterion_code"].reset_index(drop=True), fw), dtype=float)
        out[f"value_{stage}"], out[f"points_{stage}"] = value, points
        if stage == "appraised":
            present[flat] = True
            evidence[flat] = [_text(v) for v in s["evidence"].tolist()]
            note[flat] = [_text(v) for v in s["note"].tolist()]
    out["evidence"], out["note"] = evidence, note
    out["missing"] = ~present
    has_evidence = np.asarray([e is not None for e in evidence], dtype=bool)
    out["missing_evidence"] = out["evidence_required"] & present & ~has_evidence
    pts = out["points_appraised"]
    got = np.where(np.isnan(pts), 0.0, pts)
    shares = criterion_points(fw, profile)
    share = np.tile(np.asarray([shares.get(c.code, 0.0) if c.ordinary else 0.0 for _, c in crits]), nu)
    ordinary = np.tile(np.asarray([c.ordinary for _, c in crits], dtype=bool), nu)
    penalty = np.tile(np.asarray([c.kind is Kind.penalty for _, c in crits], dtype=bool), nu)
    mx = out["max_points"]
    with np.errstate(invalid="ignore", divide="ignore"):
        ach = np.where(ordinary, got / np.where(ordinary, mx, 1.0), 0.0)
    out["weight"] = share
    out["obtained"] = np.where(ordinary, share * ach, np.where(penalty, -got, got))
    out["lost"] = np.where(ordinary, share * (1.0 - ach), np.where(penalty, got, 0.0))
    out["gap"] = out["points_self"] - pts   # NaN when either stage has no value
    return pd.DataFrame(out, columns=["unit_code", *BREAKDOWN_COLUMNS])


def _text(v) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    s = str(v).strip()
    return s or None


def points_lost(breakdown: pd.DataFrame, limit: int | None = None) -> pd.DataFrame:
    """Criteria where points were lost, largest first (ties: framework order)."""
    out = breakdown[breakdown["lost"] > 0.005].copy()
    out["_order"] = range(len(out))
    out = out.sort_values(["lost", "_order"], ascending=[False, True], kind="mergesort").drop(columns="_order")
    out = out.reset_index(drop=True)
    return out.head(limit) if limit else out


# --------------------------------------------------------------------------- criterion matrix
def contribution_matrix(scores: pd.DataFrame, fw: Framework, profile: WeightProfile,
                        units: list[str] | None = None) -> pd.DataFrame:
    """Units × ordinary criteria: points each criterion adds to each unit's total (appraised)."""
    appr = scores[scores["stage"] == "appraised"]
    m = build_matrices(appr, fw, units)
    shares = criterion_points(fw, profile)
    w = np.array([shares.get(c, 0.0) for c in m.ordinary])
    return pd.DataFrame(m.achievement * w, index=pd.Index(m.units, name="unit_code"), columns=m.ordinary)


def versus_block(contrib: pd.DataFrame, res: pd.DataFrame, unit_code: str, fw: Framework,
                 n: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The unit's strengths and weaknesses against its block's average, per criterion.

    Returns (strengths, weaknesses): criterion_code, criterion_name, unit, block_mean, diff,
    in points of the total; strengths have diff > 0, weaknesses diff < 0, largest first.
    """
    empty = pd.DataFrame(columns=["criterion_code", "criterion_name", "unit", "block_mean", "diff"])
    row = res[res["unit_code"] == unit_code]
    if row.empty or unit_code not in contrib.index:
        return empty, empty
    block = row["block"].iloc[0]
    peers = res.loc[res["block"] == block, "unit_code"] if pd.notna(block) else res["unit_code"]
    peers = [u for u in peers if u in contrib.index]
    mean = contrib.loc[peers].mean()
    mine = contrib.loc[unit_code]
    frame = pd.DataFrame({"criterion_code": contrib.columns, "unit": mine.values, "block_mean": mean.values})
    frame["criterion_name"] = [fw.criteria[c].name for c in frame["criterion_code"]]
    frame["diff"] = frame["unit"] - frame["block_mean"]
    frame = frame[["criterion_code", "criterion_name", "unit", "block_mean", "diff"]]
    strengths = frame[frame["diff"] > 0.005].sort_values("diff", ascending=False, kind="mergesort").head(n)
    weaknesses = frame[frame["diff"] < -0.005].sort_values("diff", kind="mergesort").head(n)
    return strengths.reset_index(drop=True), weaknesses.reset_index(drop=True)


# --------------------------------------------------------------------------- blocks
def block_peers(res: pd.DataFrame, unit_code: str) -> pd.DataFrame:
    row = res[res["unit_code"] == unit_code]
    if row.empty or pd.isna(row["block"].iloc[0]):
        return res.iloc[0:0]
    return res[res["block"] == row["block"].iloc[0]]


def block_leader(res: pd.DataFrame, block: str) -> pd.Series | None:
    """The unit ranked first in the block (lowest unit code among equals), None if nobody is ranked."""
    peers = res[(res["block"] == block) & res["block_rank"].notna()]
    if peers.empty:
        return None
    return peers.sort_values(["block_rank", "unit_code"], kind="mergesort").iloc[0]


def block_average(res: pd.DataFrame, block: str) -> pd.Series:
    """Mean total and group sub-scores of the block's eligible units (all its units if none is)."""
    peers = res[res["block"] == block]
    ok = peers[peers["eligible"].astype(bool)]
    peers = ok if not ok.empty else peers
    cols = ["total"] + [c for c in res.columns if c.startswith("group_")]
    return peers[cols].mean()


# --------------------------------------------------------------------------- overview
def _status(res: pd.DataFrame) -> pd.Series:
    """Each row's status (ranked / incomplete / not_eligible); a table without it counts every
    unranked unit as incomplete (missing data is not a sanction)."""
    if "status" in res.columns:
        return res["status"].fillna("incomplete")
    return pd.Series(np.where(res["eligible"].astype(bool), "ranked", "incomplete"), index=res.index)


def summary(res: pd.DataFrame, fw: Framework | None = None) -> dict:
    """Headline figures of a (filtered) results table; ``excellent`` counts the framework's top
    tier (Xuất sắc, or Hoàn thành xuất sắc nhiệm vụ under QĐ 366)."""
    n = len(res)
    elig = res[res["eligible"].astype(bool)] if n else res
    mean_total = float(elig["total"].mean()) if len(elig) else float("nan")
    both = elig.dropna(subset=["total_prev"]) if "total_prev" in elig.columns and len(elig) else elig.iloc[0:0]
    mean_change = float((both["total"] - both["total_prev"]).mean()) if len(both) else float("nan")
    top_code = fw.tiers[0].code if fw is not None else "xuat_sac"
    top = res[res["tier_code"] == top_code] if n and "tier_code" in res.columns else res.iloc[0:0]
    status = _status(res) if n else pd.Series(dtype=object)
    return {"units": n, "eligible": int(len(elig)), "not_eligible": int(n - len(elig)), "mean_total": mean_total,
            "incomplete": int((status == "incomplete").sum()), "disqualified": int((status == "not_eligible").sum()),
            "mean_change": mean_change, "compared": int(len(both)), "excellent": int(len(top))}


def tier_distribution(res: pd.DataFrame, fw: Framework) -> pd.DataFrame:
    """Count and share of units in each tier, best first, then those not ranked yet: incomplete
    ("chưa đủ dữ liệu") and not eligible ("không đủ điều kiện xếp loại") apart."""
    counts = res["tier_code"].value_counts() if len(res) else pd.Series(dtype=int)
    rows = [{"tier_code": t.code, "tier": t.name, "count": int(counts.get(t.code, 0))} for t in fw.tiers]
    unranked = _status(res[res["tier_code"].isna()]) if len(res) else pd.Series(dtype=object)
    rows.append({"tier_code": None, "tier": INCOMPLETE_LABEL, "count": int((unranked != "not_eligible").sum())})
    rows.append({"tier_code": None, "tier": NOT_ELIGIBLE_LABEL, "count": int((unranked == "not_eligible").sum())})
    out = pd.DataFrame(rows)
    total = out["count"].sum()
    out["share"] = out["count"] / total if total else 0.0
    return out


def movers(res: pd.DataFrame, n: int = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(most improved, most declined) by change of total against the previous period."""
    if "delta_total" not in res.columns:
        return res.iloc[0:0], res.iloc[0:0]
    have = res.dropna(subset=["delta_total"])
    up = have[have["delta_total"] > 0].sort_values(["delta_total", "unit_code"], ascending=[False, True],
                                                   kind="mergesort").head(n)
    down = have[have["delta_total"] < 0].sort_values(["delta_total", "unit_code"], ascending=[True, True],
                                                     kind="mergesort").head(n)
    return up.reset_index(drop=True), down.reset_index(drop=True)


# --------------------------------------------------------------------------- filters
def filter_results(res: pd.DataFrame, *, search: str = "", provinces=None, blocks=None, tiers=None,
                   unit_types=None) -> pd.DataFrame:
    """Rows matching every given filter; ``tiers`` holds tier codes, None = not eligible."""
    out = res
    if provinces:
        out = out[out["province_code"].isin(list(provinces))]
    if blocks:
        out = out[out["block"].isin(list(blocks))]
    if tiers:
        tiers = list(tiers)
        mask = out["tier_code"].isin([t for t in tiers if t])
        if None in tiers:
            mask |= out["tier_code"].isna()
        out = out[mask]
    if unit_types:
        out = out[out["unit_type"].isin(list(unit_types))]
    q = fold(search.strip()) if search else ""
    if q:
        names = out["unit_name"].fillna("").map(fold)
        out = out[names.str.contains(q, regex=False) | out["unit_code"].astype(str).map(fold).str.contains(q, regex=False)]
    return out


# --------------------------------------------------------------------------- weights preview
def rank_moves(official: pd.DataFrame, preview: pd.DataFrame) -> pd.DataFrame:
    """Each unit's rank and tier under the official and the new weights; ``moved`` > 0 = up."""
    a = official[["unit_code", "unit_name", "province_name", "rank", "total", "tier"]].rename(
        columns={"rank": "rank_official", "total": "total_official", "tier": "tier_official"})
    b = preview[["unit_code", "rank", "total", "tier"]].rename(
        columns={"rank": "rank_new", "total": "total_new", "tier": "tier_new"})
    out = a.merge(b, on="unit_code", how="outer")
    out["moved"] = (out["rank_official"].astype("Float64") - out["rank_new"].astype("Float64")).astype("Int64")
    out["tier_changed"] = out["tier_official"] != out["tier_new"]
    key = out["moved"].astype("Float64").abs().fillna(0)
    out = out.assign(_k=key).sort_values(["_k", "rank_new", "unit_code"], ascending=[False, True, True],
                                         kind="mergesort", na_position="last").drop(columns="_k")
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- trends & comparisons
def trend_from(frames: dict[str, pd.DataFrame], unit_codes: list[str]) -> pd.DataFrame:
    """Total, rank and tier of some units over periods, from per-period results frames; ``estimated``
    True where a frame's row says so (a pre-merger period mapped onto the new units), with
    ``predecessors`` (how many old units) when a frame has it."""
    parts = []
    for period, r in frames.items():
        sub = r[isin(r["unit_code"], unit_codes)]
        if len(sub):
            sub = sub.assign(period=period)
            sub["estimated"] = sub["estimated"].fillna(False).astype(bool) if "estimated" in sub.columns else False
            parts.append(sub)
    cols = ["period", "unit_code", "unit_name", "total", "rank", "block_rank", "tier", "estimated"]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)
    if "predecessors" in out.columns:  # how many old units an estimated figure comes from
        cols.append("predecessors")
    return out[cols + [c for c in out.columns if c.startswith("group_")]]


def mean_trend(frames: dict[str, pd.DataFrame], unit_codes: list[str]) -> pd.DataFrame:
    """Mean total of some units' eligible rows per period (period, total, units, estimated,
    predecessors): ``estimated`` when the period's frame holds figures mapped from the old units,
    ``predecessors`` then how many old units they come from."""
    rows = []
    for period, r in frames.items():
        sub = r[isin(r["unit_code"], unit_codes) & r["eligible"].fillna(False).astype(bool) & r["total"].notna()]
        if sub.empty:
            continue
        est = bool(sub["estimated"].fillna(False).astype(bool).any()) if "estimated" in sub.columns else False
        rows.append({"period": period, "total": float(sub["total"].mean()), "units": int(len(sub)),
                     "estimated": est,
                     "predecessors": int(sub["predecessors"].sum()) if est and "predecessors" in sub.columns else 0})
    return pd.DataFrame(rows, columns=["period", "total", "units", "estimated", "predecessors"])


def compare_criteria(columns: dict[str, pd.Series], fw: Framework) -> pd.DataFrame:
    """Criterion-by-criterion table: one column per compared entity (points in the total),
    plus the spread (best − worst) and which entity is best on each criterion."""
    frame = pd.DataFrame(columns)
    frame.index.name = "criterion_code"
    frame = frame.reset_index()
    frame.insert(1, "criterion_name", [fw.criteria[c].name for c in frame["criterion_code"]])
    frame.insert(1, "group_code", [fw.group_of[c] for c in frame["criterion_code"]])
    vals = frame[list(columns)]
    frame["spread"] = vals.max(axis=1) - vals.min(axis=1)
    best = vals.idxmax(axis=1)
    frame["best"] = best.where(frame["spread"] > 0.005, "")
    return frame


# --------------------------------------------------------------------------- rank sensitivity wording
def _vn_num(x: float, digits: int = 2) -> str:
    """1.234,5 — Vietnamese number, trailing zeros of the decimals dropped."""
    text = f"{float(x):,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")


def flip_sentence(row: dict, a: str, b: str) -> str:
    """One Vietnamese sentence for a row of ``sensitivity.pairwise_flip_for``, with unit names:
    "Nếu trọng số nhóm C (…) tăng ×1,23 (từ 25 lên 30,75) thì A vượt B"."""
    code = row.get("group")
    name = row.get("group_name") or code
    label = f"nhóm {code} ({name})" if name and name != code else f"nhóm {code}"
    if not row.get("possible"):
        return f"Chỉ thay đổi trọng số {label} (các nhóm khác giữ nguyên) thì {a} không thể vượt {b}."
    k = float(row["factor"])
    if k == 1.0:
        return f"{a} đã xếp trên {b} với bộ trọng số hiện tại."
    if k == 0.0:
        return f"{a} chỉ vượt {b} nếu bỏ hẳn {label} (trọng số bằng 0)."
    verb, word = ("tăng", "lên") if k > 1 else ("giảm còn", "xuống")
    return (f"Nếu trọng số {label} {verb} ×{_vn_num(k)} (từ {_vn_num(row['weight'])} {word} "
            f"{_vn_num(row['new_weight'])}; {'+' if k > 1 else '−'}{_vn_num(abs(100 * (k - 1)), 1)}%) "
            f"thì {a} vượt {b}.")


def swing_sentence(summary: pd.DataFrame, most: str | None, factors=(0.5, 1.5)) -> str:
    """One Vietnamese sentence for ``sensitivity.rank_swing_for``: which group weight moves the
    unit's rank most, and how far (``factors``: the multipliers tried, e.g. the curve's)."""
    if summary is None or summary.empty:
        return "Chưa tính được ảnh hưởng của trọng số đến thứ hạng."
    f = [float(x) for x in factors]
    lo, hi = _vn_num(min(f)), _vn_num(max(f))
    if most is None:
        return (f"Nhân riêng trọng số của bất kỳ nhóm nào từ ×{lo} đến ×{hi} (các nhóm khác giữ nguyên) "
                "cũng không làm thứ hạng của đơn vị thay đổi.")
    r = summary[summary["group"] == most].iloc[0]
    name = r.get("group_name") or most
    return (f"Trọng số nhóm {most} ({name}) ảnh hưởng đến thứ hạng nhiều nhất: khi nhân riêng trọng số nhóm này "
            f"từ ×{lo} đến ×{hi}, đơn vị đứng từ hạng {int(r['rank_best'])} (×{_vn_num(r['factor_best'])}) đến hạng "
            f"{int(r['rank_worst'])} (×{_vn_num(r['factor_worst'])}) — chênh {int(r['swing'])} bậc so với hạng "
            f"{int(r['rank'])} hiện nay.")


def candidate_moves(rankings: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """For ``council.rankings``: per unit, the best and worst rank over the candidate profiles and
    how far apart they are (``moves``), largest first — who moves when the council picks."""
    cols = [f"rank_{k}" for k in keys if f"rank_{k}" in rankings.columns]
    out = rankings.copy()
    if not cols:
        out["rank_best"] = out["rank_worst"] = out["moves"] = pd.NA
        return out
    ranks = out[cols].astype("Float64")
    out["rank_best"] = ranks.min(axis=1).astype("Int64")
    out["rank_worst"] = ranks.max(axis=1).astype("Int64")
    out["moves"] = (out["rank_worst"] - out["rank_best"]).astype("Int64")
    key = out["moves"].astype("Float64").fillna(-1)
    return (out.assign(_k=key).sort_values(["_k", "unit_code"], ascending=[False, True], kind="mergesort")
            .drop(columns="_k").reset_index(drop=True))
