"""messages: pydantic's errors told in Vietnamese, naming the entry by its code."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from danvan_scoring import messages


class Item(BaseModel):
    code: str
    points: float = Field(ge=0)


class Doc(BaseModel):
    items: list[Item]


class Bad(ValueError):
    pass


def test_each_problem_is_a_vietnamese_line_naming_the_entry():
    data = {"items": [{"code": "A1", "points": 1}, {"code": "A2", "points": -1}]}
    with pytest.raises(Bad) as exc:
        messages.validate_file(Doc, data, "tep.yaml", Bad, {"items": "mục", "points": "điểm"})
    assert str(exc.value).startswith("tep.yaml: mục 'A2' › điểm: phải lớn hơn hoặc bằng 0")


def test_missing_field_and_not_a_mapping():
    with pytest.raises(Bad, match="thiếu trường bắt buộc"):
        messages.validate_file(Doc, {"items": [{"points": 1}]}, "t", Bad, {})
    with pytest.raises(Bad, match="phải là một bảng"):
        messages.validate_file(Doc, [1, 2], "t", Bad, {})


def test_value_error_keeps_our_text_and_unknown_types_fall_back():
    assert messages.vi_error({"type": "value_error", "msg": "Value error, sai rồi"}) == "sai rồi"
    assert messages.vi_error({"type": "no_such_type", "msg": "x"}) == "x"


def test_read_yaml_one_line_for_a_missing_file_or_broken_yaml(tmp_path):
    with pytest.raises(Bad, match=r"^khong\.yaml: không đọc được danh mục \("):
        messages.read_yaml(tmp_path / "khong.yaml", Bad, "danh mục")
    (tmp_path / "hong.yaml").write_text("a: [1\n", encoding="utf-8")
    with pytest.raises(Bad, match=r"^hong\.yaml: YAML không hợp lệ"):
        messages.read_yaml(tmp_path / "hong.yaml", Bad)
    (tmp_path / "tot.yaml").write_text("a: 1\n", encoding="utf-8")
    assert messages.read_yaml(tmp_path / "tot.yaml", Bad) == {"a": 1}
