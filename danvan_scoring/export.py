"""Exports (CSV, XLSX) that a spreadsheet cannot turn into formulas.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab/CR) is run as a formula
by Excel; text cells like that get a leading apostrophe. Numbers are left alone, so a
negative gap stays a number.
"""

from __future__ import annotations

import io

import pandas as pd

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(_TRIGGERS):
        return "'" + value
    return value


def _neutralise_series(col: pd.Series) -> pd.Series:
    """Text cells of one column with a leading apostrophe where a spreadsheet would run them.
    A category column keeps its dtype (its categories are rewritten, not every row)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = col.cat.categories
        if cats.dtype == object or pd.api.types.is_string_dtype(cats):
            return col.cat.rename_categories([safe_cell(c) for c in cats]) if any(
                isinstance(c, str) and c.startswith(_TRIGGERS) for c in cats) else col
        return col
    if col.dtype == object or pd.api.types.is_string_dtype(col):
        hit = col.map(lambda v: isinstance(v, str) and v.startswith(_TRIGGERS), na_action="ignore")
        if hit.eq(True).any():
            return col.map(safe_cell, na_action="ignore")
    return col


def neutralise_formulas(frame: pd.DataFrame, *, headers: bool = True) -> pd.DataFrame:
    """``frame`` with every text cell (object, string and category columns) made safe for a
    spreadsheet. ``headers=False`` leaves the column names alone: the dashboard's tables keep
    their names (their column configuration is keyed by them; the pages write the headers)."""
    out = frame.copy()
    for col in out.columns:
        out[col] = _neutralise_series(out[col])
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
