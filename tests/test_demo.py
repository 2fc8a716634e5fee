"""Synthetic demo data: deterministic, labelled, and with the spread a council sees."""

import pandas as pd
import pytest
from models_support import PERIOD, PROVINCE

from danvan_scoring import auth, batches, demo, derived, registry, rubric, store
from danvan_scoring import batches as batch_store
from danvan_scoring import units as unit_store
from danvan_scoring.criteria import default_framework
from danvan_scoring.results import period_results


def test_deterministic_under_seed():
    fw = default_framework()
    codes = [f"{i:05d}" for i in range(30)]
    a = demo.generate(fw, codes, ["2024", "2025"], seed=7)
    b = demo.generate(fw, codes, ["2024", "2025"], seed=7)
    c = demo.generate(fw, codes, ["2024", "2025"], seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a["value"].equals(c["value"])


def test_demo_covers_two_whole_provinces(demo_con):
    s = batches.current_scores(demo_con)
    units = unit_store.units(demo_con)
    for prov in demo.DEMO_PROVINCES:
        codes = set(units.loc[units["province_code"] == prov, "unit_code"])
        assert codes <= set(s["unit_code"])
    assert set(s["period"]) == set(demo.DEMO_PERIODS)
    assert set(s["stage"]) == {"self", "appraised"}


def test_demo_has_a_realistic_spread(demo_con):
    r = period_results(demo_con, "2025")
    assert 0.03 < (~r["eligible"]).mean() < 0.2            # some not eligible
    assert (r["vetoes"] != "").sum() >= 1                    # a few vetoed
    assert r["gap"].median() > 0                             # self a little above appraised
    assert r["gap"].median() < 6
    assert (r["delta_rank"] > 10).sum() >= 5                 # some improving
    assert r["tier"].nunique() >= 5
    assert r["block"].notna().all()


def test_demo_registry_is_realistic_and_deterministic(mcon):
    m = registry.list_models(mcon, PERIOD)
    share = m["field"].value_counts(normalize=True)
    assert share.get("party_building", 0) < 0.03                       # one field almost empty
    assert share["economy"] > 0.3                                      # Can Lộc: economy leads
    s = derived.models_summary_by_unit(mcon, PERIOD)
    many = s[s["models_total"] >= 9]
    few = s[(s["models_total"] > 0) & (s["models_total"] <= 4)]
    assert len(many) >= 5 and len(few) >= 5
    assert many["mean_rubric_recognised"].median() < few["mean_rubric_recognised"].median() - 15
    assert set(m["status"]) == set(rubric.STATUSES)
    h = registry.model_history(mcon, PERIOD, m.loc[m["status"] == "recognised", "model_id"].iloc[0])
    assert len(h) == 2 and h["status"].iloc[-1] == "registered"        # registered, then the review
    u = unit_store.units(mcon)
    codes = u.loc[u["province_code"] == PROVINCE, "unit_code"].tolist()
    a = demo.demo_registry(codes, {}, [PERIOD], seed=5)[1]
    b = demo.demo_registry(codes, {}, [PERIOD], seed=5)[1]
    pd.testing.assert_frame_equal(a, b)
    again = demo.generate_demo_models(mcon, seed=5, periods=[PERIOD], provinces=[PROVINCE])
    assert again["new"] == 0                                           # idempotent


def test_demo_refuses_a_database_with_real_users(empty_con):
    from danvan_scoring import auth

    auth.add_user(empty_con, "nguyenvana", "admin", "mat-khau-that-dai", actor=auth.CLI_ACTOR)
    with pytest.raises(store.StoreError, match="tài khoản thật"):
        demo.fill_demo(empty_con, provinces=["42"], periods=["2025"])
    assert not store.is_demo(empty_con) and batch_store.current_scores(empty_con).empty   # refused: nothing written
    info = demo.fill_demo(empty_con, provinces=["42"], periods=["2025"], force=True)
    assert not info["accounts"] and store.is_demo(empty_con)
    assert set(auth.users(empty_con)["username"]) == {"nguyenvana"}   # never a demo account with a known password


def test_the_demo_cycle_leaves_the_latest_period_mid_cycle(demo_con, tmp_path, monkeypatch):
    from danvan_scoring import dossier, evidence, lifecycle, objections, units

    monkeypatch.setenv("DANVAN_EVIDENCE_DIR", str(tmp_path / "ev"))
    u = units.units(demo_con)
    codes = u.loc[u["province_code"].isin(demo.DEMO_PROVINCES), "unit_code"].tolist()
    info = demo.demo_cycle(demo_con, "2025", codes)
    assert lifecycle.state(demo_con, "2025").state == "objections"
    prog = dossier.progress(demo_con, "2025").set_index("unit_code").loc[codes]
    assert 0 < info["late"] == int(prog["late"].sum()) and info["submitted"] == int((prog["status"] == "submitted").sum())
    assert len(objections.list_objections(demo_con, "2025")) == info["objections"] == 3
    files = evidence.list_files(demo_con, "2025")
    assert len(files) > len(codes) and files["sha256"].nunique() == 1          # one synthetic PDF, stored once
    assert len(list((tmp_path / "ev").rglob("*"))) == 2                         # its folder and the file
    accounts = auth.demo_unit_accounts(demo_con)
    assert len(accounts) == demo.DEMO_UNIT_ACCOUNTS and set(accounts.values()) <= set(codes)
    assert demo.real_users(demo_con) == []                                     # demo accounts are not real ones
    assert auth.authenticate(demo_con, next(iter(accounts)), "demo", sleep=lambda s: None).role == "unit"


def test_demo_scores_the_years_before_the_merger_on_the_old_units(demo_con):
    """2023 and 2024 on the legacy communes of the demo provinces (marked), 2025 on the new ones."""
    from danvan_scoring import crosswalk, results

    s = batches.current_scores(demo_con)
    u = unit_store.units(demo_con)
    new = u.loc[u["province_code"].isin(demo.DEMO_PROVINCES), "unit_code"].tolist()
    cw = crosswalk.crosswalk(demo_con)
    olds = set(cw.loc[cw["unit_code"].isin(new) & (cw["share"] > 0), "legacy_code"])
    assert len(olds) > 2 * len(new)
    for p in demo.DEMO_PERIODS:
        got = s[s["period"] == p]
        assert set(got["unit_code"]) == (olds if crosswalk.is_pre_merger(p) else set(new)), p
        assert set(got["note"]) == {demo.LEGACY_NOTE if crosswalk.is_pre_merger(p) else demo.SYNTHETIC_NOTE}
    own = results.period_results(demo_con, "2024")
    assert own["block"].str.startswith("L").all()           # the old districts' blocks of that year
    lu = crosswalk.legacy_units(demo_con).set_index("legacy_code")
    assert (own.set_index("unit_code")["unit_name"] == lu["name"].reindex(own["unit_code"]).to_numpy()).all()
    # the change since 2024 goes through the crosswalk, and the quality carries over the merger
    now = results.period_results(demo_con, "2025")
    compared = now[now["total_prev"].notna()]
    assert len(compared) > 0.9 * len(now) and compared["prev_estimated"].all()
    assert compared["total"].corr(compared["total_prev"]) > 0.5
    # the model registry of a year before the merger is on the old units too
    m = registry.list_models(demo_con, "2024")
    assert set(m["unit_code"]) <= olds and len(m)
