"""Assessment periods (2025, 2025-H1, 2025-Q3) and the framework versions they use."""

from __future__ import annotations

import json
import re

from .criteria import Framework, parse_framework
from .errors import StoreError
from .permissions import CLI_ACTOR
from .store import now, write


def save_framework(con, fw: Framework, *, actor=CLI_ACTOR) -> None:
    """Store a framework version once (the same content again is a no-op, other content an error)."""
    definition = fw.model_dump_json()
    with write(con, actor, "setup", action="framework.save", target=fw.key) as w:
        exists = con.execute(
            "SELECT definition FROM frameworks WHERE framework_code = ? AND version = ?",
            [fw.code, fw.version]).fetchone()
        if exists:
            if json.loads(exists[0]) != json.loads(definition):
                raise StoreError(
                    f"Bộ tiêu chí {fw.code} phiên bản {fw.version} đã có trong cơ sở dữ liệu với nội dung khác; "
                    "hãy tăng số phiên bản (version) trong tệp."
                )
            w.action = None
            return
        con.execute("INSERT INTO frameworks VALUES (?, ?, ?, ?, ?)",
                    [fw.code, fw.version, fw.name, definition, now()])


_FW_CACHE: dict[tuple[str, int, str], Framework] = {}


def load_framework_version(con, code: str, version: int) -> Framework:
    row = con.execute("SELECT definition FROM frameworks WHERE framework_code = ? AND version = ?",
                      [code, version]).fetchone()
    if row is None:
        raise StoreError(f"Không có bộ tiêu chí {code} phiên bản {version}")
    key = (code, version, row[0])
    if key not in _FW_CACHE:
        _FW_CACHE[key] = parse_framework(json.loads(row[0]), f"{code}@{version}")
    return _FW_CACHE[key]


def framework_for_period(con, period: str) -> Framework:
    row = con.execute("SELECT framework_code, framework_version FROM periods WHERE period = ?",
                      [period]).fetchone()
    if row is None:
        raise StoreError(f"Không có kỳ đánh giá '{period}'. Các kỳ hiện có: {', '.join(periods(con)) or '(chưa có)'}")
    return load_framework_version(con, row[0], row[1])


PERIOD_RE = re.compile(r"^\d{4}(-(H[12]|Q[1-4]))?$")


def period_sort_key(period: str) -> int:
    """2025-H1 < 2025 (the year-end review comes after the mid-year one)."""
    year = int(period[:4])
    suffix = period[5:]
    sub = {"Q1": 1, "H1": 2, "Q2": 2, "Q3": 3, "H2": 4, "Q4": 4}.get(suffix, 5)
    return year * 10 + sub


def add_period(con, period: str, fw: Framework, *, label: str | None = None,
               previous: str | None = None, actor=CLI_ACTOR) -> None:
    """Register a period using one framework version; previous = the last period of the same kind."""
    if not PERIOD_RE.match(period):
        raise StoreError(f"Kỳ '{period}' không hợp lệ; dùng dạng 2025, 2025-H1 hoặc 2025-Q3")
    with write(con, actor, "setup", action="period.add", target=period,
               after={"framework": fw.key, "previous": previous}) as w:
        save_framework(con, fw, actor=actor)
        if con.execute("SELECT 1 FROM periods WHERE period = ?", [period]).fetchone():
            w.action = None
            return
        con.execute("INSERT INTO periods VALUES (?, ?, ?, ?, ?, ?)",
                    [period, label or f"Năm {period}" if len(period) == 4 else label or period,
                     fw.code, fw.version, previous, period_sort_key(period)])


def periods(con) -> list[str]:
    return [r[0] for r in con.execute("SELECT period FROM periods ORDER BY sort_key").fetchall()]


def previous_period(con, period: str) -> str | None:
    """The period set explicitly as previous, else the latest earlier period of the same kind
    (2024 before 2025, 2025-H1 before 2026-H1)."""
    row = con.execute("SELECT previous_period FROM periods WHERE period = ?", [period]).fetchone()
    if row is None:
        return None
    if row[0]:
        return row[0]
    kind = period[4:]
    earlier = [p for p in periods(con) if p[4:] == kind and p < period]
    return max(earlier) if earlier else None
