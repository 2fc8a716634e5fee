"""Scoring: from raw values to points, group sub-scores, totals, tiers, vetoes and eligibility.

Pure functions on pandas/numpy; nothing here reads a file or a database.

The rule, for a weight profile with group weights W_g and criterion weights w_c:
    a_c      = points_c / max_c                      (achievement of an ordinary criterion, 0…1)
    group_g  = 100 · W_g / ΣW · Σ_c∈g w_c·a_c / Σ_c∈g w_c   (the group's share of the total)
    total    = clamp(Σ_g group_g + bonus − penalty, 0, 100)
Under the default profile (w_c = max_c, W_g = Σ max_c of the group) a total is the sum of
points, plus bonus, minus penalty, clamped — the way councils add up a sheet by hand.
A missing non-required criterion scores 0; a missing required one (or its missing
evidence) leaves the unit "incomplete" (chưa đủ dữ liệu): shown, not ranked yet.

"Không phát sinh" (nothing to count, stored as a NaN value of an ``allow_na`` criterion) is
not zero: the criterion drops out of its group for that unit, and the group's share is
renormalised over the applicable criteria (Σ w_c·a_c / Σ w_c over applicable c), under the
default profile ``group_max × Σ points / Σ max`` of the applicable criteria.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import tiers as tier_rules
from .criteria import INCOMPLETE, NOT_ELIGIBLE, Framework, Kind

if TYPE_CHECKING:  # annotations only: weights stores profiles, and scoring stays pure
    from .weights import WeightProfile


_KIND_IDS = {k: i for i, k in enumerate(Kind)}


def _criterion_table(fw: Framework, codes: np.ndarray) -> dict[str, np.ndarray]:
    """Per distinct criterion code: kind id, max, target, per_unit (NaN/-1 for unknown codes)."""
    kind = np.full(len(codes), -1)
    mx = np.full(len(codes), np.nan)
    target = np.full(len(codes), np.nan)
    per = np.full(len(codes), np.nan)
    allow_na = np.zeros(len(codes), dtype=bool)
    for i, code in enumerate(codes):
        c = fw.criteria.get(code)
        if c is None:
            continue
        kind[i] = _KIND_IDS[c.kind]
        mx[i] = c.max_points
        target[i] = c.target or np.nan
        per[i] = c.per_unit or np.nan
        allow_na[i] = c.allow_na
    return {"kind": kind, "max": mx, "target": target, "per": per, "allow_na": allow_na}


def _points(v: np.ndarray, kind: np.ndarray, mx: np.ndarray, target: np.ndarray, per: np.ndarray) -> np.ndarray:
    x = np.clip(v, 0, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.select(
            [kind == _KIND_IDS[Kind.pass_fail], kind == _KIND_IDS[Kind.ratio], kind == _KIND_IDS[Kind.count]],
            [np.where(x >= 1, mx, 0.0), mx * np.minimum(1.0, x / target), np.minimum(mx, x * per)],
            np.minimum(mx, x))
    return np.where(kind >= 0, out, np.nan)


def points_of(values: pd.Series, criterion_codes: pd.Series, fw: Framework) -> np.ndarray:
    """Raw uploaded values → points, by each criterion's kind (vectorised; NaN for unknown codes)."""
    idx, uniq = pd.factorize(criterion_codes)
    t = _criterion_table(fw, np.asarray(uniq, dtype=object))
    take = {k: v[idx] for k, v in t.items() if k != "allow_na"}
    return _points(values.to_numpy(dtype="float64"), take["kind"], take["max"], take["target"], take["per"])


@dataclass(frozen=True)
class Matrices:
    """A period's scores as arrays, the shape the vectorised paths (uncertainty) need."""

    units: list[str]
    ordinary: list[str]        # ordinary criterion codes, in framework order
    groups: list[str]          # scored group codes
    achievement: np.ndarray    # (units, ordinary) in 0…1, missing = 0
    present: np.ndarray        # (units, ordinary) bool
    membership: np.ndarray     # (ordinary, groups) 0/1
    adjust: np.ndarray         # (units,) bonus − penalty points
    bonus: np.ndarray
    penalty: np.ndarray
    applicable: np.ndarray | None = None   # (units, ordinary) bool; False = "không phát sinh"

    def __post_init__(self):
        if self.applicable is None:
            object.__setattr__(self, "applicable", np.ones(self.achievement.shape, dtype=bool))

    @property
    def any_na(self) -> bool:
        return not bool(self.applicable.all())


def build_matrices(scores: pd.DataFrame, fw: Framework, units: list[str] | None = None) -> Matrices:
    """scores: long rows (unit_code, criterion_code, value) of one period and stage."""
    ordinary = [c.code for g in fw.scored_groups for c in g.criteria if c.ordinary]
    groups = [g.code for g in fw.scored_groups]
    if units is None:
        units = sorted(pd.unique(scores["unit_code"]).tolist())
    nu, no = len(units), len(ordinary)
    ach = np.zeros((nu, no))
    present = np.zeros((nu, no), dtype=bool)
    bonus = np.zeros(nu)
    penalty = np.zeros(nu)
    if len(scores):
        ui = pd.Index(units).get_indexer(scores["unit_code"])
        cidx, cuniq = pd.factorize(scores["criterion_code"])
        t = _criterion_table(fw, np.asarray(cuniq, dtype=object))
        kind, mx = t["kind"][cidx], t["max"][cidx]
        pts = _points(scores["value"].to_numpy(dtype="float64"), kind, mx, t["target"][cidx], t["per"][cidx])
        ok = (ui >= 0) & (kind >= 0)
        values = scores["value"].to_numpy(dtype="float64")
        na = ok & np.isnan(values) & t["allow_na"][cidx]
        is_b = ok & (kind == _KIND_IDS[Kind.bonus])
        is_p = ok & (kind == _KIND_IDS[Kind.penalty])
        np.add.at(bonus, ui[is_b], pts[is_b])
        np.add.at(penalty, ui[is_p], pts[is_p])
        col_of_code = pd.Index(ordinary).get_indexer(np.asarray(cuniq, dtype=object))
        col = col_of_code[cidx]
        is_o = ok & (col >= 0) & (~np.isnan(values) | na)
        ach[ui[is_o], col[is_o]] = np.where(na[is_o], 0.0, pts[is_o] / mx[is_o])
        present[ui[is_o], col[is_o]] = True
        applicable = np.ones((nu, no), dtype=bool)
        applicable[ui[na & (col >= 0)], col[na & (col >= 0)]] = False
    else:
        applicable = None
    membership = np.zeros((no, len(groups)))
    gidx = {g: k for k, g in enumerate(groups)}
    for j, code in enumerate(ordinary):
        membership[j, gidx[fw.group_of[code]]] = 1.0
    return Matrices(units, ordinary, groups, ach, present, membership, bonus - penalty, bonus, penalty,
                    applicable)


def weight_vectors(profile: WeightProfile, m: Matrices) -> tuple[np.ndarray, np.ndarray]:
    w = np.array([profile.criteria.get(c, 0.0) for c in m.ordinary], dtype="float64")
    W = np.array([profile.groups.get(g, 0.0) for g in m.groups], dtype="float64")
    return w, W


def group_contributions(achievement: np.ndarray, w: np.ndarray, W: np.ndarray,
                        membership: np.ndarray, applicable: np.ndarray | None = None) -> np.ndarray:
    """Each group's points in the total, for one weight vector (u, g) or many draws (d, u, g).

    ``w`` is (c,) or (d, c); ``W`` is (g,) or (d, g); ``applicable`` (u, c) bool, False where the
    unit marked the criterion "không phát sinh" (None: all applicable).
    """
    w2 = np.atleast_2d(w)
    W2 = np.atleast_2d(W)
    num = np.einsum("uc,dc,cg->dug", achievement, w2, membership, optimize=True)
    if applicable is None or applicable.all():
        denom = (w2 @ membership)[:, None, :]                # (d, 1, g)
    else:  # each unit's own denominator: the weights of its applicable criteria
        denom = np.einsum("uc,dc,cg->dug", applicable.astype("float64"), w2, membership, optimize=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(denom > 0, num / denom, 0.0)
    share = 100.0 * W2 / W2.sum(axis=1, keepdims=True)       # (d, g)
    out = frac * share[:, None, :]
    return out[0] if np.ndim(w) == 1 and np.ndim(W) == 1 else out


def totals(achievement: np.ndarray, w: np.ndarray, W: np.ndarray, membership: np.ndarray,
           adjust: np.ndarray, applicable: np.ndarray | None = None) -> np.ndarray:
    """Clamped totals, (u,) for one weight vector or (d, u) for many draws."""
    contrib = group_contributions(achievement, w, W, membership, applicable)
    return np.clip(contrib.sum(axis=-1) + adjust, 0.0, 100.0)


def score_units(scores: pd.DataFrame, fw: Framework, profile: WeightProfile, *,
                stage: str = "appraised", units: list[str] | None = None,
                scopes: dict[str, pd.Series] | None = None) -> pd.DataFrame:
    """One row per unit: group columns, bonus, penalty, total, tier, vetoes, eligibility.

    scores: long rows (unit_code, criterion_code, value[, evidence]) of one period and one stage.
    Eligibility is judged on the appraised stage; on the self stage, criteria only the
    appraiser scores are not required. ``scopes``: unit code → block / province code
    ({"block": …, "province": …}), the scope of the top tier's share cap (absent: all units
    are one scope). ``eligible`` is "ranked": complete and not disqualified.
    """
    m = build_matrices(scores, fw, units)
    w, W = weight_vectors(profile, m)
    contrib = group_contributions(m.achievement, w, W, m.membership, m.applicable)
    raw = contrib.sum(axis=1) + m.adjust
    total = np.clip(raw, 0.0, 100.0)
    out = pd.DataFrame({"unit_code": m.units})
    for k, g in enumerate(m.groups):
        out[f"group_{g}"] = contrib[:, k]
    out["bonus"] = m.bonus
    out["penalty"] = m.penalty
    out["total"] = total
    out["tier_code"] = None  # filled below; keeps the column where tables expect it

    # completeness: required criteria present, evidence present where required
    missing: list[list[str]] = [[] for _ in m.units]
    req = [j for j, c in enumerate(m.ordinary)
           if fw.criteria[c].is_required and not (stage == "self" and fw.criteria[c].appraiser_only)]
    for j in req:
        for i in np.flatnonzero(~m.present[:, j]):
            missing[i].append(m.ordinary[j])
    no_evidence: list[list[str]] = [[] for _ in m.units]
    if stage == "appraised" and "evidence" in scores.columns and len(scores):
        needs = [c.code for c in fw.criteria.values() if c.evidence_required]
        sub = scores[scores["criterion_code"].isin(needs) & scores["value"].notna()]  # N/A needs no evidence
        blank = sub["evidence"].isna() | (sub["evidence"].astype(str).str.strip() == "")
        uidx = {u: i for i, u in enumerate(m.units)}
        for u, c in zip(sub.loc[blank, "unit_code"], sub.loc[blank, "criterion_code"]):
            if u in uidx:
                no_evidence[uidx[u]].append(c)
    out["missing"] = [", ".join(x) for x in missing]
    out["missing_evidence"] = [", ".join(sorted(x)) for x in no_evidence]
    complete = np.array([not a and not b for a, b in zip(missing, no_evidence)], dtype=bool)
    out["not_applicable"] = [", ".join(np.array(m.ordinary, dtype=object)[~row]) for row in m.applicable]

    # tiers: band → conditions → veto caps → share cap (tiers.py, as the Monte Carlo does)
    failed = tier_rules.veto_failures(m, fw)
    disq = tier_rules.disqualified(fw, failed)
    eligible = complete & ~disq
    veto_codes = np.array([v.code for v in fw.vetoes], dtype=object)
    out["vetoes"] = [", ".join(veto_codes[row]) for row in failed]
    out["disqualified"] = disq
    out["eligible"] = eligible
    codes, thr = tier_rules.tier_spec(fw)
    allowed = tier_rules.conditions_met(m, fw)
    band = tier_rules.band_index(total, thr)
    idx = tier_rules.tier_index(total, thr, tier_rules.veto_caps(m, fw, failed), allowed)
    reasons = tier_rules.condition_reasons(m, fw, band, idx, allowed)
    cap = tier_rules.top_cap(fw)
    if cap is not None:
        scope = scopes.get(cap.scope) if scopes else None
        labels = np.zeros(len(m.units), dtype=np.int64) if scope is None else \
            pd.factorize(pd.Series(m.units).map(scope).fillna("—"))[0]
        idx, capped = tier_rules.share_cap(idx, total, cap.share, labels, eligible, allowed)
        why = tier_rules.cap_reason(fw)
        reasons = [why if c else r for r, c in zip(reasons, capped)]
    tiers = [codes[i] if ok else None for i, ok in zip(idx, eligible)]
    out["tier_code"] = pd.Series(tiers, dtype=object)
    names = fw.tier_names
    out["tier"] = [names[t] if t else (NOT_ELIGIBLE if d else INCOMPLETE) for t, d in zip(tiers, disq)]
    out["tier_reason"] = [r if ok else "" for r, ok in zip(reasons, eligible)]
    return out
