"""Rubric, fields and derived-criterion definitions: bad files are refused with clear messages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from models_support import ROOT, V1, V2

from danvan_scoring import derived, rubric
from danvan_scoring.criteria import FrameworkError, load_framework, parse_framework


def test_bad_rubric_definitions_are_rejected_with_clear_messages():
    good = yaml.safe_load((ROOT / "data" / "models" / "rubric.yaml").read_text(encoding="utf-8"))
    assert rubric.parse_rubric(good).total == 100
    bad = json.loads(json.dumps(good))
    bad["items"][0]["max_points"] = 25
    with pytest.raises(rubric.ModelsError, match="tổng điểm tối đa của các mục phải bằng total = 100, hiện là 105"):
        rubric.parse_rubric(bad)
    bad = json.loads(json.dumps(good))
    bad["items"][1]["code"] = "novelty"
    with pytest.raises(rubric.ModelsError, match="mã mục 'novelty' bị trùng"):
        rubric.parse_rubric(bad)
    bad = json.loads(json.dumps(good))
    bad["items"][2]["max_points"] = 0
    with pytest.raises(rubric.ModelsError, match="mục 'forces' › max_points: phải lớn hơn 0"):
        rubric.parse_rubric(bad)
    bad = json.loads(json.dumps(good))
    bad["items"][3]["weight"] = 2
    with pytest.raises(rubric.ModelsError, match="không được phép"):
        rubric.parse_rubric(bad)
    fields = yaml.safe_load((ROOT / "data" / "models" / "fields.yaml").read_text(encoding="utf-8"))
    assert len(rubric.parse_fields(fields).fields) == 6
    fields["fields"][1]["aliases"].append("kt")
    with pytest.raises(rubric.ModelsError, match="'kt' dùng cho cả lĩnh vực 'economy' và 'culture_society'"):
        rubric.parse_fields(fields)


def _v2() -> dict:
    return yaml.safe_load(V2.read_text(encoding="utf-8"))


def _crit(data: dict, code: str) -> dict:
    return next(c for g in data["groups"] for c in g["criteria"] if c["code"] == code)


def test_bad_derived_definitions_are_rejected_naming_the_criterion():
    data = _v2()
    _crit(data, "C3")["derived"] = "models_liked"
    with pytest.raises(FrameworkError) as exc:
        parse_framework(data, "v2.yaml")
    msg = str(exc.value)
    assert "nhóm 'C' › tiêu chí 'C3'" in msg and "chỉ số dẫn xuất 'models_liked' không có" in msg
    assert "share_recognised" in msg
    data = _v2()
    _crit(data, "C2")["derived"] = "share_recognised"
    with pytest.raises(FrameworkError, match="tiêu chí 'C2': chỉ số dẫn xuất 'share_recognised' .* cần loại 'ratio'"):
        parse_framework(data, "v2.yaml")
    data = _v2()
    _crit(data, "C1")["evidence_required"] = True
    with pytest.raises(FrameworkError, match="tiêu chí 'C1' được tính từ sổ mô hình nên không nhập minh chứng"):
        parse_framework(data, "v2.yaml")


def test_frameworks_without_derived_serialise_as_before():
    assert '"derived"' not in load_framework(V1).model_dump_json()
    fw2 = load_framework(V2)
    again = parse_framework(json.loads(fw2.model_dump_json()))
    assert derived.derived_criteria(again) == derived.derived_criteria(fw2)
    v1 = yaml.safe_load((ROOT / "data" / "criteria" / "dvk-2025.v1.yaml").read_text(encoding="utf-8"))
    v2 = _v2()
    for g1, g2 in zip(v1["groups"], v2["groups"]):  # v2 differs only by derived criteria
        for c1, c2 in zip(g1["criteria"], g2["criteria"]):
            if "derived" not in c2:
                assert c1 == c2


# --------------------------------------------------------------------------- demo registry


# shared/seeds/003 (Huyện ủy Can Lộc, 21/03/2016), verbatim: how a district report words the fields
CAN_LOC = ("Năm 2015, các cơ sở trong toàn huyện đã đăng ký xây dựng 441 mô hình, trong đó 197 mô hình lĩnh vực "
           "kinh tế, 39 mô hình quốc phòng - an ninh, 92 mô hình văn hóa - xã hội, 34 mô hình chính quyền, 40 mô "
           "hình xây dựng Đảng và 39 mô hình lĩnh vực đoàn thể chính trị.")
# the project's source documents sit beside the checkout (../shared/seeds), outside the repository
SEED_003 = next((p for p in (Path(__file__).resolve().parents[2] / "shared" / "seeds" / "003_e07017f776994f98.txt",
                             Path("/work/shared/seeds/003_e07017f776994f98.txt")) if p.exists()),
                Path("/work/shared/seeds/003_e07017f776994f98.txt"))


def seed_field_words() -> list[tuple[int, str]]:
    """(count, the words after 'N mô hình') of each field the Can Lộc report counts."""
    return [(int(n), w.strip()) for n, w in re.findall(r"(\d+) mô hình ((?:lĩnh vực )?[^,.]+?)(?=,| và |\.)", CAN_LOC)]


def test_the_seed_text_is_quoted_as_it_is():
    if not SEED_003.exists():
        pytest.skip("seeds not on this machine")
    assert CAN_LOC in SEED_003.read_text(encoding="utf-8")


def test_fields_worded_as_district_reports_word_them_resolve():
    fields = rubric.default_fields()
    got = {}
    for n, words in seed_field_words():
        for written in (words, f"Lĩnh vực {words}", f"Mô hình {words}", words.upper()):
            code, hint = fields.resolve(written)
            assert (code, hint) != (None, None) and code is not None, written
        got[fields.resolve(words)[0]] = n
    assert got == {"economy": 197, "defence_security": 39, "culture_society": 92, "government": 34,
                   "party_building": 40, "mass_organisations": 39}
    assert sum(got.values()) == 441
    # longer or older official names, and abbreviations
    for written, code in [("Xây dựng Đảng và hệ thống chính trị", "party_building"), ("An ninh - quốc phòng",
                          "defence_security"), ("QP-AN", "defence_security"), ("VH-XH", "culture_society"),
                          ("XDĐ", "party_building"), ("Văn hoá - xã hội", "culture_society"),
                          ("Mặt trận Tổ quốc và các đoàn thể chính trị - xã hội", "mass_organisations"),
                          ("Dân vận chính quyền", "government"), ("KT-XH", "economy")]:
        assert fields.resolve(written) == (code, None), written


def test_a_field_that_is_only_close_gets_a_did_you_mean_and_an_unknown_one_none():
    fields = rubric.default_fields()
    assert fields.resolve("lĩnh vực kinh tes") == (None, "economy")
    assert fields.resolve("Quốc phòn an ninh") == (None, "defence_security")
    assert fields.resolve("Thể thao") == (None, None)
    assert fields.resolve("lĩnh vực") == (None, None)


def test_aliases_and_prefixes_are_data_a_province_edits():
    data = yaml.safe_load((ROOT / "data" / "models" / "fields.yaml").read_text(encoding="utf-8"))
    assert rubric.parse_fields(data).resolve("Hội nông dân") == (None, None)
    data["fields"][5]["aliases"].append("hội nông dân")
    data["prefixes"].append("phong trào")
    edited = rubric.parse_fields(data)
    assert edited.resolve("Phong trào Hội Nông dân") == ("mass_organisations", None)
