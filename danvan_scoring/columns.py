"""Columns normalised on their distinct values: the vectorised core of the score reader.

A national file has a million rows but a few thousand distinct unit codes and a few dozen
criteria, so each column is factorised once, each distinct value is normalised once, and the
row masks are integer look-ups.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd


class Column:
    """A column normalised on its distinct values.

    ``idx`` maps each row to a slot in ``norm`` (the normalised distinct values; the last
    slot is the default used for empty cells); ``bad`` and ``missing`` are row masks.
    """

    def __init__(self, series: pd.Series | None, normalise: Callable[[Any], tuple], default: Any = None):
        if series is None:
            series = pd.Series([], dtype="str")
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        k = len(uniques)
        norm = np.empty(k + 1, dtype=object)
        bad = np.zeros(k + 1, dtype=bool)
        extra = np.zeros(k + 1, dtype=bool)
        blank = np.zeros(k + 1, dtype=bool)
        raw = np.empty(k + 1, dtype=object)
        for i, value in enumerate(uniques):
            raw[i] = value
            if not isinstance(value, str) or not value.strip():
                blank[i] = True
                continue
            out = normalise(value)
            norm[i] = out[0]
            bad[i] = out[0] is None
            extra[i] = bool(out[1]) if len(out) > 1 else False
        blank[k] = True
        self._init(np.where(codes < 0, k, codes), norm, bad, extra, blank, raw, default)
        self._source = series if series.dtype == "str" else None

    def _init(self, idx, norm, bad, extra, blank, raw, default):
        self.k = len(norm) - 1
        self.idx = idx
        if blank.any():  # whitespace-only cells count as empty: point them at the default slot
            remap = np.arange(self.k + 1)
            remap[blank] = self.k
            self.idx = remap[idx]
        norm[self.k] = default
        self.norm = norm
        self._bad = bad & ~blank
        self._extra = extra
        self._raw = raw
        self._missing_default = default is None

    @classmethod
    def constant(cls, n: int, value: Any) -> "Column":
        self = cls.__new__(cls)
        self._init(np.zeros(n, dtype=np.intp), np.asarray([value], dtype=object), np.zeros(1, dtype=bool),
                   np.zeros(1, dtype=bool), np.zeros(1, dtype=bool), np.asarray([None], dtype=object), value)
        self._source = None
        return self

    def restrict_to(self, allowed: Mapping[str, Any]) -> None:
        """Values outside ``allowed`` become bad (e.g. unit codes not in the unit list)."""
        outside = np.array([v is not None and v not in allowed for v in self.norm], dtype=bool)
        outside[self.k] = False
        self._bad = self._bad | outside

    def distinct_indices(self) -> list[tuple[int, Any]]:
        used = np.flatnonzero(np.bincount(self.idx, minlength=self.k + 1))
        return [(int(i), self.norm[i]) for i in used if self.norm[i] is not None and not self._bad[i]]

    def take_str(self, keep: np.ndarray) -> pd.Series:
        if self._source is not None and len(keep) == len(self.idx) and self._identity():
            return self._source.reset_index(drop=True)  # clean column: no copy
        table = pd.array([v if isinstance(v, str) else None for v in self.norm], dtype="str")
        return pd.Series(table.take(self.idx[keep]))

    def _identity(self) -> bool:
        """True when every used value is already normalised and no cell is empty."""
        used = np.bincount(self.idx, minlength=self.k + 1)
        if used[self.k]:
            return False
        return all(self.norm[i] == self._raw[i] for i in np.flatnonzero(used))

    def as_float(self) -> np.ndarray:
        table = np.array([v if isinstance(v, float) else np.nan for v in self.norm], dtype="float64")
        return table[self.idx]

    @property
    def bad(self) -> np.ndarray:
        return self._bad[self.idx]

    @property
    def missing(self) -> np.ndarray:
        if not self._missing_default:
            return np.zeros(len(self.idx), dtype=bool)
        return self.idx == self.k

    @property
    def extra(self) -> np.ndarray:
        return self._extra[self.idx]

    def raw(self, rows: np.ndarray) -> list:
        return list(self._raw[self.idx[rows]])


def repeated(key: np.ndarray) -> np.ndarray | None:
    """Mask of keys that occur more than once, or None when all are distinct."""
    top = int(key.max()) if len(key) else 0
    if 0 <= int(key.min()) and top < 64_000_000:
        counts = np.bincount(key, minlength=top + 1)
        if counts.max() <= 1:
            return None
        return counts[key] > 1
    dup = pd.Series(key).duplicated(keep=False).to_numpy()
    return dup if dup.any() else None


def take_text(series: pd.Series | None, keep: np.ndarray, n: int) -> pd.Series:
    if series is None:
        return pd.Series(pd.array([None], dtype="str").take(np.zeros(len(keep), dtype=np.intp)))
    return series.take(keep).reset_index(drop=True)


def clean_text(series: pd.Series | None) -> pd.Series | None:
    if series is None:
        return None
    if not series.notna().any():
        return series
    s = series.str.strip()
    return s.where(s != "", None)
