"""Ranks: competition ranks over eligible units, overall and within emulation blocks.

Totals are rounded to 2 decimals before ranking, so units whose printed totals are
equal share a rank (1, 2, 2, 4): a unit's rank is 1 + the number of units with a strictly
higher rounded total. :func:`competition_ranks` is the one implementation (numpy, for one
row or for every Monte Carlo draw at once); the pandas helpers below call it.
Tie-break for table order only (never for the rank): unit code, ascending.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Counting ranks (one bincount per row) needs an array as long as the span of the keys;
# totals are 0…100, i.e. at most 10,001 distinct cents. Past this span (out-of-range input)
# a sort is used instead, so memory stays bounded.
_COUNTING_SPAN_MAX = 1_000_000


def rounded_cents(totals: np.ndarray) -> np.ndarray:
    """Totals rounded to 2 decimals (as printed and ranked), as integer hundredths."""
    return np.rint(np.round(np.asarray(totals, dtype="float64"), 2) * 100.0).astype(np.int64)


def competition_ranks(totals: np.ndarray) -> np.ndarray:
    """Competition ranks per row (1 + number of strictly higher rounded totals); (d, n) → (d, n)."""
    t = np.atleast_2d(np.asarray(totals, dtype="float64"))
    d, n = t.shape
    if n == 0:
        return np.zeros((d, 0), dtype=np.int64)
    key = -rounded_cents(t)                                   # higher total → smaller key
    key -= key.min(axis=1, keepdims=True)                     # 0 … span per row
    span = int(key.max()) + 1
    out = np.empty((d, n), dtype=np.int64)
    if span <= _COUNTING_SPAN_MAX:
        for i in range(d):                                    # row by row: cache-friendly
            b = np.bincount(key[i], minlength=span)
            higher = np.cumsum(b) - b                         # units with a strictly smaller key
            out[i] = higher[key[i]]
    else:
        srt = np.sort(key, axis=1)
        for i in range(d):
            out[i] = np.searchsorted(srt[i], key[i], side="left")
    return out + 1


def competition_rank(total: pd.Series, eligible: pd.Series | None = None,
                     groups: pd.Series | None = None) -> pd.Series:
    """:func:`competition_ranks` of the eligible units (within each of ``groups`` when given);
    NA for units not eligible."""
    ok = np.ones(len(total), dtype=bool) if eligible is None else eligible.fillna(False).astype(bool).to_numpy()
    out = pd.Series(pd.NA, index=total.index, dtype="Int64")
    values = total.to_numpy(dtype="float64")
    keys = np.zeros(len(total), dtype=np.int64) if groups is None else \
        pd.factorize(groups.fillna("—"))[0]
    for g in np.unique(keys[ok]):
        rows = np.flatnonzero(ok & (keys == g))
        out.iloc[rows] = competition_ranks(values[rows])[0]
    return out


def add_ranks(results: pd.DataFrame, block_col: str = "block",
              province_col: str = "province_code") -> pd.DataFrame:
    """Add ``rank`` (national), ``block_rank`` and ``province_rank`` to a frame with total,
    eligible and the block / province columns (a missing column gives NA ranks)."""
    out = results.copy()
    out["rank"] = competition_rank(out["total"], out["eligible"])
    for name, col in (("block_rank", block_col), ("province_rank", province_col)):
        if col in out.columns:
            out[name] = competition_rank(out["total"], out["eligible"], groups=out[col])
        else:
            out[name] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    return sort_for_table(out)


def sort_for_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Ranked units first by rank, ties by unit code; units not eligible after them."""
    key = frame["rank"].astype("float64").fillna(np.inf)
    return frame.assign(_k=key).sort_values(["_k", "unit_code"], kind="mergesort").drop(columns="_k") \
        .reset_index(drop=True)


def rank_change(current: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """Join the previous period: total_prev, rank_prev, delta_total, delta_rank (+ = moved up)."""
    out = current.copy()
    if previous is None or previous.empty:
        out["total_prev"] = np.nan
        out["rank_prev"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    else:
        prev = previous[["unit_code", "total", "rank", "eligible"]].rename(
            columns={"total": "total_prev", "rank": "rank_prev", "eligible": "eligible_prev"})
        out = out.merge(prev, on="unit_code", how="left")
        out["total_prev"] = out["total_prev"].where(out["eligible_prev"].fillna(False).astype(bool))
        out = out.drop(columns="eligible_prev")
    out["delta_total"] = (out["total"] - out["total_prev"]).where(out["eligible"].astype(bool)).round(2)
    out["delta_rank"] = (out["rank_prev"].astype("Float64") - out["rank"].astype("Float64")).astype("Int64")
    return out
