"""Scoring rules, as properties over all inputs and against an independent recomputation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from danvan_scoring import periods
from danvan_scoring.criteria import INCOMPLETE, V2_FRAMEWORK_FILE, Kind, load_framework
from danvan_scoring.ranking import competition_rank
from danvan_scoring.scoring import points_of, score_units
from danvan_scoring.weights import default_profile

FW = load_framework(V2_FRAMEWORK_FILE)   # the demo's framework (five bands, P4)
PROFILE = default_profile(FW)
ORDINARY = [c for c in FW.criteria.values() if c.ordinary]


def full_sheet(unit: str, frac: float = 1.0, evidence: str | None = "bb.pdf") -> pd.DataFrame:
    """A unit that scored `frac` of every ordinary criterion (values in raw form)."""
    rows = []
    for c in ORDINARY:
        if c.kind is Kind.pass_fail:
            v = 1.0 if frac >= 0.5 else 0.0
        elif c.kind is Kind.ratio:
            v = frac * c.target
        elif c.kind is Kind.count:
            v = round(frac * c.max_points / c.per_unit)
        else:
            v = frac * c.max_points
        rows.append((unit, c.code, v, evidence))
    return pd.DataFrame(rows, columns=["unit_code", "criterion_code", "value", "evidence"])


def test_points_by_kind():
    codes = pd.Series(["A1", "A1", "A5", "A5", "A4", "A4", "A3", "P4"])
    vals = pd.Series([1, 0, 50, 130, 2, 10, 7.5, 3])
    pts = points_of(vals, codes, FW)
    # pass/fail 3 or 0; ratio 5×50/100, capped at 5; count 1 each capped at 3; points capped at max
    assert pts.tolist() == [3, 0, 2.5, 5, 2, 3, 5, 3]


def test_full_marks_is_100_and_xuat_sac():
    r = score_units(full_sheet("00001"), FW, PROFILE)
    assert r.loc[0, "total"] == pytest.approx(100)
    assert r.loc[0, "tier"] == "Xuất sắc"
    assert r.loc[0, "eligible"]
    groups = [c for c in r.columns if c.startswith("group_")]
    assert r.loc[0, groups].sum() == pytest.approx(100)
    assert r.loc[0, "group_B"] == pytest.approx(25)


def test_bonus_and_penalty_then_clamp():
    s = full_sheet("00001")
    s = pd.concat([s, pd.DataFrame([("00001", "P1", 3.0, None)], columns=s.columns)])
    assert score_units(s, FW, PROFILE).loc[0, "total"] == 100  # clamped at 100
    low = full_sheet("00002", 0.0)
    low = pd.concat([low, pd.DataFrame([("00002", "P4", 8.0, None)], columns=low.columns)])
    assert score_units(low, FW, PROFILE).loc[0, "total"] == 0   # clamped at 0


def test_missing_required_is_incomplete_not_zero():
    s = full_sheet("00001")
    s = s[s["criterion_code"] != "D2"]
    r = score_units(s, FW, PROFILE)
    assert not r.loc[0, "eligible"]
    assert r.loc[0, "tier"] == INCOMPLETE  # a late upload is not a sanction (issue 12, point 4)
    assert r.loc[0, "missing"] == "D2"
    assert competition_rank(r["total"], r["eligible"]).isna().all()


def test_missing_evidence_is_not_eligible():
    s = full_sheet("00001")
    s.loc[s["criterion_code"] == "B4", "evidence"] = "  "
    r = score_units(s, FW, PROFILE)
    assert not r.loc[0, "eligible"] and r.loc[0, "missing_evidence"] == "B4"


def test_self_stage_does_not_require_appraiser_only_criteria():
    s = full_sheet("00001")
    s = s[~s["criterion_code"].isin(["E1", "E2", "E3"])]
    assert score_units(s, FW, PROFILE, stage="self").loc[0, "eligible"]
    assert not score_units(s, FW, PROFILE, stage="appraised").loc[0, "eligible"]


def test_veto_caps_the_tier():
    s = full_sheet("00001")
    s.loc[s["criterion_code"] == "E2", "value"] = 0.0   # a hotspot of mass complaints
    r = score_units(s, FW, PROFILE)
    assert r.loc[0, "total"] == pytest.approx(98)
    assert r.loc[0, "tier_code"] == "trung_binh" and r.loc[0, "vetoes"] == "diem_nong"


def test_veto_does_not_raise_a_lower_tier():
    s = full_sheet("00001", 0.3)
    s.loc[s["criterion_code"] == "E3", "value"] = 0.0
    r = score_units(s, FW, PROFILE)
    assert r.loc[0, "tier_code"] == "yeu"


def test_tier_bands_use_printed_total():
    from danvan_scoring.tiers import tier_index, tier_spec

    codes, thr = tier_spec(FW)
    got = tier_index(np.array([89.994, 89.996, 80.0, 79.999, 64.99, 50, 49.99]), thr)
    assert [codes[i] for i in got] == ["tot", "xuat_sac", "tot", "tot", "trung_binh", "trung_binh", "yeu"]


# ----------------------------------------------------------------- properties (hypothesis)
def random_sheet(data, n_units: int) -> pd.DataFrame:
    rows = []
    for u in range(n_units):
        for c in FW.criteria.values():
            if c.kind is Kind.pass_fail:
                v = data.draw(st.sampled_from([0.0, 1.0]))
            elif c.kind in (Kind.ratio,):
                v = data.draw(st.floats(0, 2 * c.target, allow_nan=False))
            elif c.kind is Kind.count:
                v = float(data.draw(st.integers(0, 20)))
            else:
                v = data.draw(st.floats(0, c.max_points, allow_nan=False))
            rows.append((f"{u:05d}", c.code, v, "x"))
    return pd.DataFrame(rows, columns=["unit_code", "criterion_code", "value", "evidence"])


def random_profile(data):
    groups = {g: data.draw(st.floats(0.01, 10)) for g in PROFILE.groups}
    crits = {c: data.draw(st.floats(0.01, 10)) for c in PROFILE.criteria}
    return PROFILE.model_copy(update={"groups": groups, "criteria": crits})


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_totals_stay_within_0_100(data):
    s = random_sheet(data, 3)
    r = score_units(s, FW, random_profile(data))
    assert ((r["total"] >= 0) & (r["total"] <= 100)).all()


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_raising_one_criterion_never_lowers_the_total(data):
    s = random_sheet(data, 1)
    prof = random_profile(data)
    before = score_units(s, FW, prof).loc[0, "total"]
    code = data.draw(st.sampled_from([c.code for c in FW.criteria.values() if c.kind is not Kind.penalty]))
    i = s.index[s["criterion_code"] == code][0]
    c = FW.criteria[code]
    cap = c.value_max if c.value_max is not None else 3 * (c.target or c.max_points)
    s.loc[i, "value"] = data.draw(st.floats(s.loc[i, "value"], max(cap, s.loc[i, "value"]), allow_nan=False))
    after = score_units(s, FW, prof).loc[0, "total"]
    assert after >= before - 1e-9


@settings(max_examples=40, deadline=None)
@given(st.data(), st.floats(0.01, 1000))
def test_scaling_all_weights_leaves_ranks_unchanged(data, k):
    s = random_sheet(data, 6)
    prof = random_profile(data)
    scaled = prof.model_copy(update={"groups": {g: w * k for g, w in prof.groups.items()},
                                     "criteria": {c: w * k for c, w in prof.criteria.items()}})
    a = score_units(s, FW, prof)
    b = score_units(s, FW, scaled)
    assert np.allclose(a["total"], b["total"], atol=1e-9)
    assert competition_rank(a["total"], a["eligible"]).tolist() == \
        competition_rank(b["total"], b["eligible"]).tolist()


# ----------------------------------------------------------------- independent recomputation
def independent_totals(scores: pd.DataFrame) -> pd.Series:
    """Plain pandas, written from the framework file's conventions, not from scoring.py."""
    meta = pd.DataFrame([{"criterion_code": c.code, "kind": c.kind.value, "mx": c.max_points,
                          "target": c.target, "per": c.per_unit} for c in FW.criteria.values()])
    df = scores.merge(meta, on="criterion_code")
    v = df["value"].clip(lower=0)
    pts = np.select(
        [df["kind"] == "pass_fail", df["kind"] == "ratio", df["kind"] == "count"],
        [np.where(v >= 1, df["mx"], 0), df["mx"] * np.minimum(1, v / df["target"]),
         np.minimum(df["mx"], v * df["per"])],
        np.minimum(df["mx"], v))
    sign = np.where(df["kind"] == "penalty", -1, 1)
    return pd.Series(pts * sign, index=df.index).groupby(df["unit_code"]).sum().clip(0, 100)


def test_library_agrees_with_independent_recomputation_on_demo(demo_con):
    from danvan_scoring.results import period_results, period_scores

    for period in periods.periods(demo_con):
        scores = period_scores(demo_con, period)
        scores = scores[scores["stage"] == "appraised"]
        expected = independent_totals(scores)
        got = period_results(demo_con, period).set_index("unit_code")["total"]
        common = expected.index
        assert len(common) > 150
        assert np.allclose(got.loc[common].to_numpy(), expected.to_numpy(), atol=1e-9)


# --------------------------------------------------------------------------- "không phát sinh"
def _na_fw():
    from pathlib import Path

    import yaml

    from danvan_scoring.criteria import parse_framework

    data = yaml.safe_load((Path(__file__).resolve().parent.parent / "data" / "criteria" / "dvk-2025.v2.yaml")
                          .read_text(encoding="utf-8"))
    for g in data["groups"]:
        for c in g["criteria"]:
            if c["code"] in ("A4", "B4", "B5", "D4"):
                c["allow_na"] = True
    return parse_framework(data)


NA_FW = _na_fw()
NA_CODES = [c.code for c in NA_FW.criteria.values() if c.allow_na]


@settings(max_examples=120, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=len(ORDINARY), max_size=len(ORDINARY)),
       st.lists(st.booleans(), min_size=4, max_size=4))
def test_na_renormalises_the_group_keeps_0_100_and_equals_the_plain_sum_without_na(fracs, na_mask):
    fw = NA_FW
    crits = [c for c in fw.criteria.values() if c.ordinary]
    rows = []
    for c, f in zip(crits, fracs):
        v = {Kind.pass_fail: float(f >= 0.5), Kind.ratio: f * (c.target or 1),
             Kind.count: round(f * c.max_points / (c.per_unit or 1))}.get(c.kind, f * c.max_points)
        rows.append(("00001", c.code, v, "bb.pdf"))
    plain = pd.DataFrame(rows, columns=["unit_code", "criterion_code", "value", "evidence"])
    na = plain.copy()
    na_codes = [code for code, on in zip(NA_CODES, na_mask) if on]
    na.loc[na["criterion_code"].isin(na_codes), "value"] = np.nan
    profile = default_profile(fw)
    r_plain = score_units(plain, fw, profile).iloc[0]
    r_na = score_units(na, fw, profile).iloc[0]
    assert 0 <= r_na["total"] <= 100 and r_na["eligible"]
    pts = pd.Series(points_of(plain["value"], plain["criterion_code"], fw), index=plain["criterion_code"])
    for g in fw.scored_groups:
        codes = [c.code for c in g.criteria if c.ordinary]
        app = [c for c in codes if c not in na_codes]
        expect = g.ordinary_max * pts[app].sum() / sum(fw.criteria[c].max_points for c in app)
        assert r_na[f"group_{g.code}"] == pytest.approx(expect, abs=1e-9)
        assert r_plain[f"group_{g.code}"] == pytest.approx(pts[codes].sum(), abs=1e-9)
    assert r_na["not_applicable"] == ", ".join(c for c in [c.code for c in crits] if c in na_codes)
    if not na_codes:
        assert r_na["total"] == r_plain["total"]


def test_na_under_any_profile_and_in_the_monte_carlo_gives_the_same_totals():
    from danvan_scoring import sensitivity as S
    from danvan_scoring.scoring import build_matrices, weight_vectors

    sheets = [full_sheet("00001", 0.9), full_sheet("00002", 0.7), full_sheet("00003", 0.8)]
    s = pd.concat(sheets, ignore_index=True)
    s.loc[(s["unit_code"] == "00002") & s["criterion_code"].isin(["B4", "D4"]), "value"] = np.nan
    prof = default_profile(NA_FW)
    prof = prof.model_copy(update={"groups": {g: w * (1 + i) for i, (g, w) in enumerate(prof.groups.items())}})
    r = score_units(s, NA_FW, prof)
    m = build_matrices(s, NA_FW, r["unit_code"].tolist())
    assert m.any_na and not m.applicable[1].all()
    w, W = weight_vectors(prof, m)
    draws = S.draw_totals(m, np.repeat(w[None, :], 2, axis=0) * 1.5, np.repeat(W[None, :], 2, axis=0))
    assert np.allclose(draws, r["total"].to_numpy()[None, :], atol=1e-9)


def test_a_group_of_only_na_criteria_is_refused_in_the_framework():
    from pathlib import Path

    import yaml

    from danvan_scoring.criteria import FrameworkError, parse_framework

    data = yaml.safe_load((Path(__file__).resolve().parent.parent / "data" / "criteria" / "dvk-2025.v2.yaml")
                          .read_text(encoding="utf-8"))
    for c in data["groups"][1]["criteria"]:
        c["allow_na"] = True
    with pytest.raises(FrameworkError, match="cả nhóm có thể không phát sinh"):
        parse_framework(data)
