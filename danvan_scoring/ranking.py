"""Ranks: competition ranks over eligible units, overall and within emulation blocks.

Totals are rounded to 2 decimals before ranking, so units whose printed totals are
equal share a rank (1, 2, 2, 4). Tie-break for table order only (never for the rank):
unit code, ascending.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def competition_rank(total: pd.Series, eligible: pd.Series | None = None) -> pd.Series:
    """1 + the number of eligible units with a strictly higher rounded total; NA when not eligible."""
    t = total.astype("float64").round(2)
    if eligible is not None:
        t = t.where(eligible.astype(bool))
    return t.rank(method="min", ascending=False).astype("Int64")


def add_ranks(results: pd.DataFrame, block_col: str = "block") -> pd.DataFrame:
    """Add ``rank`` and ``block_rank`` to a frame with total, eligible and a block column."""
    out = results.copy()
    out["rank"] = competition_rank(out["total"], out["eligible"])
    if block_col in out.columns:
        t = out["total"].astype("float64").round(2).where(out["eligible"].astype(bool))
        out["block_rank"] = t.groupby(out[block_col].fillna("—"), dropna=False).rank(
            method="min", ascending=False).astype("Int64")
    else:
        out["block_rank"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
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
