"""Exports: CSV/XLSX cells a spreadsheet cannot run as formulas, diacritics that survive Excel."""

from __future__ import annotations

import io
import re

import openpyxl
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from danvan_scoring.export import neutralise_formulas, safe_cell, to_csv_bytes, to_xlsx_bytes

PAYLOADS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def test_formula_like_text_gets_an_apostrophe_numbers_stay_numbers():
    df = pd.DataFrame({"note": PAYLOADS + ["Bình thường"], "gap": [-1.5] * 7})
    out = neutralise_formulas(df)
    assert out["note"].tolist()[:-1] == ["'" + p for p in PAYLOADS]
    assert out["note"].iloc[-1] == "Bình thường"
    assert out["gap"].tolist() == [-1.5] * 7


def test_headers_are_neutralised_too():
    assert neutralise_formulas(pd.DataFrame({"=cmd": [1]})).columns.tolist() == ["'=cmd"]


@given(st.text(max_size=30))
def test_no_cell_leaves_starting_with_a_trigger(text):
    out = safe_cell(text)
    assert not out.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert out in (text, "'" + text)


_CELL = st.one_of(st.none(), st.integers(-5, 5), st.floats(allow_nan=False, width=16),
                  st.sampled_from(PAYLOADS + ["+0,25", "-3,50", "12%", "Bình thường", ""]), st.text(max_size=6))


@given(st.lists(_CELL, min_size=1, max_size=12), st.booleans())
def test_a_mixed_column_is_neutralised_cell_by_cell_and_the_input_is_untouched(cells, keep_numbers):
    df = pd.DataFrame({"x": pd.Series(cells, dtype=object), "y": range(len(cells))})
    before = df.copy()
    out = neutralise_formulas(df, headers=False, keep_numbers=keep_numbers)
    pd.testing.assert_frame_equal(df, before)
    plain = re.compile(r"[+-]?[0-9][0-9.,\u2009 ]*%?")
    want = [safe_cell(c) if not (keep_numbers and isinstance(c, str) and plain.fullmatch(c)) else c
            for c in cells]
    assert out["x"].tolist() == want
    assert out["y"].tolist() == list(range(len(cells)))


def test_csv_has_a_bom_and_keeps_diacritics():
    data = to_csv_bytes(pd.DataFrame({"Tên": ["Xã Thạch Hà"], "Ghi chú": ["=1+1"]}))
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "Xã Thạch Hà" in text and "'=1+1" in text


def test_xlsx_cells_are_text_not_formulas():
    data = to_xlsx_bytes(pd.DataFrame({"note": ["=HYPERLINK(\"http://x\")"]}), sheet="Bảng điểm có tên rất dài hơn 31 ký tự")
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb.worksheets[0]
    assert len(ws.title) <= 31
    cell = ws.cell(row=2, column=1)
    assert cell.data_type == "s" and cell.value.startswith("'=")
