"""Which column of a score file is which (score_headers): header words, layouts, the header row's score."""

from __future__ import annotations

from danvan_scoring.criteria import default_framework
from danvan_scoring.score_headers import assign_columns, header_score

FW = default_framework()


def framework_for(_period):
    return FW


def test_a_long_vietnamese_header_names_each_field_and_ignores_the_rest():
    header = ["Mã đơn vị", "Kỳ", "Mã tiêu chí", "Điểm", "Loại điểm", "Minh chứng", "Ghi chú", "Người lập"]
    roles, ignored, layout, problems = assign_columns(header, framework_for, None)
    assert layout == "long" and not problems
    assert {k: roles[k] for k in ("unit_code", "period", "criterion_code", "stage", "evidence", "note")} == \
        {"unit_code": 0, "period": 1, "criterion_code": 2, "stage": 4, "evidence": 5, "note": 6}
    assert [v.index for v in roles["values"]] == [3] and ignored == ["Người lập"]


def test_criterion_columns_make_a_wide_sheet_and_an_unknown_code_is_a_problem():
    codes = list(FW.criteria)[:2]
    roles, _ignored, layout, problems = assign_columns(["Mã đơn vị", *codes, "Z9"], framework_for, "2025")
    assert layout == "wide"
    assert [(v.index, v.criterion) for v in roles["values"]] == [(1, codes[0]), (2, codes[1])]
    assert len(problems) == 1 and problems[0].column == "Z9" and "không có trong bộ tiêu chí" in problems[0].reason


def test_two_columns_for_one_field_and_a_missing_unit_column_are_refused_in_words():
    _r, _i, _l, problems = assign_columns(["Mã đơn vị", "Mã xã", "Mã tiêu chí", "Điểm"], framework_for, "2025")
    assert any("cùng là mã đơn vị" in p.reason for p in problems)
    roles, _i, _l, problems = assign_columns(["Tên", "Mã tiêu chí", "Điểm"], framework_for, "2025")
    assert roles["values"] == [] and any("thiếu cột bắt buộc: mã đơn vị" in p.reason for p in problems)
    _r, _i, _l, problems = assign_columns(["Mã đơn vị", "Mã tiêu chí", "Điểm"], framework_for, None)
    assert any("không có kỳ đánh giá" in p.reason for p in problems)


def test_the_header_row_is_the_one_naming_the_unit_column_and_another_field():
    assert header_score(["BẢNG ĐIỂM XÃ", "", ""]) is None
    assert header_score(["Mã đơn vị", "", ""]) is None                 # one field alone is not a header
    assert header_score(["Mã đơn vị", "A1", "A2"]) == 1.0
    assert header_score(["Mã đơn vị", "Kỳ", "Mã tiêu chí", "Điểm"]) == 4.0
