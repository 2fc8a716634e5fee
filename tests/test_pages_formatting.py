"""pages/formatting.py: Vietnamese number cells."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pages.formatting import vn, vn_cells  # noqa: E402

cells = st.lists(st.one_of(st.none(), st.just(math.nan), st.sampled_from([0.0, -0.0, -0.001, 0.004]),
                           st.floats(-1e6, 1e6, allow_nan=False),
                           st.integers(-10_000, 10_000)), max_size=60)


@given(cells, st.integers(0, 3), st.booleans())
def test_vn_cells_is_vn_of_each_value_and_empty_for_a_missing_one(values, digits, sign):
    # each distinct value is formatted once and handed to every cell that holds it
    want = ["" if v is None or (isinstance(v, float) and math.isnan(v)) else vn(v, digits, sign=sign)
            for v in values]
    assert vn_cells(values, digits, sign=sign) == want
    assert vn_cells(pd.Series(values, dtype="float64", index=np.arange(len(values))[::-1]), digits,
                    sign=sign) == want


def test_a_value_that_rounds_to_zero_has_no_minus():
    assert vn(-0.0) == vn(-0.001) == vn(0.0) == "0,00" and vn(-0.004, sign=True) == "+0,00"
    assert vn(-0.006) == "-0,01" and vn(-1234.5, 1) == "-1.234,5"


def test_vn_cells_of_a_nullable_column():
    assert vn_cells(pd.Series([0.25, pd.NA, 1234.5], dtype="Float64")) == ["0,25", "", "1.234,50"]
    assert vn_cells([]) == []
