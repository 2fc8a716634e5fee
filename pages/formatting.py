"""Text shown on the dashboard's pages: Vietnamese numbers, period names, reasons, and
user-supplied text made literal.

No Streamlit here: plain functions a page (or a test) calls on values before showing them.
"""

from __future__ import annotations

import math
import re

import pandas as pd

from danvan_scoring import crosswalk
from danvan_scoring.criteria import Framework

MISSING = "—"   # shown by every table for a missing value (Streamlit's default is the English "None")
# plain words for the uncertainty terms (issue 12 point 6); the statistic goes in a tooltip
RANGE_LABEL = "Hạng dao động"
STABLE_LABEL = "Mức ổn định của hạng"
STABLE_MARK = {True: "Ổn định", False: "Dễ thay đổi"}

# CommonMark lets any ASCII punctuation be backslash-escaped. Escaped everywhere: what opens
# emphasis, code, links and images, tags and entities, tables, strike-through, and Streamlit's own
# syntax ($…$ LaTeX, :name: icons and :red[…] colours; ``:`` also stops http:// autolinks).
# ``-``, ``+``, ``=``, ``.``, ``)`` only matter at the start of a line (lists, headings), and
# ``(`` only after ``]``: those stay readable ("thu-nghiem (v1)").
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#!|~$:&^])")
_MD_LINE_START = re.compile(r"^(\s*)([-+=])|^(\s*\d+)([.)])")


def md(text) -> str:
    """User-supplied text (unit names, notes, model names, user names) for ``st.markdown``,
    ``st.write``, captions and labels: every Markdown/HTML character escaped, line breaks kept as
    spaces, so ``**x** [a](javascript:…) <img …>`` is shown as those characters, never as bold,
    a link or an image. A missing value is "—"."""
    if text is None or text is pd.NA or (isinstance(text, float) and math.isnan(text)):
        return "—"
    out = _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).splitlines()))
    return _MD_LINE_START.sub(lambda m: (m[1] or m[3] or "") + "\\" + (m[2] or m[4]), out)


def vn(x, digits: int = 2, sign: bool = False) -> str:
    """Vietnamese number: 1.234,56 (dot for thousands, comma for decimals)."""
    if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA:
        return "—"
    x = float(x)
    if round(x, digits) == 0:   # -0.001 is "0,00", never "-0,00"
        x = 0.0
    text = f"{x:+,.{digits}f}" if sign else f"{x:,.{digits}f}"
    return text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")


def vn_cells(values, digits: int = 2, sign: bool = False) -> list[str]:
    """Numbers as Vietnamese text cells ("3,50"), an empty cell for a missing value (never "None").
    Each distinct value is formatted once (a period's criteria take a few hundred distinct values
    over 100,000 cells)."""
    codes, uniques = pd.factorize(pd.Series(values, dtype="float64"), use_na_sentinel=True)
    texts = [vn(x, digits, sign=sign) for x in uniques] + [""]   # code -1 (missing) → the last, ""
    return [texts[c] for c in codes.tolist()]


def vn_int(n) -> str:
    if n is None or n is pd.NA:
        return "—"
    return f"{int(n):,}".replace(",", ".")


def period_label(period: str) -> str:
    if len(period) == 4:
        return f"Năm {period}"
    year, part = period[:4], period[5:]
    return {"H1": f"6 tháng đầu năm {year}", "H2": f"6 tháng cuối năm {year}"}.get(
        part, f"Quý {part[1:]}/{year}" if part.startswith("Q") else period)


def profile_link(unit_code: str, period: str) -> str:
    return f"ho-so?unit={unit_code}&period={period}"


def group_label(fw: Framework, code: str) -> str:
    return f"Nhóm {code} — {fw.group(code).name}"


def reasons(row) -> str:
    """Why a unit is not ranked, or its vetoes, in words."""
    parts = []
    if isinstance(row.get("missing"), str) and row["missing"]:
        parts.append(f"thiếu điểm: {row['missing']}")
    if isinstance(row.get("missing_evidence"), str) and row["missing_evidence"]:
        parts.append(f"thiếu minh chứng: {row['missing_evidence']}")
    if isinstance(row.get("vetoes"), str) and row["vetoes"]:
        parts.append(f"bị giới hạn xếp loại: {row['vetoes']}")
    if isinstance(row.get("tier_reason"), str) and row["tier_reason"]:
        parts.append(row["tier_reason"])
    if isinstance(row.get("not_applicable"), str) and row["not_applicable"]:
        parts.append(f"không phát sinh: {row['not_applicable']}")
    return "; ".join(parts)


def interval_texts(res: pd.DataFrame) -> list:
    """"5–8" (or "5" when the interval is one rank) per row; None for units without a rank."""
    out = []
    for lo, hi in zip(res["rank_p05"], res["rank_p95"]):
        if pd.isna(lo) or pd.isna(hi):
            out.append(None)
        else:
            out.append(f"{int(lo)}" if int(lo) == int(hi) else f"{int(lo)}–{int(hi)}")
    return out


def stable_marks(res: pd.DataFrame) -> list:
    return [None if pd.isna(x) else STABLE_MARK[bool(x)] for x in res["stable"]]


# --------------------------------------------------------------------------- across the 2025 merger
ESTIMATED = crosswalk.ESTIMATED_MARK          # "ước tính từ các đơn vị cũ", wherever a pre-merger figure is shown
PREV_MARK_COLUMN = "Kỳ trước"
ESTIMATED_HELP = ("Trước 01/07/2025 đơn vị này chưa tồn tại: điểm kỳ trước là bình quân có trọng số điểm của các "
                  "đơn vị cũ hợp thành (trọng số là phần của mỗi đơn vị cũ nhập vào đơn vị mới), nên ± điểm và "
                  "± hạng chỉ là " + crosswalk.ESTIMATED_MARK)
PRE_MERGER_NOTE = ("Kỳ này kết thúc trước 01/07/2025: bảng là **các đơn vị cũ như khi đó** (tên, tỉnh cũ, khối theo "
                   "huyện cũ), xếp hạng riêng của chúng. Trên bản đồ đơn vị mới, điểm của kỳ này chỉ là "
                   f"*{crosswalk.ESTIMATED_MARK}*.")


def is_pre_merger(period: str) -> bool:
    """The period ended before 1 July 2025 (its results are on the old units)."""
    return crosswalk.is_pre_merger(period)


def estimated_marks(res: pd.DataFrame) -> list:
    """``ESTIMATED`` where the row's previous figure comes from the old units, else None."""
    if "prev_estimated" not in res.columns:
        return [None] * len(res)
    return [ESTIMATED if f else None for f in res["prev_estimated"].fillna(False).astype(bool)]


def estimated_why(estimated, predecessors) -> list[str]:
    """Hover text of trend points: why an estimated point is one (how many old units), else ""."""
    return [f"{ESTIMATED}: bình quân có trọng số của {int(k)} đơn vị cũ hợp thành" if e and pd.notna(k) and k
            else (ESTIMATED if e else "") for e, k in zip(estimated, predecessors)]
