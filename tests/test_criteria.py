"""The criteria framework file: the default one is sound, bad ones are rejected by name."""

import copy

import pytest
import yaml

from danvan_scoring.criteria import (
    DEFAULT_FRAMEWORK_FILE,
    V2_FRAMEWORK_FILE,
    FrameworkError,
    Kind,
    default_framework,
    load_framework,
    parse_framework,
)


@pytest.fixture
def raw():
    # the validation tests edit v2's layout by position (groups[1].criteria[2] is B3…)
    return yaml.safe_load(V2_FRAMEWORK_FILE.read_text(encoding="utf-8"))


def test_v3_round_trips_with_its_tiers_inside():
    """A stored v3 framework carries the scheme's tiers, so editing data/tiers later never
    changes a past period."""
    fw = default_framework()
    again = parse_framework(fw.model_dump(mode="json"))
    assert again == fw and again.tiers == fw.tiers


def test_default_framework_adds_up_to_100():
    fw = default_framework()
    ordinary = sum(c.max_points for c in fw.criteria.values() if c.ordinary)
    assert ordinary == 100
    assert {g.code for g in fw.groups} >= {"A", "B", "C", "D", "E"}
    assert {c.kind for c in fw.criteria.values()} == set(Kind)
    assert sum(c.max_points for c in fw.criteria.values() if c.kind is Kind.bonus) <= 5
    assert all(c.source for c in fw.criteria.values())


def test_v2_framework_keeps_its_five_bands():
    fw = load_framework(V2_FRAMEWORK_FILE)
    assert fw.key == "dvk-xa@2"
    assert fw.group("A").name == "Công tác phối hợp"
    assert [t.name for t in fw.tiers] == ["Xuất sắc", "Tốt", "Khá", "Trung bình", "Yếu"]
    assert [t.min_total for t in fw.tiers] == [90, 80, 65, 50, 0]


def test_default_framework_names_are_nfc_vietnamese():
    import unicodedata

    fw = default_framework()
    for c in list(fw.criteria.values()) + list(fw.groups) + list(fw.tiers):
        assert unicodedata.is_normalized("NFC", c.name)
    for c in fw.criteria.values():
        assert unicodedata.is_normalized("NFC", c.source)


def test_v3_is_the_default_and_rates_as_qd366_does():
    fw = default_framework()
    assert DEFAULT_FRAMEWORK_FILE.name == "dvk-2026.v3.yaml" and fw.key == "dvk-xa@3"
    assert fw.tier_scheme == "qd366"
    assert [t.name for t in fw.tiers] == ["Hoàn thành xuất sắc nhiệm vụ", "Hoàn thành tốt nhiệm vụ",
                                          "Hoàn thành nhiệm vụ", "Không hoàn thành nhiệm vụ"]
    assert [t.min_total for t in fw.tiers] == [90, 70, 50, 0]
    top = fw.tiers[0]
    assert {c.criterion for c in top.conditions} == {"E3", "A6"}
    assert top.share_cap is not None and top.share_cap.share == 0.2
    # the condition "at least 30% of tasks exceeded" is A6's target
    assert fw.criteria["A6"].kind is Kind.ratio and fw.criteria["A6"].target == 30


def test_v3_counts_the_missing_launch_once():
    """v2 scored "not launched" twice (A1 pass/fail and the 8-point penalty P4); v3 keeps A1 only."""
    v2, v3 = load_framework(V2_FRAMEWORK_FILE), default_framework()
    assert "P4" in v2.criteria and "P4" not in v3.criteria
    assert v3.criteria["A1"].kind is Kind.pass_fail
    assert not [c for c in v3.criteria.values() if c.kind is Kind.penalty and c.max_points > 3]


def test_v3_covers_what_the_directives_ask():
    fw = default_framework()
    names = " | ".join(c.name.lower() for c in fw.criteria.values())
    for words in ("chương trình, kế hoạch công tác dân vận hằng năm", "dân vận chính quyền",
                  "cải cách hành chính", "bí thư chi bộ", "trưởng thôn", "người có uy tín",
                  "tập huấn, bồi dưỡng"):
        assert words in names, words


def test_v3_citations_match_the_seeds():
    """The Xuân Trường directive carries no number (cite its items, which exist: 1–7); group B cites
    the 2022 law on grassroots democracy; QĐ 366 replaced QĐ 124."""
    import re

    fw = default_framework()
    sources = [c.source for c in fw.criteria.values()]
    assert not any("124-QĐ/TW" in s for s in sources)
    for s in sources:
        if "Xuân Trường" in s:
            assert not re.search(r"Chỉ thị (số )?\d", s), s
            for item in re.findall(r"mục (\d+)", s):
                assert 1 <= int(item) <= 7, s
        assert "Huyện ủy," not in s or "Xuân Trường" in s
    assert all("Luật Thực hiện dân chủ ở cơ sở 2022" in c.source
               for c in fw.group("B").criteria if c.code in {"B1", "B2", "B4", "B6"})


def test_v3_citizen_reception_target_is_not_met_by_everyone():
    """The chairman receives citizens weekly, the secretary monthly: ~60 sessions a year is the
    target, so 10 sessions no longer earn full points."""
    import pandas as pd

    from danvan_scoring.scoring import points_of

    fw = default_framework()
    b3 = fw.criteria["B3"]
    assert b3.kind is Kind.ratio and b3.target >= 52
    pts = points_of(pd.Series([10.0, 60.0, 80.0]), pd.Series(["B3"] * 3), fw)
    assert pts[0] < b3.max_points / 4
    assert pts[1] == pts[2] == b3.max_points


def test_v3_na_criteria_are_the_ones_with_nothing_to_count():
    fw = default_framework()
    assert {c.code for c in fw.criteria.values() if c.allow_na} == {"B4", "B5", "D4"}


def test_higher_level_group_is_appraiser_only():
    fw = default_framework()
    assert all(c.appraiser_only for c in fw.group("E").criteria)


def _expect(data, *fragments):
    with pytest.raises(FrameworkError) as exc:
        parse_framework(data, "bad.yaml")
    msg = str(exc.value)
    for f in fragments:
        assert f in msg, msg
    return msg


def test_unknown_kind_names_the_criterion(raw):
    raw["groups"][1]["criteria"][2]["kind"] = "guess"
    _expect(raw, "bad.yaml", "nhóm 'B'", "tiêu chí 'B3'", "kind", "giá trị không hợp lệ")


def test_points_must_add_to_100(raw):
    raw["groups"][0]["criteria"][0]["max_points"] = 4
    _expect(raw, "phải bằng 100", "101")


def test_duplicate_criterion_code(raw):
    raw["groups"][1]["criteria"][0]["code"] = "A1"
    _expect(raw, "'A1'", "trùng")


def test_ratio_needs_target(raw):
    crit = next(c for c in raw["groups"][0]["criteria"] if c["kind"] == "ratio")
    del crit["target"]
    _expect(raw, "tiêu chí 'A5'", "target")


def test_missing_source_is_rejected(raw):
    del raw["groups"][3]["criteria"][0]["source"]
    _expect(raw, "tiêu chí 'D1'", "source", "thiếu trường bắt buộc")


def test_veto_must_point_at_a_pass_fail_criterion(raw):
    raw["vetoes"][0]["criterion"] = "E1"
    _expect(raw, "diem_nong", "pass_fail")


def test_tiers_must_descend(raw):
    raw["tiers"][0]["min_total"] = 10
    _expect(raw, "giảm dần")


def test_extra_field_rejected(raw):
    raw["groups"][0]["criteria"][0]["maxpoints"] = 3
    _expect(raw, "tiêu chí 'A1'", "maxpoints", "không được phép")


def test_bad_yaml_file(tmp_path):
    p = tmp_path / "broken.yaml"
    p.write_text("code: [unclosed\n", encoding="utf-8")
    with pytest.raises(FrameworkError, match="broken.yaml: YAML không hợp lệ"):
        load_framework(p)


def test_not_a_mapping():
    with pytest.raises(FrameworkError, match="mapping"):
        parse_framework(["a"], "list.yaml")


def test_value_max_by_kind():
    fw = load_framework(V2_FRAMEWORK_FILE)
    assert fw.criteria["A1"].value_max == 1.0          # pass/fail
    assert fw.criteria["A3"].value_max == 5            # points
    assert fw.criteria["A5"].value_max is None         # ratio: capped when scored
    assert fw.criteria["P4"].value_max == 8            # penalty, stored positive


def test_copy_round_trip(raw):
    fw = parse_framework(copy.deepcopy(raw))
    assert parse_framework(fw.model_dump(mode="json")) == fw
