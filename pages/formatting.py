"""Text shown on the dashboard's pages: Vietnamese numbers, and user-supplied text made literal.

No Streamlit here: plain functions a page (or a test) calls on values before showing them.
"""

from __future__ import annotations

import math
import re

import pandas as pd

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
    text = f"{float(x):+,.{digits}f}" if sign else f"{float(x):,.{digits}f}"
    return text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")


def vn_cells(values, digits: int = 2, sign: bool = False) -> list[str]:
    """Numbers as Vietnamese text cells ("3,50"), an empty cell for a missing value (never "None")."""
    return ["" if pd.isna(x) else vn(x, digits, sign=sign) for x in values]


def vn_int(n) -> str:
    if n is None or n is pd.NA:
        return "—"
    return f"{int(n):,}".replace(",", ".")
