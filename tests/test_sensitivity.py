"""Rank uncertainty (Monte Carlo over weights) and inverse sensitivity."""

from __future__ import annotations

import io
import shutil
from contextlib import redirect_stdout

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from danvan_scoring import cli, periods, ranking, results, scoring, store
from danvan_scoring import sensitivity as S
from danvan_scoring.results import period_scores

PERIOD = "2025"
TIERS = ["xuat_sac", "tot", "kha", "trung_binh", "yeu"]


@pytest.fixture(scope="module")
def sens_db(tmp_path_factory, demo_db_template):
    path = tmp_path_factory.mktemp("sens") / "demo.duckdb"
    shutil.copy(demo_db_template, path)  # the session's demo DB, built once (conftest)
    return path


@pytest.fixture(scope="module")
def sens_con(sens_db):
    con = store.connect(sens_db, read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def inputs(sens_con):
    return S.period_inputs(sens_con, PERIOD)


def _nominal(con):
    r = results.period_results(con, PERIOD, with_previous=False)
    return r[r["eligible"]].set_index("unit_code")


# --------------------------------------------------------------------------- the table
def test_columns_and_order(sens_con):
    t = S.uncertainty_table(sens_con, PERIOD, draws=100)
    assert t.columns[:11].tolist() == ["unit_code", "rank", "rank_p05", "rank_median", "rank_p95", "p_top10"] + \
        [f"p_tier_{c}" for c in TIERS]
    assert t["rank"].is_monotonic_increasing
    assert "unit_name" in t.columns and "stable" in t.columns


@pytest.mark.parametrize("method", ["uniform", "dirichlet"])
def test_zero_spread_collapses_to_nominal(sens_con, method):
    t = S.uncertainty_table(sens_con, PERIOD, draws=50, spread=0.0, method=method)
    nom = _nominal(sens_con)
    assert set(t["unit_code"]) == set(nom.index)          # only eligible units, all of them
    expect = nom.loc[t["unit_code"], "rank"].astype(int).to_numpy()
    for col in ("rank", "rank_p05", "rank_median", "rank_p95"):
        assert (t[col].to_numpy() == expect).all(), col
    # tiers collapse too: probability 1 on the results table's tier (veto caps included)
    tier = nom.loc[t["unit_code"], "tier_code"].to_numpy()
    for code in TIERS:
        assert (t[f"p_tier_{code}"].to_numpy() == (tier == code)).all()
    assert set(np.unique(t["p_top10"])) <= {0.0, 1.0}
    assert ((t["rank"] <= 10) == (t["p_top10"] == 1.0)).all()


def test_zero_spread_totals_equal_score_units_exactly(sens_con, inputs):
    m = inputs.matrices
    res = S.rank_uncertainty(m, inputs.profile, draws=5, spread=0.0, rng=1, keep_totals=True)
    scores = period_scores(sens_con, PERIOD)
    su = scoring.score_units(scores[scores["stage"] == "appraised"], inputs.fw, inputs.profile,
                             units=m.units).set_index("unit_code")
    expect = su.loc[res.units, "total"].to_numpy()
    assert (res.totals == expect[None, :]).all()           # bit for bit
    assert (res.nominal_total == expect).all()


def test_intervals_contain_nominal_rank(sens_con):
    t = S.uncertainty_table(sens_con, PERIOD, draws=400, spread=0.25, seed=3)
    inside = (t["rank_p05"] <= t["rank"]) & (t["rank"] <= t["rank_p95"])
    assert inside.mean() >= 0.95
    assert (t["rank_p05"] <= t["rank_median"]).all() and (t["rank_median"] <= t["rank_p95"]).all()
    assert (t["rank_p95"] > t["rank_p05"]).any()          # ±25 % does move some ranks


def test_seeded_runs_reproduce_and_seeds_differ(sens_con):
    a = S.uncertainty_table(sens_con, PERIOD, draws=200, seed=7)
    b = S.uncertainty_table(sens_con, PERIOD, draws=200, seed=7)
    c = S.uncertainty_table(sens_con, PERIOD, draws=200, seed=8)
    pd.testing.assert_frame_equal(a, b)
    num = ["rank_p05", "rank_median", "rank_p95", "p_top10"] + [f"p_tier_{x}" for x in TIERS]
    assert not a[num].equals(c[num])


@pytest.mark.parametrize("kw", [{}, {"method": "dirichlet"}, {"stages": True}, {"top_k": 3}])
def test_probabilities(sens_con, kw):
    t = S.uncertainty_table(sens_con, PERIOD, draws=150, **kw)
    ptier = t[[f"p_tier_{x}" for x in TIERS]].sum(axis=1)
    assert np.allclose(ptier, 1.0)
    k = kw.get("top_k", 10)
    p = t[f"p_top{k}"]
    assert ((p >= 0) & (p <= 1)).all()
    # at most k units (plus ties) can be in the top k in a draw: Σ p_top_k ≈ k
    assert p.sum() >= k - 1e-9 and p.sum() <= k + 5


def test_cli_header(sens_db):
    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = cli.main(["uncertainty", "--db", str(sens_db), "--period", PERIOD, "--draws", "200",
                       "--format", "csv"])
    assert rc == 0
    lines = buf.getvalue().splitlines()
    header = lines[0].split(",")
    assert header[:11] == ["unit_code", "rank", "rank_p05", "rank_median", "rank_p95", "p_top10",
                           "p_tier_xuat_sac", "p_tier_tot", "p_tier_kha", "p_tier_trung_binh", "p_tier_yeu"]
    assert lines[0].startswith("unit_code,rank,rank_p05,rank_median,rank_p95,p_top10,p_tier_xuat_sac,")
    assert len(lines) > 100


def test_cli_subprocess_header(sens_db):
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).with_name("danvan")
    assert exe.exists(), "the danvan console script must be installed (pip install -e .)"
    out = subprocess.run([str(exe), "uncertainty", "--db", str(sens_db), "--period", PERIOD, "--draws", "50",
                          "--format", "csv", "--top", "10"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].startswith(
        "unit_code,rank,rank_p05,rank_median,rank_p95,p_top10,p_tier_xuat_sac,p_tier_tot,p_tier_kha,"
        "p_tier_trung_binh,p_tier_yeu")


def test_cli_bad_spread(sens_db, capsys):
    assert cli.main(["uncertainty", "--db", str(sens_db), "--period", PERIOD, "--spread", "1.5"]) != 0
    assert "spread" in capsys.readouterr().err


def test_explain_interval_vietnamese(sens_con):
    t = S.uncertainty_table(sens_con, PERIOD, draws=100)
    row = t.iloc[len(t) // 2]
    s = S.explain_interval(row, spread=0.25)
    assert f"Hạng {int(row['rank'])}" in s and "90%" in s and "top 10" in s
    assert "±25%" in s
    assert "không có thứ hạng" in S.explain_interval({"rank": pd.NA})
    assert "±25%" in S.interval_note(1000, 0.25)
    labels = S.column_labels_vi(periods.framework_for_period(sens_con, PERIOD))
    assert labels["p_tier_xuat_sac"] == "Xác suất xếp loại Xuất sắc"


def test_bad_arguments(sens_con):
    with pytest.raises(store.StoreError):
        S.uncertainty_table(sens_con, PERIOD, draws=0)
    with pytest.raises(store.StoreError):
        S.uncertainty_table(sens_con, PERIOD, method="gauss")


# --------------------------------------------------------------------------- pure core
def test_draw_weights_renormalised(inputs):
    m = inputs.matrices
    w, W = scoring.weight_vectors(inputs.profile, m)
    g = S._group_index(m.membership)
    for method in S.METHODS:
        wd, Wd = S.draw_weights(w, W, m.membership, draws=300, spread=0.25, method=method, rng=0)
        assert np.allclose(Wd.sum(axis=1), W.sum())
        assert np.allclose(S._group_sums(wd, g, len(W)), S._group_sums(w[None, :], g, len(W)))
        assert (wd > 0).all() and (Wd > 0).all()
        if method == "uniform":   # each weight moves at most ±25 % before renormalisation → bounded
            assert (Wd / W <= 1.25 / 0.75 + 1e-9).all()
        # centred on the profile
        assert np.allclose(Wd.mean(axis=0) / W, 1.0, atol=0.05)


def test_dirichlet_concentration_matches_uniform_cv():
    rng = np.random.default_rng(0)
    k, spread = 5, 0.25
    x = rng.dirichlet(np.full(k, S.dirichlet_concentration(spread, k) / k), size=20000)
    cv = x.std(axis=0) / x.mean(axis=0)
    assert np.allclose(cv, spread / np.sqrt(3), rtol=0.05)


def _random_matrices(rng, n=60, groups=(3, 2, 4)):
    c = sum(groups)
    membership = np.zeros((c, len(groups)))
    j = 0
    for g, size in enumerate(groups):
        membership[j:j + size, g] = 1
        j += size
    ach = rng.random((n, c))
    adjust = rng.choice([0.0, 0.0, 1.5, -2.0], size=n)
    return scoring.Matrices([f"u{i:03d}" for i in range(n)], [f"c{k}" for k in range(c)],
                            [f"g{k}" for k in range(len(groups))], ach, np.ones((n, c), bool), membership,
                            adjust, np.maximum(adjust, 0), np.maximum(-adjust, 0))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(-6, 6), st.integers(-6, 6),
       st.sampled_from(["uniform", "dirichlet"]))
def test_scaling_weights_leaves_draw_ranks_unchanged(seed, kw, kW, method):
    rng = np.random.default_rng(seed)
    m = _random_matrices(rng)
    w = rng.uniform(0.5, 5, len(m.ordinary))
    W = rng.uniform(0.5, 5, len(m.groups))
    a = S.rank_uncertainty(m, (w, W), draws=30, spread=0.3, method=method, rng=seed)
    b = S.rank_uncertainty(m, (w * 2.0 ** kw, W * 2.0 ** kW), draws=30, spread=0.3, method=method, rng=seed)
    assert (a.ranks == b.ranks).all()
    assert (a.nominal_rank == b.nominal_rank).all()


def test_scaling_by_any_constant(inputs):
    m = inputs.matrices
    w, W = scoring.weight_vectors(inputs.profile, m)
    a = S.rank_uncertainty(m, (w, W), draws=200, rng=5, eligible=inputs.eligible)
    b = S.rank_uncertainty(m, (w * 3.7, W * 0.37), draws=200, rng=5, eligible=inputs.eligible)
    assert (a.ranks == b.ranks).mean() > 0.999


def test_draw_totals_match_library_totals(inputs):
    m = inputs.matrices
    w, W = scoring.weight_vectors(inputs.profile, m)
    wd, Wd = S.draw_weights(w, W, m.membership, draws=20, spread=0.3, rng=2)
    assert np.allclose(S.draw_totals(m, wd, Wd), scoring.totals(m.achievement, wd, Wd, m.membership, m.adjust),
                       atol=1e-9)


def test_ineligible_excluded(sens_con, inputs):
    t = S.uncertainty_table(sens_con, PERIOD, draws=20)
    bad = set(np.array(inputs.matrices.units)[~inputs.eligible])
    assert bad and not (bad & set(t["unit_code"]))
    assert t["rank"].max() <= inputs.eligible.sum()


# --------------------------------------------------------------------------- inverse sensitivity
def _cents(m, w, W, rows):
    return ranking.rounded_cents(S._two_totals(m, rows, w, W[None, :]))[0]


def _check_flip(m, w, W, a, b, flips):
    ia, ib = m.units.index(a), m.units.index(b)
    for g, code in enumerate(m.groups):
        k = flips[code]
        if k is None:
            # no factor on the grid 0 … 1e6 puts A above B
            for f in [0.0, 0.01, 0.1, 0.5, 0.9, 1.1, 2, 10, 100, 1e4, 1e6]:
                W2 = W.copy()
                W2[g] *= f
                if W2.sum() > 0:
                    ca, cb = _cents(m, w, W2, [ia, ib])
                    assert not ca > cb, (code, f)
            continue
        W2 = W.copy()
        W2[g] = W[g] * k
        ca, cb = _cents(m, w, W2, [ia, ib])
        assert ca > cb, (code, k)                       # the change flips A above B
        for shrink in (1e-6, 1e-3, 0.1):                # a slightly smaller change does not
            k2 = 1 + (k - 1) * (1 - shrink)
            W3 = W.copy()
            W3[g] = W[g] * k2
            ca, cb = _cents(m, w, W3, [ia, ib])
            assert not ca > cb, (code, k, k2)


def test_pairwise_flip_on_demo(sens_con, inputs):
    m = inputs.matrices
    w, W = scoring.weight_vectors(inputs.profile, m)
    t = S.uncertainty_table(sens_con, PERIOD, draws=20)
    codes = t["unit_code"].tolist()
    pairs = [(codes[5], codes[2]), (codes[40], codes[30]), (codes[100], codes[10]), (codes[-1], codes[0])]
    found = 0
    for a, b in pairs:
        flips = S.pairwise_flip(m, (w, W), a, b)
        assert set(flips) == set(m.groups)
        found += sum(v is not None for v in flips.values())
        _check_flip(m, w, W, a, b, flips)
    assert found > 0
    # already above: nothing to change
    assert set(S.pairwise_flip(m, (w, W), codes[0], codes[5]).values()) == {1.0}


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_pairwise_flip_random(seed):
    rng = np.random.default_rng(seed)
    m = _random_matrices(rng, n=8)
    w = rng.uniform(0.5, 5, len(m.ordinary))
    W = rng.uniform(0.5, 5, len(m.groups))
    cents = ranking.rounded_cents(S.draw_totals(m, w[None, :], W[None, :]))[0]
    lo, hi = int(np.argmin(cents)), int(np.argmax(cents))
    if cents[lo] == cents[hi]:
        return
    flips = S.pairwise_flip(m, (w, W), m.units[lo], m.units[hi])
    _check_flip(m, w, W, m.units[lo], m.units[hi], flips)


def test_pairwise_flip_for_page(sens_con):
    t = S.uncertainty_table(sens_con, PERIOD, draws=20)
    a, b = t["unit_code"].iloc[6], t["unit_code"].iloc[3]
    f = S.pairwise_flip_for(sens_con, PERIOD, None, a, b)
    assert {"group", "group_name", "factor", "possible", "new_weight", "change_pct", "explain"} <= set(f.columns)
    ok = f[f["possible"]]
    assert (ok["total_a"] > ok["total_b"]).all()
    assert f["explain"].str.len().gt(10).all()
    with pytest.raises(store.StoreError):
        S.pairwise_flip_for(sens_con, PERIOD, None, a, "khong-co")


def test_rank_swing(sens_con, inputs):
    t = S.uncertainty_table(sens_con, PERIOD, draws=20)
    unit = t["unit_code"].iloc[30]
    sw = S.rank_swing_for(sens_con, PERIOD, None, unit)
    nominal = int(t["rank"].iloc[30])
    at1 = sw.curve[np.isclose(sw.curve["factor"], 1.0)]
    assert (at1["rank"] == nominal).all()
    assert (sw.summary["rank"] == nominal).all()
    assert (sw.summary["rank_best"] <= nominal).all() and (sw.summary["rank_worst"] >= nominal).all()
    assert sw.summary["swing"].is_monotonic_decreasing
    if sw.most is not None:
        assert sw.summary.iloc[0]["group"] == sw.most
        assert sw.summary.iloc[0]["swing"] == sw.summary["swing"].max() > 0
    assert set(sw.curve["group"]) == set(inputs.matrices.groups)
    bad = np.array(inputs.matrices.units)[~inputs.eligible][0]
    with pytest.raises(store.StoreError):
        S.rank_swing_for(sens_con, PERIOD, None, bad)



def test_rank_swing_from_period_scenarios_is_the_same_for_every_unit(sens_con, inputs):
    """The dashboard computes the scenarios once a period and each unit's swing from them."""
    sc = S.period_swing_scenarios(sens_con, PERIOD, None, inputs=inputs)
    ranked = np.array(inputs.matrices.units)[inputs.eligible]
    assert set(sc.units) == set(ranked)
    for unit in ranked[:: max(1, len(ranked) // 7)]:
        a = S.rank_swing_for(sens_con, PERIOD, None, unit, scenarios=sc)
        b = S.rank_swing(inputs.matrices, inputs.profile, unit, eligible=inputs.eligible)
        pd.testing.assert_frame_equal(a.summary.drop(columns="group_name"), b.summary)
        pd.testing.assert_frame_equal(a.curve.drop(columns="group_name"), b.curve)
        assert a.most == b.most and a.summary["group_name"].notna().all()
        # a scenario's rank is the unit's place when that group's weight alone changes
        k = int(np.argmax(a.curve["rank"].to_numpy() != a.curve["rank"].iloc[0]))   # a rank that moved, if any
        g, f = a.curve["group"].iloc[k], a.curve["factor"].iloc[k]
        w, W = S._as_vectors(inputs.profile, inputs.matrices)
        W2 = W.copy()
        W2[list(inputs.matrices.groups).index(g)] *= f
        tot = S.draw_totals(inputs.matrices, w[None, :], W2[None, :], nominal=(w, W))[0][inputs.eligible]
        cents = S.rounded_cents(tot)
        mine = cents[list(ranked).index(unit)]
        assert a.curve["rank"].iloc[k] == 1 + int((cents > mine).sum())
    with pytest.raises(store.StoreError, match="không có điểm trong kỳ này"):
        S.rank_swing_for(sens_con, PERIOD, None, "khong-co", scenarios=sc)

def test_page_helpers(sens_con):
    t = S.uncertainty_table(sens_con, PERIOD, draws=50)
    res = results.period_results(sens_con, PERIOD)
    both = S.attach_intervals(res, t)
    assert len(both) == len(res) and both["unit_code"].tolist() == res["unit_code"].tolist()
    assert both.loc[both["eligible"], "rank_p05"].notna().all()
    assert both.loc[~both["eligible"], "rank_p05"].isna().all()
    fw = periods.framework_for_period(sens_con, PERIOD)
    tp = S.tier_probabilities(t.iloc[0], fw)
    assert tp["probability"].sum() == pytest.approx(1.0) and tp["nominal"].sum() == 1


def test_veto_caps_agree_with_the_results_vetoes(inputs):
    """The Monte Carlo's caps and the results table's veto list come from one rule."""
    vetoed = inputs.results["vetoes"].fillna("").str.len().to_numpy() > 0
    assert ((inputs.caps > 0) == vetoed).all()
    assert inputs.caps.max() > 0          # the demo has vetoed units


def test_inputs_from_held_scores_and_results_give_the_same_answers(sens_con, inputs):
    """The dashboard passes its cached scores/results (period_inputs) and the inputs themselves
    (uncertainty_table, pairwise_flip_for, rank_swing_for): the answers must not change."""
    import pickle

    scores = results.period_scores(sens_con, PERIOD)
    res = results.period_results(sens_con, PERIOD, with_previous=False, scores=scores)
    held = S.period_inputs(sens_con, PERIOD, scores=scores, results=res)
    assert held.matrices.units == inputs.matrices.units and (held.caps == inputs.caps).all()
    assert (held.matrices.achievement == inputs.matrices.achievement).all()
    held = pickle.loads(pickle.dumps(held))          # st.cache_data keeps a pickled copy
    a = S.uncertainty_table(sens_con, PERIOD, draws=40, seed=3)
    b = S.uncertainty_table(sens_con, PERIOD, draws=40, seed=3, inputs=held)
    pd.testing.assert_frame_equal(a, b)
    u, v = a["unit_code"].iloc[5], a["unit_code"].iloc[2]
    pd.testing.assert_frame_equal(S.pairwise_flip_for(sens_con, PERIOD, None, u, v),
                                  S.pairwise_flip_for(sens_con, PERIOD, None, u, v, inputs=held))
    pd.testing.assert_frame_equal(S.rank_swing_for(sens_con, PERIOD, None, u).curve,
                                  S.rank_swing_for(sens_con, PERIOD, None, u, inputs=held).curve)


@pytest.mark.parametrize("spread", [-0.1, S.SPREAD_MAX + 0.01, 0.95])
def test_one_spread_limit_everywhere(spread):
    assert S.spread_problem(spread) and str(S.SPREAD_MAX) in S.spread_problem(spread)
    with pytest.raises(ValueError):
        S.draw_weights(np.ones(2), np.ones(1), np.ones((2, 1)), draws=2, spread=spread)
    assert S.spread_problem(S.SPREAD_MAX) is None and S.spread_problem(0.0) is None
