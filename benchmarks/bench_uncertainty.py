"""Benchmark: rank uncertainty at national scale, vectorised vs a per-draw pandas loop.

    .venv/bin/python benchmarks/bench_uncertainty.py [--draws 1000] [--loop-draws 50] [--repeats 5]

Synthetic matrices the size of the whole country: 3,321 units × 20 criteria in 5 groups
(achievements 0…1, a few bonus/penalty points, ~3 % vetoed). Both sides draw the same
weight vectors (sensitivity.draw_weights, seed 0, ±25 %).

* vectorised: ``sensitivity.rank_uncertainty`` + ``.summary()`` for all draws (weights,
  totals, competition ranks, tiers with veto caps, percentiles, p_top10, p_tier_*);
  median wall time of ``--repeats`` runs.
* pandas loop: per draw, rebuild the long score table as a DataFrame, merge the draw's
  weights, group sums with groupby, totals, ``.round(2).rank(method='min')``, tiers with
  ``pd.cut``; then the same percentiles. Timed on ``--loop-draws`` draws and
  extrapolated linearly to ``--draws`` (stated in the output).
* for reference, a per-draw numpy loop with the library's own one-vector functions
  (scoring.totals + ranking.competition_rank), also extrapolated.
The loop's ranks are checked against the vectorised ranks of the same draws.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from danvan_scoring import ranking, scoring  # noqa: E402
from danvan_scoring import sensitivity as S
from danvan_scoring.criteria import default_framework  # noqa: E402

N_UNITS, N_CRIT, N_GROUPS = 3321, 20, 5


def synthetic(seed: int = 0):
    rng = np.random.default_rng(seed)
    per = N_CRIT // N_GROUPS
    membership = np.zeros((N_CRIT, N_GROUPS))
    for g in range(N_GROUPS):
        membership[g * per:(g + 1) * per, g] = 1.0
    level = rng.normal(0, 1, N_UNITS)
    logit = 0.9 + 0.9 * level[:, None] + rng.normal(0, 0.6, (N_UNITS, N_CRIT))
    ach = np.round(1 / (1 + np.exp(-logit)) * 20) / 20
    bonus = np.where(rng.random(N_UNITS) < 0.12, np.round(rng.uniform(0.5, 5, N_UNITS) * 2) / 2, 0.0)
    penalty = np.where(rng.random(N_UNITS) < 0.06, np.round(rng.uniform(0.5, 6, N_UNITS) * 2) / 2, 0.0)
    m = scoring.Matrices([f"{i:05d}" for i in range(N_UNITS)], [f"C{j:02d}" for j in range(N_CRIT)],
                         [f"G{g}" for g in range(N_GROUPS)], ach, np.ones_like(ach, dtype=bool), membership,
                         bonus - penalty, bonus, penalty)
    w = rng.integers(2, 9, N_CRIT).astype(float)                    # framework-like points
    W = (w @ membership)
    caps = np.where(rng.random(N_UNITS) < 0.03, 3, 0).astype(np.int8)
    return m, w, W, caps


def vectorised(m, w, W, caps, fw, draws):
    res = S.rank_uncertainty(m, (w, W), draws=draws, spread=0.25, rng=0, tiers=fw, caps=caps)
    return res, res.summary()


def pandas_loop(m, w, W, caps, fw, wd, Wd):
    """The straightforward way: one full pandas pass per draw."""
    units, crits, groups = m.units, m.ordinary, m.groups
    gidx = m.membership.argmax(axis=1)
    thresholds = [t.min_total for t in fw.tiers]
    labels = list(range(len(fw.tiers)))[::-1]
    ranks = []
    tiers = []
    for d in range(len(wd)):
        scores = pd.DataFrame({
            "unit_code": np.repeat(units, len(crits)),
            "criterion_code": np.tile(crits, len(units)),
            "group": np.tile(np.array(groups)[gidx], len(units)),
            "achievement": m.achievement.ravel(),
        })
        cw = pd.DataFrame({"criterion_code": crits, "w": wd[d]})
        gw = pd.DataFrame({"group": groups, "W": Wd[d]})
        t = scores.merge(cw, on="criterion_code").merge(gw, on="group")
        t["wa"] = t["w"] * t["achievement"]
        g = t.groupby(["unit_code", "group"], as_index=False).agg(num=("wa", "sum"), den=("w", "sum"), W=("W", "first"))
        g["contrib"] = 100 * g["W"] / Wd[d].sum() * g["num"] / g["den"]
        tot = g.groupby("unit_code")["contrib"].sum().reindex(units)
        tot = (tot + pd.Series(m.adjust, index=units)).clip(0, 100)
        r = tot.round(2).rank(method="min", ascending=False).astype(int)
        tier = pd.cut(tot.round(2), bins=thresholds[::-1] + [np.inf], labels=labels, right=False).astype(int)
        ranks.append(r.to_numpy())
        tiers.append(np.maximum(tier.to_numpy(), caps))
    ranks = np.array(ranks)
    srt = np.sort(ranks, axis=0)
    d = len(ranks)
    _ = srt[[max(0, int(np.ceil(q * d)) - 1) for q in (0.05, 0.5, 0.95)]], (ranks <= 10).mean(axis=0)
    return ranks, np.array(tiers)


def library_loop(m, wd, Wd):
    out = []
    for d in range(len(wd)):
        t = scoring.totals(m.achievement, wd[d], Wd[d], m.membership, m.adjust)
        out.append(ranking.competition_rank(pd.Series(t)).to_numpy())
    return np.array(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--loop-draws", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    fw = default_framework()
    m, w, W, caps = synthetic()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU, "
          f"numpy {np.__version__}, pandas {pd.__version__}")
    print(f"data: {N_UNITS} units × {N_CRIT} criteria × {N_GROUPS} groups (synthetic), spread ±25 %, seed 0")

    vectorised(m, w, W, caps, fw, 50)                     # warm-up
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        res, summary = vectorised(m, w, W, caps, fw, args.draws)
        times.append(time.perf_counter() - t0)
    vec = statistics.median(times)
    print(f"vectorised: {args.draws} draws in {vec:.3f} s (median of {args.repeats}; "
          f"min {min(times):.3f}, max {max(times):.3f})  → {'OK' if vec < 2 else 'OVER'} the 2 s target")

    # the loops draw exactly the first loop-draws weight vectors of the vectorised run
    wd, Wd = S.draw_weights(w, W, m.membership, draws=args.draws, spread=0.25, rng=np.random.default_rng(0))
    k = min(args.loop_draws, args.draws)
    t0 = time.perf_counter()
    loop_ranks, loop_tiers = pandas_loop(m, w, W, caps, fw, wd[:k], Wd[:k])
    loop_k = time.perf_counter() - t0
    loop = loop_k * args.draws / k
    agree = (loop_ranks == res.ranks[:k]).mean()
    agree_t = (loop_tiers == res.tiers[:k]).mean()
    print(f"pandas loop: {k} draws in {loop_k:.2f} s → {loop:.1f} s for {args.draws} draws "
          f"(extrapolated ×{args.draws / k:g}); ranks agree with the vectorised run on "
          f"{100 * agree:.3f} % of unit×draw cells, tiers on {100 * agree_t:.3f} %")
    t0 = time.perf_counter()
    lib_ranks = library_loop(m, wd[:k], Wd[:k])
    lib_k = time.perf_counter() - t0
    lib = lib_k * args.draws / k
    print(f"numpy per-draw loop (scoring.totals + ranking.competition_rank, ranks only): {k} draws in "
          f"{lib_k:.2f} s → {lib:.2f} s for {args.draws} (extrapolated); ranks agree on "
          f"{100 * (lib_ranks == res.ranks[:k]).mean():.3f} %")
    print(f"ratio pandas loop / vectorised: {loop / vec:.0f}×   (numpy loop / vectorised: {lib / vec:.1f}×)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
