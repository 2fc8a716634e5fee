"""Cell values shared by the score and the model-list readers: unit codes (Excel strips their
leading zeros), periods (the one ``period_store.PERIOD_RE``), numbers (decimal commas, 'đạt'), and the
closest known code for a "did you mean"."""

from __future__ import annotations

import difflib
import math
import re
from typing import Any, Iterable

from .periods import PERIOD_RE
from .text import fold, nfc

PERIOD_BAD = "kỳ đánh giá không hợp lệ; dùng dạng 2025, 2025-H1 (6 tháng) hoặc 2025-Q3 (quý)"
PASS_WORDS = {"dat": 1.0, "co": 1.0, "yes": 1.0, "x": 1.0, "khong dat": 0.0, "khong": 0.0, "no": 0.0}
# "không phát sinh" (nothing to count), folded: accepted only for criteria with allow_na
NA_WORDS = frozenset({"na", "n a", "khong phat sinh", "kps"})
# how "không phát sinh" is carried in a value column and stored: NaN (a missing value is no row)
NOT_APPLICABLE = float("nan")


def closest_code(code: str, codes: list[str]) -> str | None:
    """The known code a typo most likely meant: one digit wrong, two digits swapped, else difflib."""
    same = [c for c in codes if len(c) == len(code)]
    one_off = [c for c in same if sum(a != b for a, b in zip(c, code)) == 1]
    if one_off:
        num = int(code) if code.isdigit() else None
        return min(one_off, key=lambda c: abs(int(c) - num) if num is not None and c.isdigit() else 0)
    for c in same:
        diff = [i for i, (a, b) in enumerate(zip(c, code)) if a != b]
        if len(diff) == 2 and diff[1] == diff[0] + 1 and c[diff[0]] == code[diff[1]] and c[diff[1]] == code[diff[0]]:
            return c
    close = difflib.get_close_matches(code, codes, n=1, cutoff=0.6)
    return close[0] if close else None


def closest_name(key: str, names: Iterable[str], cutoff: float = 0.75) -> str | None:
    """The known name ``key`` most likely meant, both already folded (``text.fold``): ``key`` itself
    when known, else the closest by difflib at ``cutoff`` or better, else None. The one "did you
    mean" for names: a unit's name in a score file, a model's field in a registry."""
    known = names if isinstance(names, (set, frozenset, dict)) else set(names)
    if key in known:
        return key
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=cutoff)
    return close[0] if close else None


def unit_code_of(raw: Any) -> tuple:
    s = str(raw)
    if len(s) == 5 and s.isdigit():
        return (s,)
    s = s.strip().replace("\u00a0", "")
    if s.startswith("'"):
        s = s[1:]
    if re.fullmatch(r"\d{1,5}(\.0+)?", s):
        return (s.split(".")[0].zfill(5),)
    if re.fullmatch(r"[A-Za-z0-9_.-]{1,32}", s):
        return (s,)
    return (None,)


def period_of(raw: Any) -> str | None:
    s = nfc(str(raw)).strip().upper()
    s = re.sub(r"^(NĂM|NAM|KỲ|KY)\s+", "", s)
    s = re.sub(r"\.0+$", "", s)
    s = re.sub(r"\s*[-_/ ]\s*", "-", s)
    return s if PERIOD_RE.match(s) else None


def number_of(raw: Any, decimal_comma: bool) -> tuple:
    s = str(raw).strip().replace("\u00a0", "").replace(" ", "")
    if s.endswith("%"):
        s = s[:-1]
    if "," in s:
        # a decimal comma (Vietnamese Excel). In a ','-delimited file the cell was quoted;
        # there "1,000" could be a thousands separator, so exactly three decimals is refused
        if "." in s or s.count(",") > 1 or (not decimal_comma and re.fullmatch(r"[+-]?\d+,\d{3}", s)):
            return (None, False)
        s = s.replace(",", ".")
    if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", s):
        v = float(s)
        return (v, False) if math.isfinite(v) else (None, False)
    folded = fold(raw)
    if folded in NA_WORDS:  # N/A: a word, and NaN as its value (see _check_values)
        return (NOT_APPLICABLE, True)
    w = PASS_WORDS.get(folded)
    if w is not None:  # 'đạt' / 'không đạt': accepted only for pass/fail criteria (see _check_values)
        return (w, True)
    return (None, False)
