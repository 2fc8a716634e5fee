"""Vietnamese wording for pydantic's validation errors, shared by every boundary model."""

from __future__ import annotations

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
