"""Text rules shared by every module: one Unicode normal form, one matching fold, and the
cleaning applied to text that comes from outside (uploaded files, the CLI).

* ``nfc`` — Vietnamese text is stored composed (NFC): 'ệ' is one code point, so the same
  word typed on two keyboards compares equal.
* ``fold`` — the one key for matching and search: case-, diacritics- and punctuation-
  insensitive, 'đ' → 'd', runs of anything else as one space ('Mã  Đơn-vị' → 'ma don vi').
  Header matching, unit and model look-ups, and the search boxes of every page use it, so a
  query finds the same units on every page.
* ``strip_bidi`` — removes the Unicode direction embeddings, overrides and isolates
  (U+202A–U+202E, U+2066–U+2069). Nothing in Vietnamese text needs them, and an imported
  U+202E would display a stored name or note reversed ("trojan source" spoofing).
"""

from __future__ import annotations

import re
import unicodedata

BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI_TABLE = dict.fromkeys(map(ord, BIDI_CONTROLS))
_BIDI_RE = re.compile(f"[{BIDI_CONTROLS}]")
_NOT_WORD = re.compile(r"[^0-9a-z]+")


def nfc(text: str) -> str:
    """``text`` in Unicode normal form C (composed)."""
    return unicodedata.normalize("NFC", text)


def fold(text: object) -> str:
    """Lower case without diacritics, punctuation and spaces as single spaces: 'Xã Đức-Đồng' → 'xa duc dong'."""
    text = unicodedata.normalize("NFD", str(text).casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).replace("đ", "d")
    return _NOT_WORD.sub(" ", text).strip()


def has_bidi(text: str) -> bool:
    """True when ``text`` holds a direction embedding, override or isolate character."""
    return _BIDI_RE.search(text) is not None


def strip_bidi(text: str) -> str:
    """``text`` without direction embeddings, overrides and isolates (U+202A–E, U+2066–9)."""
    return text.translate(_BIDI_TABLE) if has_bidi(text) else text


def clean(text: str) -> str:
    """Imported text as stored: NFC, no direction controls."""
    return nfc(strip_bidi(text))


def show(value: object, limit: int = 60) -> str:
    """A value printable on one line (control characters escaped, long text cut)."""
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"
