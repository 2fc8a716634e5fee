"""Award proposals: the catalogue file, eligibility, the family rule and caps in rank order."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from danvan_scoring.award_catalogue import Catalogue, CatalogueError, load_catalogue, parse_catalogue
from danvan_scoring.proposals import COLUMNS, eligible_mask, propose, proposed
from danvan_scoring.ranking import competition_ranks

TIERS = ["xuat_sac", "tot", "kha", "trung_binh", "yeu"]
TIER_NAMES = dict(zip(TIERS, ["Xuất sắc", "Tốt", "Khá", "Trung bình", "Yếu"]))


def table(rows) -> pd.DataFrame:
    """rows: (unit, block, province, total, status, award_eligible, block_leader, models)."""
    df = pd.DataFrame(rows, columns=["unit_code", "block", "province_code", "total", "status", "award_eligible",
                                     "block_leader", "models_recognised"])
    df["unit_name"] = "Xã " + df["unit_code"]
    df["tier_code"] = pd.cut(df["total"], [-1, 50, 65, 80, 90, 101], right=False,
                             labels=["yeu", "trung_binh", "kha", "tot", "xuat_sac"]).astype(object)
    df.loc[df["status"] != "ranked", "tier_code"] = None
    df["tier"] = df["tier_code"].map(TIER_NAMES)
    ranked = df["status"] == "ranked"
    df["rank"] = pd.NA
    df.loc[ranked, "rank"] = competition_ranks(df.loc[ranked, "total"].to_numpy())[0]
    df["block_rank"] = 1
    return df


def catalogue(**over) -> Catalogue:
    data = {"code": "t", "name": "thử", "awards": [
        {"code": "co", "name": "Cờ thi đua", "level": "tỉnh", "family": "f", "rank": 1,
         "eligibility": {"block_leader": True, "min_tier": "tot"}, "caps": [{"per": "block", "count": 1}]},
        {"code": "bk", "name": "Bằng khen", "level": "tỉnh", "family": "f", "rank": 2,
         "eligibility": {"min_tier": "tot"}, "caps": [{"per": "block", "count": 2}]},
        {"code": "dvk", "name": "Dân vận khéo", "level": "tỉnh", "family": "m", "rank": 1,
         "eligibility": {"min_models_recognised": 3}, "caps": [{"per": "province", "share": 0.5}]},
    ]}
    data.update(over)
    return parse_catalogue(data)


def test_the_default_catalogue_loads_and_says_a_province_edits_it():
    cat = load_catalogue()
    codes = [a.code for a in cat.awards]
    assert {"co_thi_dua", "bang_khen", "giay_khen", "dan_van_kheo"} <= set(codes)
    text = (load_catalogue.__globals__["DEFAULT_CATALOGUE_FILE"]).read_text(encoding="utf-8")
    assert "TỈNH SỬA TỆP NÀY" in text
    assert any("Nghị định số 98/2023/NĐ-CP" in b for b in cat.legal_basis)
    assert any("Luật Thi đua, khen thưởng" in b for b in cat.legal_basis)
    cat.check_tiers(TIERS)


@pytest.mark.parametrize("change, words", [
    ({"caps": [{"per": "block", "count": 1, "share": 0.2}]}, "đúng một trong hai"),
    ({"caps": [{"per": "khoi", "count": 1}]}, "chỉ nhận"),
    ({"rank": 2}, "cùng family"),
])
def test_a_wrong_catalogue_names_the_entry_in_vietnamese(change, words):
    data = catalogue().model_dump()
    data["awards"][0].update(change)
    with pytest.raises(CatalogueError, match=words) as exc:
        parse_catalogue(data, "x.yaml")
    assert "hình thức 'co'" in str(exc.value) or "cùng family" in str(exc.value)


def test_an_unknown_min_tier_is_refused():
    data = catalogue().model_dump()
    data["awards"][0]["eligibility"]["min_tier"] = "gioi"
    with pytest.raises(CatalogueError, match="min_tier 'gioi'"):
        propose(table([("1", "X", "42", 95, "ranked", True, True, 0)]), parse_catalogue(data), TIERS)


QD366 = ["hoan_thanh_xuat_sac", "hoan_thanh_tot", "hoan_thanh", "khong_hoan_thanh"]


def test_min_tier_alternatives_serve_both_tier_schemes():
    """The default catalogue names [tot, hoan_thanh_xuat_sac]: "Tốt" on the five bands, "Hoàn
    thành xuất sắc" on QĐ 366 — the first one the period's framework has."""
    cat = load_catalogue()
    cat.check_tiers(TIERS)
    cat.check_tiers(QD366)
    flag = cat.award("co_thi_dua").eligibility
    assert flag.tier_in(TIERS) == "tot" and flag.tier_in(QD366) == "hoan_thanh_xuat_sac"
    data = catalogue().model_dump()
    data["awards"][1]["eligibility"]["min_tier"] = ["tot", "hoan_thanh_tot"]
    award = parse_catalogue(data).awards[1]
    res = table([("1", "X", "42", 85, "ranked", True, False, 0), ("2", "X", "42", 75, "ranked", True, False, 0)])
    res["tier_code"] = ["hoan_thanh_tot", "hoan_thanh"]
    assert eligible_mask(res, award, QD366).tolist() == [True, False]
    data["awards"][0]["eligibility"]["min_tier"] = ["gioi", "rat_gioi"]
    with pytest.raises(CatalogueError, match="'co': min_tier 'gioi', 'rat_gioi'"):
        parse_catalogue(data).check_tiers(QD366)


def test_family_rule_the_leader_gets_the_flag_not_also_the_certificate():
    res = table([("1", "X", "42", 95, "ranked", True, True, 5), ("2", "X", "42", 91, "ranked", True, False, 1),
                 ("3", "X", "42", 85, "ranked", True, False, 4), ("4", "X", "42", 82, "ranked", True, False, 0),
                 ("5", "X", "42", 70, "ranked", True, False, 9)])
    out = proposed(propose(res, catalogue(), TIERS))
    assert out[["unit_code", "award_code"]].values.tolist() == [
        ["1", "co"], ["2", "bk"], ["3", "bk"], ["1", "dvk"], ["3", "dvk"]]   # 5: Khá, 3 of 5 ranked ⇒ 2 dvk
    assert list(out.columns[:len(COLUMNS)]) == COLUMNS
    assert out.loc[0, "basis"].startswith("dẫn đầu khối, Xuất sắc, 95,00 điểm, không vi phạm")
    cut = propose(res, catalogue(), TIERS).query("outcome == 'cut'")
    assert cut[["unit_code", "award_code"]].values.tolist() == [["4", "bk"], ["5", "dvk"]]
    assert "hết chỉ tiêu" in cut["reason"].iloc[0]


def test_a_unit_cut_from_the_higher_award_is_considered_for_the_next():
    cat = catalogue()
    data = cat.model_dump()
    data["awards"][0]["eligibility"] = {"min_tier": "tot"}        # not leaders only: two contenders for one flag
    res = table([("1", "X", "42", 95, "ranked", True, True, 0), ("2", "X", "42", 91, "ranked", True, False, 0)])
    full = propose(res, parse_catalogue(data), TIERS)
    assert full[["unit_code", "award_code", "outcome"]].values.tolist() == [
        ["1", "co", "proposed"], ["2", "co", "cut"], ["2", "bk", "proposed"]]


def test_units_tied_at_the_cap_are_all_cut_for_the_council_never_by_code():
    res = table([("1", "X", "42", 85, "ranked", True, False, 0), ("2", "X", "42", 83, "ranked", True, False, 0),
                 ("3", "X", "42", 83, "ranked", True, False, 0)])
    out = propose(res, catalogue(), TIERS)
    assert proposed(out)["unit_code"].tolist() == ["1"]
    ties = out[out["outcome"] == "cut"]
    assert ties["unit_code"].tolist() == ["2", "3"] and ties["reason"].str.contains("đồng điểm").all()


def test_a_vetoed_or_incomplete_unit_is_never_proposed():
    res = table([("1", "X", "42", 99, "ranked", False, False, 9), ("2", "X", "42", 99, "incomplete", False, False, 9),
                 ("3", "X", "42", 60, "ranked", True, True, 0)])
    out = propose(res, catalogue(), TIERS)
    assert out.empty


# --------------------------------------------------------------------------- properties
unit_rows = st.lists(st.tuples(
    st.sampled_from(["A", "B", "C"]), st.sampled_from(["42", "91"]),
    st.sampled_from([40.0, 66.0, 80.0, 83.5, 85.0, 90.0, 95.0, 99.0]),
    st.sampled_from(["ranked", "ranked", "ranked", "incomplete"]), st.booleans(), st.booleans(),
    st.integers(0, 6)), min_size=0, max_size=40)
caps = st.lists(st.one_of(
    st.builds(lambda per, n: {"per": per, "count": n}, st.sampled_from(["block", "province"]), st.integers(0, 4)),
    st.builds(lambda per, s: {"per": per, "share": s}, st.sampled_from(["block", "province"]),
              st.sampled_from([0.0, 0.1, 0.25, 0.5, 1.0]))), min_size=0, max_size=2)


@settings(max_examples=150, deadline=None)
@given(unit_rows, caps, caps, caps, st.sampled_from([None, "tot", "kha"]), st.booleans())
def test_caps_families_and_eligibility_hold_for_any_table(rows, caps_a, caps_b, caps_c, min_tier, leader_only):
    rows = [(str(i), *r) for i, r in enumerate(rows)]
    res = table(rows)
    data = catalogue().model_dump()
    data["awards"][0].update(caps=caps_a, eligibility={"block_leader": leader_only, "min_tier": min_tier})
    data["awards"][1]["caps"] = caps_b
    data["awards"][2]["caps"] = caps_c
    cat = parse_catalogue(data)
    out = propose(res, cat, TIERS)
    got = proposed(out)
    # never two awards of one family
    assert not got.duplicated(["unit_code", "family"]).any()
    ranked = res[res["status"] == "ranked"]
    n_block = Counter(ranked["block"])
    n_prov = Counter(ranked["province_code"])
    for award in cat.awards:
        mine = got[got["award_code"] == award.code]
        # an ineligible unit never gets one
        ok = set(res.loc[eligible_mask(res, award, TIERS), "unit_code"])
        assert set(mine["unit_code"]) <= ok
        assert set(mine["unit_code"]) <= set(res.loc[res["award_eligible"] & (res["status"] == "ranked"), "unit_code"])
        # never more awards in a block (or province) than its cap
        for cap in award.caps:
            col, n = ("block", n_block) if cap.per == "block" else ("province_code", n_prov)
            for key, count in Counter(mine[col]).items():
                assert count <= cap.limit(n[key]), (award.code, key, count)
    # a unit cut by a cap had room nowhere above, and caps are applied in rank order: within an award and a
    # scope with one cap, nobody proposed is ranked below someone cut for lack of room there
    for award in cat.awards:
        if len(award.caps) != 1:
            continue
        col = "block" if award.caps[0].per == "block" else "province_code"
        a = out[out["award_code"] == award.code]
        for _key, g in a.groupby(col):
            cut = g[(g["outcome"] == "cut") & g["reason"].str.startswith("hết chỉ tiêu")]
            kept = g[g["outcome"] == "proposed"]
            if len(cut) and len(kept):
                assert kept["rank"].max() <= cut["rank"].min()
