"""frames.isin: the same answer as Series.isin, on any text column and any value set."""

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from danvan_scoring.frames import isin

codes = st.text(alphabet="0123ab", max_size=3)


@given(st.lists(st.one_of(codes, st.none()), max_size=30), st.lists(codes, max_size=30),
       st.sampled_from(["str", "object"]))
def test_isin_equals_pandas_isin_for_text(column, values, dtype):
    s = pd.Series(column, index=np.arange(len(column)) * 3 + 7, dtype=dtype)
    got = isin(s, values)
    want = s.isin(values)
    assert got.index.equals(s.index)
    assert got.tolist() == want.tolist()


def test_isin_takes_sets_series_and_generators_and_keeps_numbers_to_pandas():
    s = pd.Series(["01", "02", None, "03"], dtype="str")
    assert isin(s, {"02", "03"}).tolist() == [False, True, False, True]
    assert isin(s, pd.Series(["01"])).tolist() == [True, False, False, False]
    assert isin(s, (c for c in ["03"])).tolist() == [False, False, False, True]
    assert isin(s, []).tolist() == [False] * 4
    assert isin(pd.Series([1, 2, 3]), [2, 5]).tolist() == [False, True, False]


def test_isin_is_an_arrow_test_on_arrow_text():
    """The fast path is taken (a column of 20,000 codes against 20,000 values): the result is the
    plain isin's, so only the path can differ — checked by the dtype being the Arrow one."""
    s = pd.Series([f"{i:05d}" for i in range(20_000)], dtype="str")
    assert isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow"
    values = [f"{i:05d}" for i in range(0, 40_000, 2)]
    assert isin(s, values).sum() == 10_000
