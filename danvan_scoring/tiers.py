"""Tiers and vetoes: the one implementation used by scoring, the CLI, the pages and the Monte Carlo.

Pure numpy on the arrays of :class:`scoring.Matrices`; nothing here reads a file or a database.

* A total's tier is the best tier whose ``min_total`` the total (rounded to 2 decimals, as
  printed) reaches. Tiers are indexed best first (0 = best).
* A veto is a failed pass/fail criterion (scored, and worth 0 points); it caps the tier at
  its ``cap_tier``: a unit with a veto gets the worse of its own tier and the cap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .criteria import Framework

if TYPE_CHECKING:  # only for annotations: scoring imports this module
    from .scoring import Matrices


def tier_spec(tiers) -> tuple[list[str], np.ndarray]:
    """(tier codes best first, their min_total) from a Framework or [(code, min_total), …]."""
    if tiers is None:
        return [], np.array([])
    if isinstance(tiers, Framework):
        return [t.code for t in tiers.tiers], np.array([t.min_total for t in tiers.tiers], dtype="float64")
    codes = [c for c, _ in tiers]
    return codes, np.array([x for _, x in tiers], dtype="float64")


def tier_index(totals: np.ndarray, thresholds: np.ndarray, caps: np.ndarray | None = None) -> np.ndarray:
    """Index (0 = best) of each total's tier, then the veto caps; any shape, e.g. (draws, units).

    thresholds: min_total of each tier, best first; caps: per unit, the best tier index its
    vetoes allow (0 = no cap), broadcast over leading axes.
    """
    t = np.round(np.asarray(totals, dtype="float64"), 2)
    idx = np.zeros(t.shape, dtype=np.int8)
    for k in range(len(thresholds) - 1):
        idx += (t < thresholds[k])
    if caps is not None:
        idx = np.maximum(idx, np.asarray(caps, dtype=np.int8))
    return idx


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


def tier_codes_of(m: "Matrices", totals: np.ndarray, fw: Framework) -> tuple[np.ndarray, np.ndarray]:
    """(tier code per unit with the veto caps applied, veto failures (units, vetoes))."""
    failed = veto_failures(m, fw)
    codes, thr = tier_spec(fw)
    idx = tier_index(totals, thr, veto_caps(m, fw, failed))
    return np.array(codes, dtype=object)[idx], failed
