"""columns: a column normalised on its distinct values, and the repeated-key mask."""

from __future__ import annotations

import numpy as np
import pandas as pd

from danvan_scoring.columns import Column, clean_text, repeated
from danvan_scoring.values import unit_code_of


def test_column_normalises_each_distinct_value_once_and_marks_bad_and_missing():
    calls = []

    def norm(v):
        calls.append(v)
        return unit_code_of(v)

    col = Column(pd.Series(["18304", "18304", "a;b", None, "   "], dtype="str"), norm)
    assert sorted(calls) == ["18304", "a;b"]          # blanks never reach the normaliser
    assert col.bad.tolist() == [False, False, True, False, False]
    assert col.missing.tolist() == [False, False, False, True, True]
    assert col.take_str(np.array([0, 1])).tolist() == ["18304", "18304"]


def test_a_default_fills_empty_cells():
    col = Column(pd.Series([None, "2025"], dtype="str"), lambda v: (v,), default="2024")
    assert not col.missing.any()
    assert col.take_str(np.array([0, 1])).tolist() == ["2024", "2025"]


def test_repeated_marks_every_copy_or_is_none():
    assert repeated(np.array([3, 1, 2])) is None
    assert repeated(np.array([3, 1, 3])).tolist() == [True, False, True]
    assert repeated(np.array([-5, 10**12, -5])).tolist() == [True, False, True]


def test_clean_text_strips_and_empties_blanks():
    got = clean_text(pd.Series([" a ", "  ", None], dtype="str"))
    assert got.tolist()[0] == "a" and pd.isna(got.tolist()[1]) and pd.isna(got.tolist()[2])
    assert clean_text(None) is None
