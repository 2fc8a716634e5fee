"""Vietnamese wording for pydantic's validation errors, shared by every boundary model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

_TEMPLATES = {
    "missing": "thiếu trường bắt buộc",
    "extra_forbidden": "trường không được phép (không có trong mẫu)",
    "enum": "giá trị không hợp lệ; chỉ nhận: {expected}",
    "literal_error": "giá trị không hợp lệ; chỉ nhận: {expected}",
    "greater_than": "phải lớn hơn {gt}",
    "greater_than_equal": "phải lớn hơn hoặc bằng {ge}",
    "less_than": "phải nhỏ hơn {lt}",
    "less_than_equal": "phải nhỏ hơn hoặc bằng {le}",
    "string_pattern_mismatch": "sai định dạng (mẫu: {pattern})",
    "string_too_short": "không được để trống",
    "too_short": "phải có ít nhất {min_length} phần tử",
    "float_parsing": "phải là một số",
    "float_type": "phải là một số",
    "int_parsing": "phải là số nguyên",
    "int_type": "phải là số nguyên",
    "bool_parsing": "phải là true hoặc false",
    "bool_type": "phải là true hoặc false",
    "string_type": "phải là chuỗi ký tự",
    "list_type": "phải là một danh sách",
    "dict_type": "phải là một bảng (mapping)",
    "model_type": "phải là một bảng (mapping)",
    "finite_number": "phải là số hữu hạn",
}


def vi_error(err: dict) -> str:
    """One pydantic error dict → a Vietnamese sentence (value errors keep our own text)."""
    if err.get("type") == "value_error":
        return str(err.get("msg", "")).removeprefix("Value error, ")
    template = _TEMPLATES.get(err.get("type", ""))
    if template is None:
        return str(err.get("msg", "giá trị không hợp lệ"))
    ctx = {k: v for k, v in (err.get("ctx") or {}).items()}
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return template.split(";")[0]


def describe_loc(data: Any, loc: tuple, labels: dict[str, str]) -> str:
    """A pydantic location like ('groups', 2, 'criteria', 1, 'kind') in words, naming each
    list entry by its ``code`` when it has one: "nhóm 'C' › tiêu chí 'C2' › kind"."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int) and isinstance(node, list) and item < len(node):
            node = node[item]
            code = node.get("code") if isinstance(node, dict) else None
            if parts:
                parts[-1] = f"{parts[-1]} '{code}'" if code else f"{parts[-1]} #{item + 1}"
            continue
        parts.append(labels.get(str(item), str(item)))
        node = node.get(item) if isinstance(node, dict) else None
    return " › ".join(parts) if parts else "tệp"


def validate_file(model: type[BaseModel], data: Any, source: str, error: type[Exception],
                  labels: dict[str, str]):
    """Validate a data file's content; every problem becomes one Vietnamese line naming its entry."""
    if not isinstance(data, dict):
        raise error(f"{source}: nội dung phải là một bảng (mapping) YAML")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error("\n".join(f"{source}: {describe_loc(data, tuple(e['loc']), labels)}: {vi_error(e)}"
                               for e in exc.errors())) from None


def read_yaml(path: str | Path, error: type[Exception], what: str = "tệp") -> Any:
    """A data file's YAML content; an unreadable file or broken YAML is one Vietnamese line naming it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path.name}: không đọc được {what} ({exc})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise error(f"{path.name}: YAML không hợp lệ ({exc})") from None
