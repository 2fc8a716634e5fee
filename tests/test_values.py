"""values: what one cell of an upload means (unit code, period, number, word)."""

from __future__ import annotations

import math

import pytest

from danvan_scoring import values


@pytest.mark.parametrize("raw, code", [("18304", "18304"), ("'01234", "01234"), ("1234.0", "01234"),
                                       (" 42 ", "00042"), ("BAN-DV", "BAN-DV"), ("a;b", None), ("", None)])
def test_unit_code_of(raw, code):
    assert values.unit_code_of(raw)[0] == code


@pytest.mark.parametrize("raw, period", [("2025", "2025"), ("Năm 2025", "2025"), ("2025 h1", "2025-H1"),
                                         ("2025/Q3", "2025-Q3"), ("2025.0", "2025"), ("25", None)])
def test_period_of(raw, period):
    assert values.period_of(raw) == period


def test_number_of_decimal_comma_words_and_na():
    assert values.number_of("3,5", True) == (3.5, False)
    assert values.number_of("1,000", False) == (None, False)   # a thousands separator is ambiguous
    assert values.number_of("80%", False) == (80.0, False)
    assert values.number_of("Đạt", False) == (1.0, True)
    v, word = values.number_of("không phát sinh", False)
    assert word and math.isnan(v)
    assert values.number_of("inf", False) == (None, False)


def test_closest_code_one_digit_or_a_swap():
    codes = ["18304", "18307", "20001"]
    assert values.closest_code("18305", codes) in ("18304", "18307")
    assert values.closest_code("13804", codes) == "18304"
    assert values.closest_code("99999", codes) is None
