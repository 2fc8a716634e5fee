"""Tiers and vetoes: the one implementation used by scoring, the CLI, the pages and the Monte Carlo.

Pure numpy on the arrays of :class:`scoring.Matrices`; nothing here reads a file or a database.
A unit's tier is found in four steps, each of which can only lower it (tiers are indexed best
first, 0 = best):

1. **band**: the best tier whose ``min_total`` the total (rounded to 2 decimals, as printed)
   reaches;
2. **conditions**: a tier whose conditions (criteria that must be met, QĐ 366's "no member of
   the leadership disciplined") the unit does not meet is skipped: the unit falls to the next
   tier whose conditions it meets;
3. **vetoes**: a failed pass/fail criterion (scored, worth 0 points) caps the tier at the veto's
   ``cap_tier``;
4. **share cap** of the top tier: at most ``share`` × the ranked units of a block or province
   stay in it, admitted in order of their rounded totals; a tie that would cross the cap falls
   whole (never settled by unit code), and those units fall one tier (then step 2 again).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .criteria import Framework
from .ranking import rounded_cents

if TYPE_CHECKING:  # only for annotations: scoring imports this module
    from .scoring import Matrices

CAP_REASON = "vượt giới hạn {share:g}% số đơn vị được xếp hạng {scope} ở mức «{tier}»"
CONDITION_REASON = "chưa đạt điều kiện của mức «{tier}»: {names}"
SCOPE_WORDS = {"block": "trong khối", "province": "trong tỉnh"}


def tier_spec(tiers) -> tuple[list[str], np.ndarray]:
    """(tier codes best first, their min_total) from a Framework or [(code, min_total), …]."""
    if tiers is None:
        return [], np.array([])
    if isinstance(tiers, Framework):
        return [t.code for t in tiers.tiers], np.array([t.min_total for t in tiers.tiers], dtype="float64")
    codes = [c for c, _ in tiers]
    return codes, np.array([x for _, x in tiers], dtype="float64")


def band_index(totals: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Step 1 only: the tier each total's points reach, any shape."""
    t = np.round(np.asarray(totals, dtype="float64"), 2)
    idx = np.zeros(t.shape, dtype=np.int8)
    for k in range(len(thresholds) - 1):
        idx += (t < thresholds[k])
    return idx


def next_allowed(allowed: np.ndarray) -> np.ndarray:
    """(units, tiers): the first tier j ≥ k whose conditions the unit meets (the last tier always)."""
    u, t = allowed.shape
    ok = allowed.copy()
    ok[:, -1] = True
    j = np.where(ok, np.arange(t)[None, :], t)
    return np.minimum.accumulate(j[:, ::-1], axis=1)[:, ::-1].astype(np.int8)


def _fall_to_allowed(idx: np.ndarray, nxt: np.ndarray | None) -> np.ndarray:
    if nxt is None:
        return idx
    units = np.arange(nxt.shape[0])
    return nxt[np.broadcast_to(units, idx.shape), idx.astype(np.intp)]


def tier_index(totals: np.ndarray, thresholds: np.ndarray, caps: np.ndarray | None = None,
               allowed: np.ndarray | None = None) -> np.ndarray:
    """Steps 1–3: index (0 = best) of each total's tier; any shape with units last, e.g. (draws, units).

    thresholds: min_total of each tier, best first; caps: per unit, the best tier index its
    vetoes allow (0 = no cap); allowed: (units, tiers) bool, the unit meets the tier's
    conditions (None: no tier has conditions).
    """
    nxt = None if allowed is None else next_allowed(np.asarray(allowed, dtype=bool))
    idx = _fall_to_allowed(band_index(totals, thresholds), nxt)
    if caps is not None:
        idx = np.maximum(idx, np.asarray(caps, dtype=np.int8))
        idx = _fall_to_allowed(idx, nxt)
    return idx.astype(np.int8)


def share_cap(idx: np.ndarray, totals: np.ndarray, share: float, scope: np.ndarray, ranked: np.ndarray,
              allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Step 4: (tier index, capped mask) with at most floor(share × ranked units of the scope) units of
    each scope in the top tier. ``idx``/``totals`` (units,) or (draws, units); ``scope`` integer id per
    unit; ``ranked`` bool per unit (only ranked units count and are capped)."""
    idx2 = np.atleast_2d(idx)
    tot2 = np.atleast_2d(totals)
    scope = np.asarray(scope, dtype=np.int64)
    ranked = np.asarray(ranked, dtype=bool)
    n_scope = int(scope.max()) + 1 if len(scope) else 0
    limit = np.floor(share * np.bincount(scope[ranked], minlength=n_scope) + 1e-9).astype(np.int64)
    cand = (idx2 == 0) & ranked[None, :]
    rows, cols = np.nonzero(cand)
    capped = np.zeros(idx2.shape, dtype=bool)
    if len(rows):
        cents = rounded_cents(tot2[rows, cols])
        top = int(cents.max()) + 1
        group = rows.astype(np.int64) * n_scope + scope[cols]
        key = group * (top + 1) + (top - cents)            # within a group: higher totals first
        srt = np.sort(key)
        at_least = np.searchsorted(srt, key, side="right") - np.searchsorted(srt, group * (top + 1), side="left")
        over = at_least > limit[scope[cols]]
        capped[rows[over], cols[over]] = True
    out = np.where(capped, 1, idx2).astype(np.int8)
    if allowed is not None:
        out = np.where(capped, _fall_to_allowed(out, next_allowed(np.asarray(allowed, dtype=bool))), out)
    if np.ndim(idx) == 1:
        return out[0], capped[0]
    return out, capped


def conditions_met(m: "Matrices", fw: Framework) -> np.ndarray | None:
    """(units, tiers) bool: the unit meets every condition of the tier; None when no tier has one.

    A condition's criterion counts as met when its achievement reaches ``min_achievement``, or
    when the unit marked it "không phát sinh"."""
    if not any(t.conditions for t in fw.tiers):
        return None
    col = {c: j for j, c in enumerate(m.ordinary)}
    out = np.ones((len(m.units), len(fw.tiers)), dtype=bool)
    for k, t in enumerate(fw.tiers):
        for cond in t.conditions:
            j = col.get(cond.criterion)
            if j is None:
                continue
            met = m.present[:, j] & (m.achievement[:, j] >= cond.min_achievement - 1e-9)
            out[:, k] &= met | ~m.applicable[:, j]
    return out


def condition_reasons(m: "Matrices", fw: Framework, band: np.ndarray, final: np.ndarray,
                      allowed: np.ndarray | None) -> list[str]:
    """Per unit, why conditions moved it below its band ('' when they did not)."""
    out = [""] * len(m.units)
    if allowed is None:
        return out
    col = {c: j for j, c in enumerate(m.ordinary)}
    for i in np.flatnonzero(final > band):
        k = int(band[i])
        if allowed[i, k]:
            continue
        names = []
        for cond in fw.tiers[k].conditions:
            j = col.get(cond.criterion)
            if j is None:
                continue
            if m.applicable[i, j] and not (m.present[i, j] and m.achievement[i, j] >= cond.min_achievement - 1e-9):
                names.append(f"{cond.criterion} ({fw.criteria[cond.criterion].name})")
        out[i] = CONDITION_REASON.format(tier=fw.tiers[k].name, names="; ".join(names))
    return out


def veto_failures(m: "Matrices", fw: Framework) -> np.ndarray:
    """(units, vetoes) bool: the unit failed the veto's criterion (scored and worth 0 points)."""
    out = np.zeros((len(m.units), len(fw.vetoes)), dtype=bool)
    col = {c: j for j, c in enumerate(m.ordinary)}
    for k, v in enumerate(fw.vetoes):
        j = col.get(v.criterion)
        if j is not None:
            out[:, k] = m.present[:, j] & (m.achievement[:, j] <= 0)
    return out


def veto_caps(m: "Matrices", fw: Framework, failures: np.ndarray | None = None) -> np.ndarray:
    """Per unit, the best tier index its vetoes allow (0 when it has no veto)."""
    failed = veto_failures(m, fw) if failures is None else failures
    order = [t.code for t in fw.tiers]
    cap_of = np.array([order.index(v.cap_tier) for v in fw.vetoes], dtype=np.int8)
    if not len(cap_of):
        return np.zeros(len(m.units), dtype=np.int8)
    return np.where(failed, cap_of[None, :], 0).max(axis=1).astype(np.int8)


def disqualified(fw: Framework, failures: np.ndarray) -> np.ndarray:
    """Per unit: a failed veto that disqualifies (the unit is 'không đủ điều kiện xếp loại')."""
    mask = np.array([v.disqualifies for v in fw.vetoes], dtype=bool)
    if not mask.any():
        return np.zeros(failures.shape[0], dtype=bool)
    return (failures & mask[None, :]).any(axis=1)


def top_cap(fw: Framework):
    """The share cap of the framework's top tier, or None."""
    return fw.tiers[0].share_cap if fw.tiers else None


def cap_reason(fw: Framework) -> str:
    cap = top_cap(fw)
    return CAP_REASON.format(share=cap.share * 100, scope=SCOPE_WORDS[cap.scope], tier=fw.tiers[0].name)
