"""Which column of a score file is which: header words (folded, Vietnamese or English) → fields,
criterion-code columns of a wide sheet, the layout (long or wide), and the header row's score that
``tabular.read_grid`` uses to find the header under title rows. Split from ``ingest`` (the reader and
its value rules) along that seam; ``model_upload`` extends ``HEADER_SYNONYMS`` with its own fields."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from .criteria import Framework, default_framework
from .text import fold, nfc
from .uploads import Problem
from .values import period_of

# header (folded) → field
HEADER_SYNONYMS: dict[str, list[str]] = {
    "unit_code": [
        "unit code", "unit", "unit id", "ma don vi", "ma dv", "ma xa", "ma phuong", "ma xa phuong",
        "ma dac khu", "ma dvhc", "ma don vi hanh chinh", "ma co quan", "ma", "code", "ma so",
    ],
    "unit_name": [
        "unit name", "ten don vi", "ten xa", "ten phuong", "ten xa phuong", "don vi", "ten",
        "ten co quan", "xa phuong", "xa", "phuong",
    ],
    "period": ["period", "ky", "ky danh gia", "ky cham", "ky cham diem", "nam", "nam danh gia", "year"],
    "criterion_code": [
        "criterion code", "criterion", "criteria", "criterion id", "ma tieu chi", "tieu chi", "ma tc",
    ],
    "criterion_name": ["criterion name", "ten tieu chi", "noi dung", "noi dung tieu chi"],
    "score": ["score", "value", "diem", "diem so", "so diem", "gia tri", "ket qua", "diem cham", "diem dat"],
    "score_self": ["self score", "score self", "diem tu cham", "tu cham"],
    "score_appraised": ["appraised score", "score appraised", "diem tham dinh", "tham dinh"],
    "stage": ["stage", "giai doan", "vong", "vong cham", "buoc", "loai diem"],
    "evidence": ["evidence", "minh chung", "tai lieu minh chung", "link minh chung"],
    "note": ["note", "notes", "ghi chu", "comment", "nhan xet", "giai trinh"],
}
HEADER_FIELDS = {syn: fld for fld, syns in HEADER_SYNONYMS.items() for syn in syns}
FIELD_LABELS = {
    "unit_code": "mã đơn vị (unit_code)",
    "period": "kỳ đánh giá (period)",
    "criterion_code": "mã tiêu chí (criterion_code)",
    "score": "điểm (score)",
    "stage": "loại điểm (stage)",
    "evidence": "minh chứng (evidence)",
    "note": "ghi chú (note)",
}
_CRIT_LIKE = re.compile(r"^[A-Za-z]{1,2}\d{1,2}$")


@dataclass
class ValueSpec:
    index: int
    criterion: str | None  # wide: the criterion of this column
    stage: str | None  # two-stage long: the stage of this column


def _header_field(cell: str) -> str | None:
    return HEADER_FIELDS.get(fold(cell))


def _criterion_header(cell: str, codes: Iterable[str]) -> str | None:
    s = nfc(str(cell)).strip().casefold()
    for code in codes:
        c = code.casefold()
        if s == c or (s.startswith(c) and not s[len(c)].isalnum()):
            return code
    return None


def assign_columns(header: list[str], framework_for, period_arg) -> tuple[dict, list[str], str, list[Problem]]:
    """Which column is which field; the layout; ignored columns; header problems."""
    problems: list[Problem] = []
    roles: dict[str, Any] = {}
    seen: dict[str, str] = {}
    ignored: list[str] = []
    codes = _header_codes(framework_for, period_arg)
    crit_cols: list[tuple[int, str]] = []
    unknown_crit: list[str] = []
    for j, cell in enumerate(header):
        name = (cell or "").strip()
        if not name:
            continue
        f = _header_field(name)
        if f is not None:
            if f in seen:
                problems.append(Problem(None, name, None, f"cột '{name}' và cột '{seen[f]}' cùng là "
                                        f"{FIELD_LABELS.get(f, f)}; hãy giữ lại một cột"))
                continue
            seen[f] = name
            roles[f] = j
            continue
        code = _criterion_header(name, codes)
        if code is not None:
            crit_cols.append((j, code))
        elif _CRIT_LIKE.match(name):
            unknown_crit.append(name)
        else:
            ignored.append(name)
    long_like = "criterion_code" in roles or "score" in roles or "score_self" in roles or "score_appraised" in roles
    layout = "long" if long_like or not crit_cols else "wide"
    if layout == "long":
        for j, _code in crit_cols:
            ignored.append(header[j].strip())
        ignored.extend(unknown_crit)
        values = []
        if "score" in roles:
            values.append(ValueSpec(roles["score"], None, None))
        for f, st in (("score_self", "self"), ("score_appraised", "appraised")):
            if f in roles:
                if "score" in roles:
                    ignored.append(header[roles[f]].strip())
                else:
                    values.append(ValueSpec(roles[f], None, st))
        roles["values"] = values
        missing = [f for f in ("unit_code", "criterion_code") if f not in roles]
        if not values:
            missing.append("score")
        if missing:
            if "criterion_code" not in roles and not values:
                problems.append(Problem(None, None, None,
                                        "thiếu cột bắt buộc: " + ", ".join(FIELD_LABELS[m] for m in missing)
                                        + "; hoặc dùng bố cục rộng: unit_code, period, rồi một cột cho mỗi mã "
                                        "tiêu chí" + (f" ({', '.join(codes[:6])}, …)" if codes else "")))
            else:
                problems.append(Problem(None, None, None,
                                        "thiếu cột bắt buộc: " + ", ".join(FIELD_LABELS[m] for m in missing)))
            roles["values"] = []
    else:
        for name in unknown_crit:
            problems.append(Problem(None, name, None, "cột này trông như mã tiêu chí nhưng không có trong bộ tiêu "
                                    f"chí ({', '.join(codes)}); hãy sửa tên cột hoặc xóa cột"))
        roles["values"] = [ValueSpec(j, code, None) for j, code in crit_cols]
        if "unit_code" not in roles:
            problems.append(Problem(None, None, None, f"thiếu cột bắt buộc: {FIELD_LABELS['unit_code']}"))
            roles["values"] = []
    if "period" not in roles and period_arg is None:
        problems.append(Problem(None, None, None, "không có kỳ đánh giá: thêm cột 'period' (Kỳ) vào tệp hoặc "
                                "chọn kỳ khi nhập (--period 2025)"))
        roles["values"] = []
    if "criterion_name" in roles:  # shown to the person filling the sheet, not stored
        ignored.append(header[roles["criterion_name"]].strip())
    return roles, ignored, layout, problems


def _header_codes(framework_for, period_arg) -> list[str]:
    """Criterion codes that may head a wide column, known before any period is read: the
    argument's period, else every period's framework (``PeriodFrameworks.all_codes``), else
    the framework handed to read_upload, else the default one."""
    if period_arg:
        fw = framework_for(period_of(period_arg) or period_arg)
        if isinstance(fw, Framework):
            return list(fw.criteria)
    codes = getattr(framework_for, "all_codes", None)
    if codes:
        return list(codes)
    fw = framework_for("*")
    if isinstance(fw, Framework):
        return list(fw.criteria)
    try:
        return list(default_framework().criteria)
    except Exception:
        return []


def header_score(cells: list[str]) -> float | None:
    """A score-file header names the unit-code column and another known column (or a cell
    shaped like a criterion code); its score is the number of known fields it names."""
    fields = {_header_field(c) for c in cells if c and c.strip()}
    fields.discard(None)
    if "unit_code" not in fields:
        return None
    if len(fields) >= 2 or any(_CRIT_LIKE.match(c.strip()) for c in cells if c):
        return float(len(fields))
    return None
