"""Exports (CSV, XLSX) that a spreadsheet cannot turn into formulas.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab/CR) is run as a formula
by Excel; text cells like that get a leading apostrophe. Numbers are left alone, so a
negative gap stays a number.
"""

from __future__ import annotations

import io
import re

import pandas as pd

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(_TRIGGERS):
        return "'" + value
    return value


# a signed number written as text ("+0,25", "-3,50", "−1 bậc" aside): a spreadsheet reads it as
# that number, never as a formula, so a table's "±" cells keep their look
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9][0-9.,\u2009 ]*%?")


def _is_trigger(v, keep_numbers: bool) -> bool:
    return isinstance(v, str) and v.startswith(_TRIGGERS) and not (keep_numbers and _PLAIN_NUMBER.fullmatch(v))


def _neutralise_series(col: pd.Series, keep_numbers: bool = False) -> pd.Series:
    """Text cells of one column with a leading apostrophe where a spreadsheet would run them.
    A category column keeps its dtype (its categories are rewritten, not every row)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = col.cat.categories
        if cats.dtype == object or pd.api.types.is_string_dtype(cats):
            hit = [_is_trigger(c, keep_numbers) for c in cats]
            return col.cat.rename_categories(["'" + c if h else c for c, h in zip(cats, hit)]) if any(hit) else col
        return col
    if col.dtype == object or pd.api.types.is_string_dtype(col):
        hit = col.map(lambda v: _is_trigger(v, keep_numbers), na_action="ignore").eq(True)
        if hit.any():
            return col.where(~hit, "'" + col.astype(str))
    return col


def neutralise_formulas(frame: pd.DataFrame, *, headers: bool = True, keep_numbers: bool = False) -> pd.DataFrame:
    """``frame`` with every text cell (object, string and category columns) made safe for a
    spreadsheet. ``headers=False`` leaves the column names alone: the dashboard's tables keep
    their names (their column configuration is keyed by them; the pages write the headers);
    ``keep_numbers=True`` leaves text that is a plain signed number ("+0,25") as it is."""
    out = frame.copy()
    for col in out.columns:
        out[col] = _neutralise_series(out[col], keep_numbers)
    if headers:
        out.columns = [safe_cell(str(c)) for c in out.columns]
    return out


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 with BOM, so Excel on Vietnamese Windows shows the diacritics."""
    return neutralise_formulas(frame).to_csv(index=False).encode("utf-8-sig")


def to_xlsx_bytes(frame: pd.DataFrame, sheet: str = "Dữ liệu") -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        neutralise_formulas(frame).to_excel(xw, index=False, sheet_name=sheet[:31])
    return buf.getvalue()
