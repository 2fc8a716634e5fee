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


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(safe_cell, na_action="ignore")
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
