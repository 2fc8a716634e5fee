"""pandas helpers the library and the pages share.

``isin`` — ``Series.isin`` for the text columns this project filters on (unit, criterion and
province codes). pandas 3 keeps text in Arrow, and its Arrow ``isin`` builds one pyarrow scalar per
value in Python: 0.13 s to test 10,000 units against 10,000 codes, paid on every rerun of a
page that filters a national table. ``pyarrow.compute.is_in`` does the same test in about a
millisecond. Same result as ``Series.isin`` (a missing value never matches a code).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def isin(col: pd.Series, values: Iterable) -> pd.Series:
    """``col.isin(values)`` as a boolean Series on ``col``'s index, fast for Arrow text columns."""
    dtype = col.dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return col.isin(values if isinstance(values, (pd.Series, pd.Index, np.ndarray, list, set)) else list(values))
    strings = [v for v in (values.tolist() if hasattr(values, "tolist") else values) if isinstance(v, str)]
    if not strings or not len(col):
        return pd.Series(np.zeros(len(col), dtype=bool), index=col.index)
    arr = pa.array(col.array)
    hit = pc.is_in(arr, value_set=pa.array(strings, type=arr.type))
    return pd.Series(np.asarray(hit.fill_null(False), dtype=bool), index=col.index)
