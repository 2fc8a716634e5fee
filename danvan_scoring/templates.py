"""Upload templates and their files: a score template to fill in, and the one writer of
template/export files (CSV UTF-8 with BOM so Excel shows diacritics, or XLSX with codes as text
so Excel keeps leading zeros), formulas neutralised."""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from .criteria import Framework
from .export import neutralise_formulas


def _is_blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def template_frame(framework: Framework, unit_codes: Mapping[str, str] | Iterable[str], period: str,
                   layout: str = "long") -> pd.DataFrame:
    """An upload template to fill in: one row per unit (wide) or per unit × criterion (long)."""
    units = sorted(unit_codes)
    codes = [code for code, c in framework.criteria.items() if not c.derived]
    if layout == "wide":
        df = pd.DataFrame({"unit_code": pd.Series(units, dtype="str"), "period": period})
        for c in codes:
            df[c] = pd.Series([None] * len(units), dtype="float64")
        return df
    if layout != "long":
        raise ValueError(f"bố cục '{layout}' không hợp lệ; chỉ nhận 'long' hoặc 'wide'")
    n = len(units) * len(codes)
    return pd.DataFrame({
        "unit_code": pd.Series(np.repeat(np.asarray(units, dtype=object), len(codes)), dtype="str"),
        "period": pd.Series([period] * n, dtype="str"),
        "criterion_code": pd.Series(np.tile(np.asarray(codes, dtype=object), len(units)), dtype="str"),
        "score": pd.Series([None] * n, dtype="float64"),
        "stage": pd.Series([None] * n, dtype="str"),
        "evidence": pd.Series([None] * n, dtype="str"),
        "note": pd.Series([None] * n, dtype="str"),
    })


def write_template(df: pd.DataFrame, path_or_buffer, fmt: str = "csv") -> None:
    """Write a template or an export as CSV (UTF-8 with BOM, so Excel shows the diacritics)
    or XLSX (unit codes as text, so Excel keeps their leading zeros); formulas neutralised."""
    safe = neutralise_formulas(df)
    if fmt == "csv":
        text = safe.to_csv(index=False, lineterminator="\r\n")
        raw = b"\xef\xbb\xbf" + text.encode("utf-8")
        if hasattr(path_or_buffer, "write"):
            try:
                path_or_buffer.write(raw)
            except TypeError:
                path_or_buffer.write(text)
        else:
            with open(path_or_buffer, "wb") as fh:
                fh.write(raw)
        return
    if fmt != "xlsx":
        raise ValueError(f"định dạng '{fmt}' không hợp lệ; chỉ nhận 'csv' hoặc 'xlsx'")
    import openpyxl
    from openpyxl.utils import get_column_letter

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Bang diem"
    ws.append([str(c) for c in safe.columns])
    text_cols = {j for j, c in enumerate(df.columns) if c in ("unit_code", "period", "criterion_code")}
    for row in safe.itertuples(index=False):
        ws.append([None if _is_blank(v) and not isinstance(v, str) else v for v in row])
    for j in text_cols:
        letter = get_column_letter(j + 1)
        for cell in ws[letter][1:]:
            cell.number_format = "@"
            if cell.value is not None:
                cell.value = str(cell.value)
    ws.freeze_panes = "A2"
    wb.save(path_or_buffer)
