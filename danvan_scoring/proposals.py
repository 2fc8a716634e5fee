"""Award proposals: pure, on the results table of a period and the award catalogue.

:func:`propose` takes the table :func:`results.period_results` returns (status, award_eligible,
block_leader, tier_code, block, province_code, rank, block_rank, total; ``models_recognised``
when an award asks for it) and gives one row per (unit, award) considered:

* **eligibility** — ranked, award-eligible (no disqualifying veto) when the award asks for it,
  minimum tier, block leader only, minimum total, minimum recognised models;
* **family rule** — at most one award per family, the highest (rank 1 first) the unit qualifies
  for *and* that still has room: a unit cut by a cap is considered for the next award down;
* **caps** in rank order, per block or per province, a number or a share of the ranked units
  there (rounded down). Units tied on the boundary that do not all fit are all cut, with the
  reason — the council settles a tie, never the unit code.

``outcome`` is ``proposed`` or ``cut`` (``reason`` says which cap). No database here.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from .award_catalogue import SCOPE_LABELS, Award, Catalogue

COLUMNS = ["unit_code", "unit_name", "province_code", "block", "award_code", "award_name", "rank", "block_rank",
           "total", "tier", "basis"]
ALL_COLUMNS = COLUMNS + ["outcome", "reason"]
EXTRA = ["family", "level", "vote_threshold", "outcome", "reason"]
NO_BLOCK = "—"


def _vn(x: float) -> str:
    return f"{x:.2f}".replace(".", ",")


def eligible_mask(res: pd.DataFrame, award: Award, tier_order: list[str]) -> np.ndarray:
    """Rows of ``res`` that meet the award's eligibility (before the family rule and caps)."""
    e = award.eligibility
    ok = (res["status"] == "ranked").to_numpy(dtype=bool).copy()
    if e.award_eligible:
        ok = ok & res["award_eligible"].fillna(False).to_numpy(dtype=bool)
    if e.min_tier is not None:
        allowed = set(tier_order[: tier_order.index(e.tier_in(tier_order)) + 1])
        ok = ok & res["tier_code"].isin(allowed).to_numpy(dtype=bool)
    if e.block_leader:
        ok = ok & res["block_leader"].fillna(False).to_numpy(dtype=bool)
    if e.min_total is not None:
        ok = ok & (res["total"].fillna(-np.inf).round(2) >= e.min_total).to_numpy(dtype=bool)
    if e.min_models_recognised is not None:
        models = res["models_recognised"] if "models_recognised" in res.columns else pd.Series(0, index=res.index)
        ok = ok & (models.fillna(0) >= e.min_models_recognised).to_numpy(dtype=bool)
    return ok


def basis_text(row, award: Award) -> str:
    """Why, in words: "dẫn đầu khối, Tốt, 89,81 điểm, không vi phạm điều kiện loại trừ"."""
    parts = []
    if bool(row.get("block_leader")):
        parts.append("dẫn đầu khối")
    parts.append(str(row.get("tier")))
    parts.append(f"{_vn(float(row['total']))} điểm")
    if bool(row.get("award_eligible")):
        parts.append("không vi phạm điều kiện loại trừ")
    if award.eligibility.min_models_recognised is not None:
        parts.append(f"{int(row.get('models_recognised') or 0)} mô hình “Dân vận khéo” được công nhận")
    return ", ".join(parts)


def _scope_key(res: pd.DataFrame, per: str) -> pd.Series:
    col = "block" if per == "block" else "province_code"
    return res[col].astype(object).where(res[col].notna(), NO_BLOCK).astype(str)


def propose(res: pd.DataFrame, catalogue: Catalogue, tier_order: list[str]) -> pd.DataFrame:
    """Every (unit, award) the catalogue considers, ``outcome`` proposed or cut; see the module doc.

    ``tier_order``: the framework's tier codes, best first."""
    catalogue.check_tiers(tier_order)
    res = res.reset_index(drop=True)
    ranked = (res["status"] == "ranked").to_numpy(dtype=bool)
    keys = {per: _scope_key(res, per) for per in ("block", "province")}
    n_ranked = {per: Counter(keys[per][ranked]) for per in keys}
    rank = pd.to_numeric(res["rank"], errors="coerce").astype("float64").fillna(np.inf).to_numpy()
    taken: dict[str, set[int]] = {}
    out: list[dict] = []
    for pos, award in enumerate(catalogue.in_order()):
        done = taken.setdefault(award.family, set())
        cand = np.flatnonzero(eligible_mask(res, award, tier_order))
        cand = np.array([i for i in cand if i not in done], dtype=int)
        if not len(cand):
            continue
        used = [Counter() for _ in award.caps]
        order = cand[np.argsort(rank[cand], kind="stable")]
        for r in pd.unique(rank[order]):
            group = order[rank[order] == r]
            verdict: dict[int, str | None] = {}
            for i in group:
                why = None
                for cap, u in zip(award.caps, used):
                    key = keys[cap.per].iat[i]
                    limit = cap.limit(n_ranked[cap.per][key])
                    need = int(sum(keys[cap.per].iat[j] == key for j in group))
                    if u[key] + need > limit:
                        scope = SCOPE_LABELS[cap.per]
                        if u[key] < limit:
                            why = (f"đồng điểm ở ngưỡng chỉ tiêu ({cap.label()}: còn {limit - u[key]} suất cho "
                                   f"{need} đơn vị cùng hạng trong {scope} {key}); Hội đồng quyết định")
                        else:
                            why = f"hết chỉ tiêu ({cap.label()}: {scope} {key} đã đủ {limit})"
                        break
                verdict[int(i)] = why
            for i, why in verdict.items():
                if why is None:
                    for cap, u in zip(award.caps, used):
                        u[keys[cap.per].iat[i]] += 1
                    done.add(i)
                out.append(_row(res.iloc[i], award, pos, "proposed" if why is None else "cut", why))
    frame = pd.DataFrame(out, columns=COLUMNS + EXTRA + ["_order"])
    frame = frame.sort_values(["_order", "rank", "unit_code"], kind="stable").drop(columns="_order")
    frame["rank"] = frame["rank"].astype("Int64")
    frame["block_rank"] = frame["block_rank"].astype("Int64")
    return frame.reset_index(drop=True)


def _row(row, award: Award, pos: int, outcome: str, reason: str | None) -> dict:
    return {"unit_code": row["unit_code"], "unit_name": row.get("unit_name"), "province_code": row.get("province_code"),
            "block": row.get("block"), "award_code": award.code, "award_name": award.name, "rank": row["rank"],
            "block_rank": row.get("block_rank"), "total": round(float(row["total"]), 2), "tier": row.get("tier"),
            "basis": basis_text(row, award), "family": award.family, "level": award.level,
            "vote_threshold": award.vote_threshold, "outcome": outcome, "reason": reason,
            "_order": pos}


def proposed(frame: pd.DataFrame) -> pd.DataFrame:
    """Only the proposals (the rows a cap did not cut)."""
    return frame[frame["outcome"] == "proposed"].reset_index(drop=True)
