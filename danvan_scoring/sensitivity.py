"""How solid is each rank: Monte Carlo over weights, and inverse sensitivity.

Pure core (numpy on :class:`scoring.Matrices`, no database):

* :func:`draw_weights` — N weight vectors around a profile, all at once. ``uniform``:
  every group weight and every criterion weight is multiplied by its own
  U(1 − spread, 1 + spread) factor, then renormalised (group weights back to the
  profile's sum, criterion weights back to their group's sum; the scoring rule is
  scale-free, so renormalising changes no total). ``dirichlet``: group shares, and
  within each group the criterion shares, are drawn from a Dirichlet centred on the
  profile with concentration ``κ = 3(K − 1)/spread² − 1`` (K = number of weights drawn
  together), which gives a share of average size the same coefficient of variation
  as the uniform ±spread (spread/√3). Zero weights stay zero under both.
* :func:`draw_totals` — totals of every unit under every draw in one matrix product
  (criterion weights folded into effective weights ``E[d, c] = 100·W_g/ΣW · w_c/Σ_{c'∈g} w_c'``).
  A draw that reproduces the profile exactly (spread 0) gets the totals of
  :func:`scoring.totals` bit for bit, i.e. exactly the totals of ``score_units``.
* :func:`competition_ranks` — competition ranks (1, 2, 2, 4) of totals rounded to
  2 decimals, for every draw at once (integer cents + one sort + searchsorted).
* :func:`rank_uncertainty` — the above plus tiers per draw (thresholds on the rounded
  total, veto caps applied), summarised per unit by :meth:`UncertaintyResult.summary`.
  Percentiles are inverted-CDF (an observed rank: the smallest r with F(r) ≥ q).
* :func:`pairwise_flip`, :func:`rank_swing` — inverse sensitivity (see their docs).

Database edge: :func:`uncertainty_table` (what ``danvan uncertainty`` prints),
:func:`pairwise_flip_for`, :func:`rank_swing_for`; Vietnamese wording for pages:
:data:`COLUMN_LABELS_VI`, :data:`INTERVAL_NOTE_VI`, :func:`explain_interval`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from . import periods, scoring, store
from .criteria import Framework
from .ranking import competition_ranks, rounded_cents
from .results import period_results, period_scores, self_stage_rows
from .tiers import conditions_met, tier_index, tier_spec, top_cap, veto_caps
from .tiers import share_cap as tiers_share_cap
from .weights import WeightProfile, official_profile

METHODS = ("uniform", "dirichlet")
# a unit's rank is "stable" when its 90 % interval stays within this many places of the
# nominal rank: max(STABLE_MIN_PLACES, STABLE_REL · rank), rounded up
STABLE_MIN_PLACES = 2
STABLE_REL = 0.10
TIER_STABLE_P = 0.90
DEFAULT_SWING_FACTORS = tuple(np.round(np.linspace(0.5, 1.5, 11), 10))
# The widest weight spread offered anywhere (CLI, pages, library): ±50 % already lets a
# weight range over a factor of three; wider draws say more about the spread than the ranks.
SPREAD_MAX = 0.5


def spread_problem(spread: float) -> str | None:
    """Vietnamese reason a spread is refused, or None."""
    if not 0 <= spread <= SPREAD_MAX:
        return (f"Biên độ dao động trọng số (spread) phải từ 0 đến {SPREAD_MAX:g} (±{SPREAD_MAX:.0%}), "
                f"ví dụ 0.25 cho ±25%; nhận được {spread:g}")
    return None


# --------------------------------------------------------------------------- weights
def _as_vectors(profile_weights, m: scoring.Matrices) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(profile_weights, WeightProfile):
        return scoring.weight_vectors(profile_weights, m)
    w, W = profile_weights
    return np.asarray(w, dtype="float64"), np.asarray(W, dtype="float64")


def _group_index(membership: np.ndarray) -> np.ndarray:
    """The group (column) of each criterion (row) of a 0/1 membership matrix."""
    return np.asarray(membership).argmax(axis=1)


def _group_sums(x: np.ndarray, gidx: np.ndarray, n_groups: int) -> np.ndarray:
    """Σ of x[..., c] over the criteria of each group, the same way for 1 row or many."""
    out = np.zeros(x.shape[:-1] + (n_groups,))
    for g in range(n_groups):
        cols = np.flatnonzero(gidx == g)
        if len(cols):
            out[..., g] = x[..., cols].sum(axis=-1)
    return out


def dirichlet_concentration(spread: float, k: int) -> float:
    """κ so that a Dirichlet share of average size 1/k has CV = spread/√3 (the uniform's)."""
    if spread <= 0:
        return math.inf
    return max(3.0 * max(k - 1, 1) / spread ** 2 - 1.0, 1e-6)


def draw_weights(w: np.ndarray, W: np.ndarray, membership: np.ndarray, *, draws: int,
                 spread: float = 0.25, method: str = "uniform",
                 rng: np.random.Generator | int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``draws`` perturbed copies of (w, W): arrays (draws, criteria) and (draws, groups)."""
    if method not in METHODS:
        raise ValueError(f"method phải là một trong {METHODS}, nhận được {method!r}")
    if (why := spread_problem(spread)) is not None:
        raise ValueError(why)
    if draws < 1:
        raise ValueError("draws phải là số nguyên dương")
    rng = np.random.default_rng(rng)
    w = np.asarray(w, dtype="float64")
    W = np.asarray(W, dtype="float64")
    gidx = _group_index(membership)
    G = len(W)
    if method == "uniform":
        fW = rng.uniform(1.0 - spread, 1.0 + spread, size=(draws, G))
        fw = rng.uniform(1.0 - spread, 1.0 + spread, size=(draws, len(w)))
        Wd = W[None, :] * fW
        wd = w[None, :] * fw
        # renormalise: group weights to the profile's sum, criteria to their group's sum.
        # With spread 0 every factor is exactly 1.0, so the ratios are exactly 1.0 too.
        Wsum0 = W[None, :].sum(axis=1, keepdims=True)
        Wsum = Wd.sum(axis=1, keepdims=True)
        Wd = Wd * np.where(Wsum > 0, Wsum0 / np.where(Wsum > 0, Wsum, 1.0), 1.0)
        gs0 = _group_sums(w[None, :], gidx, G)
        gs = _group_sums(wd, gidx, G)
        ratio = np.where(gs > 0, gs0 / np.where(gs > 0, gs, 1.0), 1.0)
        wd = wd * ratio[:, gidx]
        return wd, Wd
    # dirichlet around the profile
    if spread == 0:
        return np.repeat(w[None, :], draws, axis=0), np.repeat(W[None, :], draws, axis=0)
    Wd = np.zeros((draws, G))
    pos = np.flatnonzero(W > 0)
    if len(pos) == 1:
        Wd[:, pos] = W[pos]
    elif len(pos) > 1:
        share = W[pos] / W[pos].sum()
        kappa = dirichlet_concentration(spread, len(pos))
        Wd[:, pos] = rng.dirichlet(kappa * share, size=draws) * W[pos].sum()
    wd = np.zeros((draws, len(w)))
    for g in range(G):
        cols = np.flatnonzero((gidx == g) & (w > 0))
        if len(cols) == 1:
            wd[:, cols] = w[cols]
        elif len(cols) > 1:
            s = w[cols].sum()
            kappa = dirichlet_concentration(spread, len(cols))
            wd[:, cols] = rng.dirichlet(kappa * w[cols] / s, size=draws) * s
    return wd, Wd


# --------------------------------------------------------------------------- totals & ranks
def effective_weights(wd: np.ndarray, Wd: np.ndarray, membership: np.ndarray) -> np.ndarray:
    """Points per unit of achievement of each criterion, per draw: (d, c)."""
    wd = np.atleast_2d(wd)
    Wd = np.atleast_2d(Wd)
    gidx = _group_index(membership)
    denom = _group_sums(wd, gidx, Wd.shape[1])                       # (d, g)
    share = 100.0 * Wd / Wd.sum(axis=1, keepdims=True)                # (d, g)
    with np.errstate(invalid="ignore", divide="ignore"):
        per = np.where(denom > 0, share / np.where(denom > 0, denom, 1.0), 0.0)
    return wd * per[:, gidx]


def draw_totals(m: scoring.Matrices, wd: np.ndarray, Wd: np.ndarray,
                nominal: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Clamped totals (d, u) of every unit under every draw.

    When ``nominal`` (w, W) is given, draws equal to it get :func:`scoring.totals` exactly.
    """
    E = effective_weights(wd, Wd, m.membership)
    out = E @ m.achievement.T                                         # (d, u)
    out += m.adjust[None, :]
    np.clip(out, 0.0, 100.0, out=out)
    if m.any_na:  # units with a "không phát sinh" criterion: their own denominators (scoring.totals)
        na = np.flatnonzero(~m.applicable.all(axis=1))
        out[:, na] = scoring.totals(m.achievement[na], np.atleast_2d(wd), np.atleast_2d(Wd), m.membership,
                                    m.adjust[na], m.applicable[na])
    if nominal is not None:
        w0, W0 = nominal
        same = np.all(np.atleast_2d(wd) == w0[None, :], axis=1) & np.all(np.atleast_2d(Wd) == W0[None, :], axis=1)
        if same.any():
            out[same] = scoring.totals(m.achievement, w0, W0, m.membership, m.adjust, m.applicable)[None, :]
    return out


@dataclass
class UncertaintyResult:
    """Per-draw ranks (and tiers) of the eligible units, and their per-unit summary."""

    units: list[str]
    nominal_total: np.ndarray          # (n,)
    nominal_rank: np.ndarray           # (n,)
    ranks: np.ndarray                  # (draws, n)
    tier_codes: list[str] = field(default_factory=list)
    tiers: np.ndarray | None = None    # (draws, n) tier index, 0 = best
    nominal_tier: np.ndarray | None = None
    totals: np.ndarray | None = None   # (draws, n) when keep_totals
    top_k: int = 10
    spread: float = 0.25
    method: str = "uniform"

    @property
    def draws(self) -> int:
        return self.ranks.shape[0]

    def quantiles(self, qs: Sequence[float] = (0.05, 0.5, 0.95)) -> np.ndarray:
        """Inverted-CDF quantiles of each unit's rank over the draws: (len(qs), n)."""
        d = self.draws
        srt = np.sort(self.ranks, axis=0)
        idx = [min(d - 1, max(0, math.ceil(q * d - 1e-9) - 1)) for q in qs]
        return srt[idx, :]

    def summary(self) -> pd.DataFrame:
        n = len(self.units)
        q05, q50, q95 = self.quantiles()
        out = pd.DataFrame({
            "unit_code": self.units,
            "rank": self.nominal_rank.astype(np.int64),
            "rank_p05": q05.astype(np.int64),
            "rank_median": q50.astype(np.int64),
            "rank_p95": q95.astype(np.int64),
            f"p_top{self.top_k}": (self.ranks <= self.top_k).mean(axis=0) if self.draws else np.zeros(n),
        })
        if self.tiers is not None:
            K = len(self.tier_codes)
            flat = (np.arange(n)[None, :] * K + self.tiers.astype(np.int64)).ravel()
            counts = np.bincount(flat, minlength=n * K).reshape(n, K) / self.draws
            for k, code in enumerate(self.tier_codes):
                out[f"p_tier_{code}"] = counts[:, k]
        out["total"] = self.nominal_total
        if self.nominal_tier is not None:
            out["tier_code"] = [self.tier_codes[i] for i in self.nominal_tier]
            out["p_tier_nominal"] = counts[np.arange(n), self.nominal_tier.astype(np.int64)] if n else []
            out["tier_stable"] = out["p_tier_nominal"] >= TIER_STABLE_P
        out["rank_width"] = out["rank_p95"] - out["rank_p05"]
        allowed = np.ceil(np.maximum(STABLE_MIN_PLACES, STABLE_REL * out["rank"].to_numpy()))
        out["stable"] = ((out["rank"] - out["rank_p05"] <= allowed) & (out["rank_p95"] - out["rank"] <= allowed))
        return out.sort_values(["rank", "unit_code"], kind="mergesort").reset_index(drop=True)


def rank_uncertainty(matrices: scoring.Matrices, profile_weights, *, draws: int = 1000,
                     spread: float = 0.25, method: str = "uniform",
                     rng: np.random.Generator | int | None = None, eligible: np.ndarray | None = None,
                     tiers=None, caps: np.ndarray | None = None, top_k: int = 10,
                     stage_matrices: scoring.Matrices | None = None, stage_available: np.ndarray | None = None,
                     keep_totals: bool = False, allowed: np.ndarray | None = None,
                     share_cap=None, cap_scope: np.ndarray | None = None) -> UncertaintyResult:
    """Monte Carlo over weights, vectorised over the draws.

    profile_weights: a WeightProfile or a (w, W) pair of arrays in ``matrices`` order.
    eligible: bool per unit of ``matrices.units`` (default all); only these are ranked.
    tiers: a Framework or [(tier_code, min_total), …] best first (None: no tiers).
    caps: per unit, the best tier index its vetoes allow (see :func:`tiers.veto_caps`).
    allowed: (units, tiers) bool, the unit meets the tier's conditions (:func:`tiers.conditions_met`);
    share_cap: the top tier's :class:`criteria.ShareCap` (default: the framework's when ``tiers`` is
    one), applied in every draw within ``cap_scope`` (integer id per unit; absent: one scope).
    stage_matrices: the self-stage matrices (same units, criteria): each draw then also
    takes, for each unit independently with probability ½, its self-scores instead of its
    appraised scores (only for units where ``stage_available``, default all).
    """
    m = matrices
    w0, W0 = _as_vectors(profile_weights, m)
    rng = np.random.default_rng(rng)
    wd, Wd = draw_weights(w0, W0, m.membership, draws=draws, spread=spread, method=method, rng=rng)
    tot = draw_totals(m, wd, Wd, nominal=(w0, W0))
    if stage_matrices is not None:
        if stage_matrices.units != m.units or stage_matrices.ordinary != m.ordinary:
            raise ValueError("stage_matrices phải cùng đơn vị và tiêu chí với matrices")
        tot_self = draw_totals(stage_matrices, wd, Wd, nominal=(w0, W0))
        pick = rng.random(tot.shape) < 0.5
        if stage_available is not None:
            pick &= np.asarray(stage_available, dtype=bool)[None, :]
        tot = np.where(pick, tot_self, tot)
    nominal = scoring.totals(m.achievement, w0, W0, m.membership, m.adjust, m.applicable)
    sel = np.ones(len(m.units), dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool)
    cols = np.flatnonzero(sel)
    tot = tot[:, cols]
    ranks = competition_ranks(tot).astype(np.int32)
    nominal_rank = competition_ranks(nominal[cols])[0]
    codes, thr = tier_spec(tiers)
    tier_draws = nominal_tier = None
    if codes:
        cap = None if caps is None else np.asarray(caps)[cols]
        ok = None if allowed is None else np.asarray(allowed)[cols]
        tier_draws = tier_index(tot, thr, cap, ok)
        nominal_tier = tier_index(nominal[cols], thr, cap, ok)
        if share_cap is None and isinstance(tiers, Framework):
            share_cap = top_cap(tiers)
        if share_cap is not None:  # every unit in cols is ranked
            scope = np.zeros(len(cols), dtype=np.int64) if cap_scope is None else np.asarray(cap_scope)[cols]
            ranked = np.ones(len(cols), dtype=bool)
            tier_draws, _ = tiers_share_cap(tier_draws, tot, share_cap.share, scope, ranked, ok)
            nominal_tier, _ = tiers_share_cap(nominal_tier, nominal[cols], share_cap.share, scope, ranked, ok)
    return UncertaintyResult(units=[m.units[i] for i in cols], nominal_total=nominal[cols],
                             nominal_rank=nominal_rank, ranks=ranks, tier_codes=codes, tiers=tier_draws,
                             nominal_tier=nominal_tier, totals=tot if keep_totals else None, top_k=top_k,
                             spread=spread, method=method)


# --------------------------------------------------------------------------- inverse sensitivity
def _unit_index(m: scoring.Matrices, code: str) -> int:
    try:
        return m.units.index(code)
    except ValueError:
        raise store.StoreError(f"Đơn vị '{code}' không có điểm trong kỳ này") from None


def _two_totals(m: scoring.Matrices, rows: list[int], w: np.ndarray, Ws: np.ndarray) -> np.ndarray:
    """Totals of a few units (rows) under many group-weight vectors Ws (k, g): (k, len(rows))."""
    sub = scoring.Matrices([m.units[i] for i in rows], m.ordinary, m.groups, m.achievement[rows],
                           m.present[rows], m.membership, m.adjust[rows], m.bonus[rows], m.penalty[rows],
                           m.applicable[rows])
    wd = np.repeat(w[None, :], len(Ws), axis=0)
    return draw_totals(sub, wd, Ws)


def pairwise_flip(matrices: scoring.Matrices, profile_weights, a: str, b: str, *,
                  max_factor: float = 1e6) -> dict[str, float | None]:
    """For each group g: the multiplicative factor k of the single group weight W_g (all other
    weights unchanged) closest to 1 that ranks A strictly above B (rounded totals, as ranked).

    k > 1 means raise W_g, k < 1 lower it (k = 0: drop the group). ``None`` when no
    factor in [0, max_factor] does it. When A is already above B every factor is 1.0.
    Multiplying W_g by k moves the weight shares of every group (they are renormalised);
    along that one-parameter family each unit's total is monotone in k, so the
    crossing is unique up to the 0.01 rounding band, and the factor is found to ~1e-12.
    """
    m = matrices
    w, W = _as_vectors(profile_weights, m)
    ia, ib = _unit_index(m, a), _unit_index(m, b)

    def above(ks: np.ndarray, g: int) -> np.ndarray:
        Ws = np.repeat(W[None, :], len(ks), axis=0)
        Ws[:, g] = W[g] * ks
        ok = Ws.sum(axis=1) > 0
        Ws[~ok] = W  # invalid (all weights zero): judged as unchanged
        c = rounded_cents(_two_totals(m, [ia, ib], w, Ws))
        return (c[:, 0] > c[:, 1]) & ok

    out: dict[str, float | None] = {}
    if above(np.array([1.0]), 0)[0]:
        return {g: 1.0 for g in m.groups}
    for g, code in enumerate(m.groups):
        if W[g] <= 0:
            # a zero weight cannot be scaled; treat as impossible
            out[code] = None
            continue
        # scan both directions on a log grid, take the nearest factor that flips
        up = np.geomspace(1.0, max_factor, 241)[1:]
        down = np.concatenate([1.0 - np.geomspace(1e-6, 1.0, 241)[:-1], [0.0]])
        hit_up = above(up, g)
        hit_dn = above(down, g)
        cands = []
        if hit_up.any():
            j = int(np.argmax(hit_up))
            lo = 1.0 if j == 0 else up[j - 1]
            cands.append((lo, up[j]))
        if hit_dn.any():
            j = int(np.argmax(hit_dn))
            lo = 1.0 if j == 0 else down[j - 1]
            cands.append((lo, down[j]))
        best = None
        for lo, hi in cands:
            for _ in range(200):                   # bisection: lo never flips, hi flips
                mid = 0.5 * (lo + hi)
                if mid in (lo, hi):
                    break
                if above(np.array([mid]), g)[0]:
                    hi = mid
                else:
                    lo = mid
            if best is None or abs(math.log(max(hi, 1e-300))) < abs(math.log(max(best, 1e-300))):
                best = hi
        out[code] = None if best is None else float(best)
    return out


@dataclass
class RankSwing:
    summary: pd.DataFrame      # one row per group: rank_best, rank_worst, swing, factors
    curve: pd.DataFrame        # group, factor, weight, total, rank (for a chart)
    most: str | None           # group that moves the rank most


@dataclass
class SwingScenarios:
    """Every eligible unit's total when one group weight W_g is multiplied by each factor (the
    others unchanged): computed once for a period, then any unit's swing is a comparison."""

    units: dict[str, int]     # eligible unit → its column
    groups: list[str]
    factors: np.ndarray       # (f,)
    weights: np.ndarray       # (g·f,) the changed group's weight in each scenario
    totals: np.ndarray        # (g·f, units) totals under each scenario
    cents: np.ndarray         # the same, in whole cents (ranks compare these, as the ranking does)
    base_cents: np.ndarray    # (units,) under the profile itself
    scored: frozenset[str] = frozenset()            # every unit with scores, eligible or not
    group_names: dict[str, str] = field(default_factory=dict)


def swing_scenarios(matrices: scoring.Matrices, profile_weights, *,
                    factors: Sequence[float] = DEFAULT_SWING_FACTORS,
                    eligible: np.ndarray | None = None) -> SwingScenarios:
    m = matrices
    w, W = _as_vectors(profile_weights, m)
    sel = np.ones(len(m.units), dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool)
    f = np.asarray(factors, dtype="float64")
    G = len(m.groups)
    Ws = np.repeat(W[None, :], G * len(f), axis=0)
    for g in range(G):
        Ws[g * len(f):(g + 1) * len(f), g] = W[g] * f
    ok = Ws.sum(axis=1) > 0
    Ws[~ok] = W
    tot = draw_totals(m, np.repeat(w[None, :], len(Ws), axis=0), Ws, nominal=(w, W))[:, sel]
    base = rounded_cents(draw_totals(m, w[None, :], W[None, :], nominal=(w, W))[:, sel])[0]
    return SwingScenarios(units={m.units[i]: k for k, i in enumerate(np.flatnonzero(sel))}, groups=list(m.groups),
                          factors=f, weights=Ws[np.arange(len(Ws)), np.repeat(np.arange(G), len(f))],
                          totals=tot, cents=rounded_cents(tot), base_cents=base, scored=frozenset(m.units))


def swing_of(sc: SwingScenarios, unit: str) -> RankSwing:
    """One unit's rank under each scenario of ``sc``; ``swing`` = worst − best rank over the factors."""
    pos = sc.units.get(unit)
    if pos is None and unit not in sc.scored:
        raise store.StoreError(f"Đơn vị '{unit}' không có điểm trong kỳ này")
    if pos is None:
        raise store.StoreError(f"Đơn vị '{unit}' chưa được xếp hạng (chưa đủ dữ liệu hoặc không đủ "
                               "điều kiện xếp loại) nên không có thứ hạng")
    G, F = len(sc.groups), len(sc.factors)
    rank = 1 + (sc.cents > sc.cents[:, [pos]]).sum(axis=1)
    curve = pd.DataFrame({"group": np.repeat(sc.groups, F), "factor": np.tile(sc.factors, G),
                          "weight": sc.weights, "total": np.round(sc.totals[:, pos], 2), "rank": rank})
    base_rank = int(1 + (sc.base_cents > sc.base_cents[pos]).sum())
    by_group = rank.reshape(G, F)
    ib, iw = by_group.argmin(axis=1), by_group.argmax(axis=1)   # the first factor reaching each, as idxmin
    best, worst = by_group[np.arange(G), ib], by_group[np.arange(G), iw]
    summary = pd.DataFrame({"group": sc.groups, "rank": base_rank, "rank_best": best.astype(int),
                            "factor_best": sc.factors[ib].astype(float), "rank_worst": worst.astype(int),
                            "factor_worst": sc.factors[iw].astype(float), "swing": (worst - best).astype(int)})
    summary = summary.sort_values(["swing", "group"], ascending=[False, True],
                                  kind="mergesort").reset_index(drop=True)
    most = summary.at[0, "group"] if len(summary) and summary.at[0, "swing"] > 0 else None
    return RankSwing(summary, curve, most)


def rank_swing(matrices: scoring.Matrices, profile_weights, unit: str, *,
               factors: Sequence[float] = DEFAULT_SWING_FACTORS, eligible: np.ndarray | None = None) -> RankSwing:
    """For each group weight W_g multiplied by each factor (others unchanged): the unit's rank
    among the eligible units. ``swing`` = worst − best rank over the factors."""
    return swing_of(swing_scenarios(matrices, profile_weights, factors=factors, eligible=eligible), unit)


# --------------------------------------------------------------------------- database edge
@dataclass
class PeriodInputs:
    """What the con-level helpers need, read once: framework, profile, matrices, results."""

    fw: Framework
    profile: WeightProfile
    matrices: scoring.Matrices
    self_matrices: scoring.Matrices
    has_self: np.ndarray
    results: pd.DataFrame          # results.period_results(…, with_previous=False), in matrices order
    eligible: np.ndarray
    caps: np.ndarray
    allowed: np.ndarray | None = None   # (units, tiers) the unit meets the tier's conditions
    cap_scope: np.ndarray | None = None  # scope id per unit of the top tier's share cap


def period_inputs(con, period: str, profile: WeightProfile | None = None, *, scores: pd.DataFrame | None = None,
                  results: pd.DataFrame | None = None) -> PeriodInputs:
    """What every sensitivity computation of a period starts from. ``scores`` (from
    ``results.period_scores``) and ``results`` (``results.period_results(…, with_previous=False)``
    under the same profile) may be passed by a caller that already holds them — the dashboard
    keeps both cached — so they are not read and ranked again."""
    fw = periods.framework_for_period(con, period)
    profile = profile or official_profile(con, period)
    profile.check_against(fw)
    if scores is None:
        scores = period_scores(con, period, fw)
    res = results if results is not None else \
        period_results(con, period, profile, with_previous=False, scores=scores)
    units = sorted(pd.unique(scores["unit_code"]).tolist())
    appr = scores[scores["stage"] == "appraised"]
    m = scoring.build_matrices(appr, fw, units)
    ms = scoring.build_matrices(self_stage_rows(scores, fw), fw, units)
    has_self = np.isin(np.array(units, dtype=object), scores.loc[scores["stage"] == "self", "unit_code"].unique())
    res = res.set_index("unit_code").loc[units].reset_index()
    eligible = res["eligible"].astype(bool).to_numpy()
    caps = veto_caps(m, fw)
    cap = top_cap(fw)
    scope = None
    if cap is not None:
        col = "block" if cap.scope == "block" else "province_code"
        scope = pd.factorize(res[col].fillna("—"))[0] if col in res.columns else None
    return PeriodInputs(fw, profile, m, ms, has_self, res, eligible, caps, conditions_met(m, fw), scope)


def uncertainty_table(con, period: str, profile: WeightProfile | None = None, *, draws: int = 1000,
                      spread: float = 0.25, seed: int = 0, top_k: int = 10, method: str = "uniform",
                      stages: bool = False, inputs: PeriodInputs | None = None) -> pd.DataFrame:
    """Per eligible unit: nominal rank, 5th/50th/95th percentile rank over the draws,
    p_top{k}, p_tier_<code> per tier, then total, tier_code, p_tier_nominal, tier_stable,
    rank_width, stable, unit_name. Units not eligible are left out (they have no rank).
    Ordered by nominal rank, ties by unit code. ``inputs``: ``period_inputs(con, period, profile)``
    when the caller holds it."""
    if draws < 1:
        raise store.StoreError("Số lần thử (draws) phải là số nguyên dương")
    if (why := spread_problem(spread)) is not None:
        raise store.StoreError(why)
    if method not in METHODS:
        raise store.StoreError(f"Phương pháp '{method}' không hợp lệ; chỉ nhận: {', '.join(METHODS)}")
    if top_k < 1:
        raise store.StoreError("k của nhóm dẫn đầu phải là số nguyên dương")
    inp = inputs or period_inputs(con, period, profile)
    res = rank_uncertainty(inp.matrices, inp.profile, draws=draws, spread=spread, method=method, rng=seed,
                           eligible=inp.eligible, tiers=inp.fw, caps=inp.caps, top_k=top_k,
                           allowed=inp.allowed, cap_scope=inp.cap_scope,
                           stage_matrices=inp.self_matrices if stages else None,
                           stage_available=inp.has_self if stages else None)
    table = res.summary()
    # the nominal rank and tier are those of the results table (same rule, checked in tests)
    info = inp.results.set_index("unit_code")
    table["unit_name"] = table["unit_code"].map(info["unit_name"])
    return table


def attach_intervals(results: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The results table (results.period_results) with the interval columns of
    :func:`uncertainty_table` joined on unit_code (empty for units not ranked), for the
    ranking page: error bars from rank_p05/rank_p95, a mark from ``stable``."""
    keep = [c for c in table.columns if c.startswith(("rank_p", "rank_median", "p_top", "p_tier_"))
            or c in ("rank_width", "stable", "tier_stable")]
    return results.merge(table[["unit_code"] + keep], on="unit_code", how="left")


def tier_probabilities(row, fw: Framework) -> pd.DataFrame:
    """One unit's tier probabilities (a row of :func:`uncertainty_table`) as a small frame
    for the unit profile: tier_code, tier (Vietnamese name), probability, nominal."""
    r = dict(row)
    return pd.DataFrame({"tier_code": [t.code for t in fw.tiers], "tier": [t.name for t in fw.tiers],
                         "probability": [float(r.get(f"p_tier_{t.code}", 0.0)) for t in fw.tiers],
                         "nominal": [r.get("tier_code") == t.code for t in fw.tiers]})


def pairwise_flip_for(con, period: str, profile: WeightProfile | None, a: str, b: str, *,
                      inputs: PeriodInputs | None = None) -> pd.DataFrame:
    """For a page: per group, the factor on its weight that ranks A above B, with the new weight,
    the change in percent and the two totals after the change (NaN factor = impossible)."""
    inp = inputs or period_inputs(con, period, profile)
    for u in (a, b):
        if u not in inp.matrices.units:
            raise store.StoreError(f"Đơn vị '{u}' không có điểm trong kỳ {period}")
        if not inp.eligible[inp.matrices.units.index(u)]:
            raise store.StoreError(f"Đơn vị '{u}' chưa được xếp hạng (chưa đủ dữ liệu hoặc không đủ "
                                   "điều kiện xếp loại) nên không so thứ hạng được")
    m = inp.matrices
    w, W = scoring.weight_vectors(inp.profile, m)
    flips = pairwise_flip(m, (w, W), a, b)
    names = {g.code: g.name for g in inp.fw.scored_groups}
    ia, ib = m.units.index(a), m.units.index(b)
    rows = []
    for g, code in enumerate(m.groups):
        k = flips[code]
        row = {"group": code, "group_name": names.get(code, code), "weight": W[g],
               "share_pct": 100 * W[g] / W.sum(), "factor": np.nan if k is None else k,
               "possible": k is not None}
        if k is not None:
            W2 = W.copy()
            W2[g] = W[g] * k
            t = _two_totals(m, [ia, ib], w, W2[None, :])[0]
            row.update(new_weight=W2[g], new_share_pct=100 * W2[g] / W2.sum(), change_pct=100 * (k - 1),
                       total_a=float(np.round(t[0], 2)), total_b=float(np.round(t[1], 2)))
        rows.append(row)
    out = pd.DataFrame(rows)
    for c in ("new_weight", "new_share_pct", "change_pct", "total_a", "total_b"):
        if c not in out:
            out[c] = np.nan
    out["abs_change"] = (out["factor"] - 1).abs()
    out = out.sort_values(["possible", "abs_change"], ascending=[False, True], kind="mergesort") \
        .drop(columns="abs_change").reset_index(drop=True)
    out["explain"] = [explain_flip(r, a, b) for r in out.to_dict("records")]
    return out


def period_swing_scenarios(con, period: str, profile: WeightProfile | None, *,
                           factors: Sequence[float] = DEFAULT_SWING_FACTORS,
                           inputs: PeriodInputs | None = None) -> SwingScenarios:
    """``swing_scenarios`` of a period under ``profile``, with the groups' names."""
    inp = inputs or period_inputs(con, period, profile)
    sc = swing_scenarios(inp.matrices, inp.profile, factors=factors, eligible=inp.eligible)
    sc.group_names = {g.code: g.name for g in inp.fw.scored_groups}
    return sc


def rank_swing_for(con, period: str, profile: WeightProfile | None, unit: str, *,
                   factors: Sequence[float] = DEFAULT_SWING_FACTORS,
                   inputs: PeriodInputs | None = None, scenarios: SwingScenarios | None = None) -> RankSwing:
    """``rank_swing`` of a period's unit, with each group's name. ``scenarios``: the period's
    ``period_swing_scenarios`` when the caller holds them (the dashboard computes them once a period)."""
    sc = scenarios or period_swing_scenarios(con, period, profile, factors=factors, inputs=inputs)
    sw = swing_of(sc, unit)
    names = sc.group_names
    sw.summary.insert(1, "group_name", sw.summary["group"].map(names))
    sw.curve.insert(1, "group_name", sw.curve["group"].map(names))
    return sw


# --------------------------------------------------------------------------- Vietnamese wording
COLUMN_LABELS_VI = {
    "unit_code": "Mã đơn vị",
    "unit_name": "Tên đơn vị",
    "rank": "Thứ hạng",
    "rank_p05": "Hạng tốt nhất (5%)",
    "rank_median": "Hạng trung vị",
    "rank_p95": "Hạng kém nhất (95%)",
    "p_top10": "Xác suất vào top 10",
    "total": "Tổng điểm",
    "tier_code": "Xếp loại",
    "p_tier_nominal": "Xác suất giữ xếp loại",
    "tier_stable": "Xếp loại ổn định",
    "rank_width": "Số bậc hạng dao động",
    "stable": "Hạng ổn định",
}


def column_labels_vi(fw: Framework | None = None, top_k: int = 10) -> dict[str, str]:
    """COLUMN_LABELS_VI plus one label per tier column (p_tier_<code>) and p_top{k}."""
    out = dict(COLUMN_LABELS_VI)
    out[f"p_top{top_k}"] = f"Xác suất vào top {top_k}"
    if fw is not None:
        for t in fw.tiers:
            out[f"p_tier_{t.code}"] = f"Xác suất xếp loại {t.name}"
    return out


INTERVAL_NOTE_VI = (
    "Hạng dao động cho biết thứ hạng chắc chắn đến đâu khi trọng số thay đổi: máy thử {draws} lần, mỗi lần "
    "mỗi trọng số nhóm và tiêu chí được tăng hoặc giảm ngẫu nhiên trong khoảng ±{spread_pct:g}%, rồi xếp hạng "
    "lại. Trong 90% số lần thử, đơn vị đứng trong khoảng hạng hiển thị. Dao động ít là thứ hạng ổn định; dao động "
    "nhiều nghĩa là chỉ cần đổi trọng số một chút thứ hạng đã khác, nên đừng đọc chênh lệch vài bậc như một "
    "khác biệt thật."
)


def interval_note(draws: int = 1000, spread: float = 0.25) -> str:
    return INTERVAL_NOTE_VI.format(draws=draws, spread_pct=round(100 * spread, 1))


# the statistic behind the plain words the pages use ("Hạng dao động", "Mức ổn định của hạng"), for a tooltip
INTERVAL_STAT_VI = ("Thống kê: khoảng 90% của hạng — bách phân vị thứ 5 đến thứ 95 (rank_p05–rank_p95) qua {draws} "
                    "lần thử Monte Carlo, mỗi trọng số nhóm và tiêu chí nhân ngẫu nhiên trong ±{spread_pct:g}%.")
STABLE_STAT_VI = ("Thống kê: 'Ổn định' khi cả bách phân vị thứ 5 và thứ 95 của hạng cách hạng hiện tại không quá "
                  "max({places}; {rel:g}% × hạng) bậc, làm tròn lên; ngược lại là 'Dễ thay đổi'.")


def interval_statistic(draws: int = 1000, spread: float = 0.25) -> str:
    return INTERVAL_STAT_VI.format(draws=draws, spread_pct=round(100 * spread, 1))


def stable_statistic() -> str:
    return STABLE_STAT_VI.format(places=STABLE_MIN_PLACES, rel=round(100 * STABLE_REL, 1))


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%".replace(".", ",")


def explain_interval(row, *, top_k: int | None = None, spread: float | None = None) -> str:
    """One Vietnamese sentence for a row of :func:`uncertainty_table` (dict or Series)."""
    r = dict(row)
    if pd.isna(r.get("rank")):
        return "Đơn vị chưa được xếp hạng (chưa đủ dữ liệu hoặc không đủ điều kiện xếp loại) nên không có thứ hạng."
    rank, lo, hi = int(r["rank"]), int(r["rank_p05"]), int(r["rank_p95"])
    amp = f" (±{100 * spread:g}%)" if spread is not None else ""
    if lo == hi:
        s = f"Hạng {rank} rất ổn định: trong 90% số lần thử thay đổi trọng số{amp}, đơn vị vẫn đứng hạng {lo}."
    else:
        s = (f"Hạng {rank} là hạng theo bộ trọng số đang dùng; trong 90% số lần thử thay đổi trọng số{amp}, "
             f"đơn vị đứng từ hạng {lo} đến hạng {hi}")
        s += " — thứ hạng ổn định." if r.get("stable", False) else " — thứ hạng dễ thay đổi, cần thận trọng khi so sánh."
    if top_k is None:
        keys = [k for k in r if str(k).startswith("p_top")]
        top_k = int(keys[0][5:]) if keys else None
    if top_k is not None and f"p_top{top_k}" in r:
        s += f" Xác suất lọt vào top {top_k}: {_pct(float(r[f'p_top{top_k}']))}."
    if "p_tier_nominal" in r and r.get("tier_code"):
        s += f" Xác suất giữ mức xếp loại hiện tại: {_pct(float(r['p_tier_nominal']))}."
    return s


def explain_flip(row, a: str, b: str) -> str:
    """One Vietnamese sentence for a row of :func:`pairwise_flip_for` (the wording lives in
    :func:`insights.flip_sentence`, which the compare page uses with unit names)."""
    from .insights import flip_sentence

    return flip_sentence(dict(row), a, b)
