"""The v1/v2 golden table: one deterministic set of scores ranked on each legacy framework.

Uses only what the library offered before issue 12 changed scoring (``criteria.load_framework``,
``weights.default_profile`` / ``from_budget``, ``scoring.score_units``, ``ranking.add_ranks``),
so the same file runs against the code of commit 9aafd6d — the parent of the first issue-12
commit (1aeda7c) — and against today's. ``tests/data/legacy_v1_v2.csv`` was written by::

    git archive 9aafd6d | tar -x -C /tmp/old   # the library as it was before issue 12
    PYTHONPATH=/tmp/old python tests/legacy_support.py /tmp/old tests/data/legacy_v1_v2.csv

and ``test_scoring.test_v1_v2_totals_tiers_and_ranks_are_byte_for_byte_as_before`` compares
today's output with it byte for byte.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd

FRAMEWORKS = ("dvk-2025.v1.yaml", "dvk-2025.v2.yaml")
N_UNITS = 240
COLUMNS = ["framework", "profile", "stage", "unit_code", "total", "tier", "eligible", "rank", "block_rank"]


def synthetic_scores(fw, seed: int) -> pd.DataFrame:
    """Long score rows for N_UNITS units: every kind of value, some blanks (not eligible), some
    failed pass/fail (vetoes), some missing evidence, bonus and penalty."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(N_UNITS):
        unit = f"{10000 + i:05d}"
        quality = rng.uniform(0.3, 1.05)
        for c in fw.criteria.values():
            if rng.random() < 0.01:          # a blank: the unit is not eligible
                continue
            kind = c.kind.value
            if kind == "pass_fail":
                v = float(rng.random() < min(0.995, 0.6 + 0.4 * quality))
            elif kind == "points":
                v = round(float(np.clip(rng.normal(quality, 0.15), 0, 1)) * c.max_points, 1)
            elif kind == "ratio":
                v = round(float(np.clip(rng.normal(quality, 0.2), 0, 1.3)) * c.target, 1)
            elif kind == "count":
                v = float(rng.integers(0, int(np.ceil(c.max_points / c.per_unit * 1.4)) + 1))
            else:                             # bonus / penalty: mostly nothing
                v = float(rng.integers(0, 3)) if rng.random() < 0.2 else 0.0
            evidence = None if (c.evidence_required and rng.random() < 0.02) else "bb.pdf"
            rows.append({"unit_code": unit, "criterion_code": c.code, "value": v, "evidence": evidence})
    return pd.DataFrame(rows)


def profiles(fw, weights):
    """The default profile, and one that moves points between groups (renormalised weights)."""
    default = weights.default_profile(fw)
    groups = [g.code for g in fw.groups]
    budget = {g.code: g.ordinary_max for g in fw.groups}
    budget[groups[0]] += 10
    budget[groups[-1]] -= 10
    return [default, weights.from_budget(fw, budget, name="lệch")]


def golden_table(root: Path) -> str:
    """The CSV text: totals at full precision, tiers, eligibility, national and block ranks."""
    from danvan_scoring import ranking, scoring, weights
    from danvan_scoring.criteria import load_framework

    frames = []
    for k, name in enumerate(FRAMEWORKS):
        fw = load_framework(root / "data" / "criteria" / name)
        scores = synthetic_scores(fw, seed=20250 + k)
        units = sorted(scores["unit_code"].unique())
        for p in profiles(fw, weights):
            for stage in ("appraised", "self"):
                res = scoring.score_units(scores, fw, p, stage=stage, units=units)
                res["block"] = [f"K{int(u) % 7}" for u in res["unit_code"]]
                res = ranking.add_ranks(res, "block")
                res = res.assign(framework=name, profile=p.name, stage=stage,
                                 total=[repr(float(t)) for t in res["total"]])
                frames.append(res[COLUMNS])
    buf = io.StringIO()
    pd.concat(frames, ignore_index=True).to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


if __name__ == "__main__":
    Path(sys.argv[2]).write_text(golden_table(Path(sys.argv[1])), encoding="utf-8")
