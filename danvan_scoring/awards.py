"""Who may receive an emulation award, and who leads each block.

Pure functions on the results table (:func:`results.period_results`); no database.

* A unit is **award-eligible** when it is ranked and has no veto: a unit with a hotspot of
  mass complaints or a disciplined leadership keeps its rank by points, but is left out of
  emulation awards (``award_reason`` says why).
* The **block leader** is the award-eligible unit with the best printed total in its block.
  A tie is settled by the framework's declared rule (``leader_tie_break``: the higher group
  total, group by group), never by unit code; a tie the rule leaves open — or any tie when
  the council decides — gives no leader and marks the tied units ``leader_tie``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .criteria import INCOMPLETE, NOT_ELIGIBLE, Framework
from .ranking import rounded_cents

VETO_REASON = "vi phạm điều kiện loại trừ: {names}"

# A unit's standing in a period: ranked; incomplete (required values or evidence still
# missing: not ranked *yet*, and not a sanction); not_eligible (only a condition the framework
# names — a disqualifying veto — or data still missing once the period is closed for input).
STATUSES = ("ranked", "incomplete", "not_eligible")
STATUS_LABELS = {"ranked": "Đã xếp hạng", "incomplete": "Chưa đủ dữ liệu",
                 "not_eligible": "Không đủ điều kiện xếp loại"}
CLOSED_REASON = "hết hạn nhập mà còn thiếu: {missing}"


def status_of(res: pd.DataFrame, closed: bool = False) -> pd.Series:
    """``status`` per unit from the results' eligibility (see :data:`STATUSES`); ``closed``: the
    period no longer takes input, so what is still missing makes a unit not eligible."""
    ranked = res["eligible"].fillna(False).astype(bool).to_numpy()
    disq = res["disqualified"].fillna(False).astype(bool).to_numpy() if "disqualified" in res.columns \
        else np.zeros(len(res), dtype=bool)
    out = np.where(ranked, "ranked", np.where(disq | closed, "not_eligible", "incomplete"))
    return pd.Series(out, index=res.index, dtype=object)


def _missing_words(row) -> str:
    parts = [str(row.get(c) or "") for c in ("missing", "missing_evidence")]
    return "; ".join(p for p in parts if p) or "điểm hoặc minh chứng bắt buộc"


def award_standing(res: pd.DataFrame, fw: Framework, block_col: str = "block", *,
                   closed: bool = False) -> pd.DataFrame:
    """``res`` with status, award_eligible, award_reason, block_leader and leader_tie added."""
    out = res.copy()
    out["status"] = status_of(out, closed)
    ranked = out["eligible"].fillna(False).astype(bool).to_numpy()
    veto_names = {v.code: v.name for v in fw.vetoes}
    vetoes = out["vetoes"].fillna("").astype(str) if "vetoes" in out.columns else pd.Series("", index=out.index)
    vetoed = (vetoes.str.len() > 0).to_numpy()
    reason = np.full(len(out), None, dtype=object)
    status = out["status"].to_numpy()
    for i in np.flatnonzero(~ranked):
        row = out.iloc[i]
        if vetoed[i] and status[i] == "not_eligible":
            names = [veto_names.get(c.strip(), c.strip()) for c in vetoes.iloc[i].split(",") if c.strip()]
            reason[i] = f"{NOT_ELIGIBLE}: " + VETO_REASON.format(names="; ".join(names))
        elif status[i] == "not_eligible":
            reason[i] = f"{NOT_ELIGIBLE}: " + CLOSED_REASON.format(missing=_missing_words(row))
        else:
            reason[i] = f"{INCOMPLETE}: thiếu {_missing_words(row)}"
    for i in np.flatnonzero(ranked & vetoed):
        names = [veto_names.get(c.strip(), c.strip()) for c in vetoes.iloc[i].split(",") if c.strip()]
        reason[i] = VETO_REASON.format(names="; ".join(names))
    ok = ranked & ~vetoed
    out["award_eligible"] = ok
    out["award_reason"] = reason
    leader = np.zeros(len(out), dtype=bool)
    tie = np.zeros(len(out), dtype=bool)
    if block_col in out.columns and ok.any():
        cents = rounded_cents(out["total"].to_numpy(dtype="float64"))
        blocks = out[block_col].fillna("—").to_numpy(dtype=object)
        best = pd.Series(np.where(ok, cents, np.iinfo(np.int64).min)).groupby(blocks).transform("max").to_numpy()
        top = ok & (cents == best)
        n_top = pd.Series(top.astype(int)).groupby(blocks).transform("sum").to_numpy()
        leader[top & (n_top == 1)] = True
        for b in pd.unique(blocks[top & (n_top > 1)]):
            rows = np.flatnonzero(top & (blocks == b))
            won = _settle(out, rows, fw.tie_break_groups)
            if won is None:
                tie[rows] = True
            else:
                leader[won] = True
    out["block_leader"] = leader
    out["leader_tie"] = tie
    return out


def _settle(res: pd.DataFrame, rows: np.ndarray, groups: list[str] | None) -> int | None:
    """The row that wins a tie by the higher group totals in order, or None (open tie)."""
    if groups is None:
        return None
    for g in groups:
        col = f"group_{g}"
        if col not in res.columns:
            continue
        cents = rounded_cents(res[col].to_numpy(dtype="float64")[rows])
        rows = rows[cents == cents.max()]
        if len(rows) == 1:
            return int(rows[0])
    return None
