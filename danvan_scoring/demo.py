"""Synthetic demo scores — DỮ LIỆU MINH HỌA, not real results of any commune.

Deterministic under a seed. Two whole provinces (Hà Tĩnh and An Giang, the places the
source documents report on), three periods, both stages, with the spread a council
sees: most communes steady, some improving, some declining, self-scores usually a
little above appraised ones, a few not eligible (a required criterion or its evidence
missing), a few vetoed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import batches, store, units
from . import periods as period_store
from .auth import create_demo_accounts
from .bootstrap import ensure_period, init_connection
from .criteria import Framework, Kind
from .permissions import CLI_ACTOR

DEMO_PROVINCES = ["42", "91"]   # Hà Tĩnh, An Giang
DEMO_PERIODS = ["2023", "2024", "2025"]
SYNTHETIC_NOTE = "Dữ liệu minh họa (tổng hợp ngẫu nhiên)"


def _value_for(c, ach: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Achievement 0…1 → a raw value of the criterion's kind."""
    if c.kind is Kind.pass_fail:
        return (rng.random(ach.shape) < 0.15 + 0.85 * ach).astype(float)
    if c.kind is Kind.ratio:
        return np.round(np.clip(ach * c.target * rng.uniform(0.9, 1.15, ach.shape), 0, None), 1)
    if c.kind is Kind.count:
        return np.floor(ach * (c.max_points / c.per_unit) * 1.2 + rng.random(ach.shape))
    return np.round(np.clip(ach * c.max_points, 0, c.max_points) * 4) / 4   # quarter points


def generate(fw: Framework, unit_codes: list[str], periods: list[str], seed: int = 2025) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(unit_codes)
    level = rng.normal(0.0, 1.0, n)               # each unit's underlying quality
    slope = rng.normal(0.0, 0.25, n)              # most steady…
    movers = rng.random(n)
    slope[movers < 0.15] += 0.6                    # …some clearly improving
    slope[movers > 0.92] -= 0.5                    # …a few declining
    ordinary = [c for c in fw.criteria.values() if c.ordinary and not c.derived]
    difficulty = {c.code: rng.normal(0.9, 0.35) for c in ordinary}
    rows = []
    for t, period in enumerate(periods):
        q = level + slope * (t - (len(periods) - 1))
        vetoed = rng.random(n) < 0.03
        for c in ordinary:
            logit = difficulty[c.code] + 0.9 * q + rng.normal(0, 0.6, n)
            ach = 1 / (1 + np.exp(-logit))
            appr = _value_for(c, ach, rng)
            if c.code in {v.criterion for v in fw.vetoes}:
                appr = np.where(vetoed & (rng.random(n) < 0.6 if c.code == "E2" else vetoed), 0.0, 1.0)
            self_ach = np.clip(ach + rng.normal(0.03, 0.04, n), 0, 1)
            own = _value_for(c, self_ach, rng) if not c.appraiser_only else None
            evidence = np.array([f"minh-chung/{period}/{u}/{c.code}.pdf" for u in unit_codes], dtype=object)
            if c.evidence_required:
                evidence[rng.random(n) < 0.006] = None       # a few forgot the evidence → not eligible
            rows.append(pd.DataFrame({"unit_code": unit_codes, "period": period, "criterion_code": c.code,
                                      "stage": "appraised", "value": appr, "evidence": evidence,
                                      "note": SYNTHETIC_NOTE}))
            if own is not None:
                rows.append(pd.DataFrame({"unit_code": unit_codes, "period": period, "criterion_code": c.code,
                                          "stage": "self", "value": own, "evidence": evidence,
                                          "note": SYNTHETIC_NOTE}))
        for c in fw.criteria.values():
            if c.derived:
                continue
            if c.kind is Kind.bonus:
                lucky = (rng.random(n) < 0.12 + 0.1 * (q > 1)).nonzero()[0]
                vals = np.round(rng.uniform(0.5, c.max_points, len(lucky)) * 2) / 2
            elif c.kind is Kind.penalty:
                lucky = (rng.random(n) < 0.06 + 0.1 * (q < -1)).nonzero()[0]
                vals = np.round(rng.uniform(0.5, c.max_points * 0.6, len(lucky)) * 2) / 2
            else:
                continue
            for stage in ("appraised", "self"):
                rows.append(pd.DataFrame({"unit_code": [unit_codes[i] for i in lucky], "period": period,
                                          "criterion_code": c.code, "stage": stage, "value": vals,
                                          "evidence": None, "note": SYNTHETIC_NOTE}))
    out = pd.concat(rows, ignore_index=True)
    # a few units miss a required criterion altogether in the latest period
    last = periods[-1]
    missing_units = rng.choice(unit_codes, size=max(1, n // 40), replace=False)
    drop = (out["period"] == last) & (out["stage"] == "appraised") & out["unit_code"].isin(missing_units) \
        & (out["criterion_code"] == "D1")
    return out[~drop].reset_index(drop=True)


def fill_demo(con, seed: int = 2025, provinces: list[str] | None = None,
              periods: list[str] | None = None) -> dict:
    """Fill synthetic scores into an initialised database (idempotent for the same seed)."""
    init_connection(con)
    provinces = provinces or DEMO_PROVINCES
    periods = periods or DEMO_PERIODS
    for p in periods:
        ensure_period(con, p)
    fw = period_store.framework_for_period(con, periods[-1])
    u = units.units(con)
    codes = u.loc[u["province_code"].isin(provinces), "unit_code"].tolist()
    rows = generate(fw, codes, periods, seed)
    store.set_meta(con, "synthetic_demo", "true")
    store.set_meta(con, "demo_seed", str(seed))
    store.set_meta(con, "demo_provinces", ",".join(provinces))
    res = batches.write_batch(con, rows, actor=CLI_ACTOR, filename=f"demo(seed={seed})",
                            content_hash=f"demo-{seed}", synthetic=True, comment=SYNTHETIC_NOTE)
    from .models import generate_demo_models

    generate_demo_models(con, seed=seed, periods=periods, provinces=provinces)
    create_demo_accounts(con)
    return {"units": len(codes), "rows": len(rows), "periods": periods, "batch": res.batch_id,
            "new": res.new, "changed": res.changed}
