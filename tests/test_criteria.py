"""The criteria framework file: the default one is sound, bad ones are rejected by name."""

import copy

import pytest
import yaml

from danvan_scoring.criteria import (
    DEFAULT_FRAMEWORK_FILE,
    FrameworkError,
    Kind,
    default_framework,
    load_framework,
    parse_framework,
)


@pytest.fixture
def raw():
    return yaml.safe_load(DEFAULT_FRAMEWORK_FILE.read_text(encoding="utf-8"))


def test_default_framework_adds_up_to_100():
    fw = default_framework()
    ordinary = sum(c.max_points for c in fw.criteria.values() if c.ordinary)
    assert ordinary == 100
    assert {g.code for g in fw.groups} >= {"A", "B", "C", "D", "E"}
    assert {c.kind for c in fw.criteria.values()} == set(Kind)
    assert sum(c.max_points for c in fw.criteria.values() if c.kind is Kind.bonus) <= 5
    assert all(c.source for c in fw.criteria.values())


def test_default_framework_names_are_nfc_vietnamese():
    import unicodedata

    fw = default_framework()
    for c in fw.criteria.values():
        assert unicodedata.is_normalized("NFC", c.name)
    assert fw.group("A").name == "Công tác phối hợp"
    assert [t.name for t in fw.tiers] == ["Xuất sắc", "Tốt", "Khá", "Trung bình", "Yếu"]
    assert [t.min_total for t in fw.tiers] == [90, 80, 65, 50, 0]


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
    fw = default_framework()
    assert fw.criteria["A1"].value_max == 1.0          # pass/fail
    assert fw.criteria["A3"].value_max == 5            # points
    assert fw.criteria["A5"].value_max is None         # ratio: capped when scored
    assert fw.criteria["P4"].value_max == 8            # penalty, stored positive


def test_copy_round_trip(raw):
    fw = parse_framework(copy.deepcopy(raw))
    assert parse_framework(fw.model_dump(mode="json")) == fw
