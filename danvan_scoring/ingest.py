"""Reading score uploads (CSV, XLSX; long or wide) into validated long rows, and importing them.

Staff export these files from Excel on Vietnamese Windows machines, so the reader is
forgiving about form (encodings, delimiters, decimal commas, title rows, header
spelling, stripped leading zeros) and strict about content: every bad cell becomes a
``Problem`` that names the row as the user sees it in Excel, and a file with any
problem is rejected whole. ``read_upload`` is pure; ``import_file`` adds the database.

Speed matters (a national file has a million rows), so parsing is done by pyarrow's C
reader and validation works on the *distinct* values of each column (a few thousand
unit codes, a few dozen criteria) mapped back by integer codes, never row by row.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import math
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from .export import neutralise_formulas, safe_cell  # noqa: F401 — part of this module's contract
from .criteria import Framework, Kind
from . import batches, periods
from . import units as unit_store
from .periods import PERIOD_RE

MAX_BYTES = 50 * 1024 * 1024
MAX_LISTED = 1000  # problems listed one by one; the rest are counted
HEADER_SCAN_ROWS = 30  # title rows above the header that we look through
LONG_COLUMNS = ["unit_code", "period", "criterion_code", "score", "stage", "evidence", "note"]
ROW_COLUMNS = ["unit_code", "period", "criterion_code", "stage", "value", "evidence", "note"]


# =========================================================================== contract
@dataclass
class Problem:
    """One problem, located the way the user sees the file in Excel."""

    row: int | None
    column: str | None
    value: str | None
    reason: str

    def line(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"Dòng {self.row}")
        if self.column is not None:
            where.append(f"cột '{self.column}'" if where else f"Cột '{self.column}'")
        head = ", ".join(where) if where else "Tệp"
        if self.value is not None:
            return f"{head}: '{_show(self.value)}' — {self.reason}"
        return f"{head}: {self.reason}"


def _show(value: str, limit: int = 60) -> str:
    """A cell value printable on one line (control characters escaped, long text cut)."""
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _empty_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit_code": pd.Series([], dtype="str"),
            "period": pd.Series([], dtype="str"),
            "criterion_code": pd.Series([], dtype="str"),
            "stage": pd.Series([], dtype="str"),
            "value": pd.Series([], dtype="float64"),
            "evidence": pd.Series([], dtype="str"),
            "note": pd.Series([], dtype="str"),
        }
    )


@dataclass
class ParsedUpload:
    """The outcome of reading one file: the valid rows and every problem found.

    ``rows`` holds the rows that passed validation even when there are problems, so a
    preview can show them; importing requires ``ok``.
    """

    rows: pd.DataFrame
    problems: list[Problem]
    ignored_columns: list[str]
    layout: str
    content_hash: str
    problem_count: int = 0  # all problems, including those beyond the listed MAX_LISTED
    blank_cells: int = 0  # empty score cells that were skipped (e.g. an unfilled template)
    duplicate_rows: int = 0  # identical repeated rows that were kept once
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header_row: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def problems_frame(self) -> pd.DataFrame:
        """The problems as a table (for the app's table and its downloadable CSV)."""
        return pd.DataFrame(
            [{"dong": p.row, "cot": p.column, "gia_tri": p.value, "ly_do": p.reason} for p in self.problems],
            columns=["dong", "cot", "gia_tri", "ly_do"],
        )


class UploadRejected(Exception):
    """The file was not imported; ``problems`` says why, one line each."""

    def __init__(self, problems: list[Problem], parsed: ParsedUpload | None = None):
        self.problems = problems
        self.parsed = parsed
        count = parsed.problem_count if parsed is not None else len(problems)
        self.count = count  # every problem, including those beyond the listed ones
        first = problems[0].line() if problems else ""
        super().__init__(f"Tệp bị từ chối: {count} lỗi. {first}")


@dataclass
class ImportResult:
    """What an import did: the batch written (or that would be, for a dry run)."""

    batch_id: int | None
    new: int
    changed: int
    unchanged: int
    skipped_duplicate: bool
    dry_run: bool
    rows: int
    parsed: ParsedUpload = field(repr=False)

    @property
    def ignored_columns(self) -> list[str]:
        return self.parsed.ignored_columns

    def summary(self) -> str:
        if self.dry_run:
            head = "Chạy thử (không ghi gì)"
        elif self.skipped_duplicate:
            head = "Không có gì thay đổi (tệp đã được nhập trước đó)"
        else:
            head = f"Đã nhập lô số {self.batch_id}"
        text = f"{head}: {self.rows} dòng — {self.new} mới, {self.changed} thay đổi, {self.unchanged} không đổi"
        if self.parsed.ignored_columns:
            text += "; bỏ qua các cột: " + ", ".join(f"'{c}'" for c in self.parsed.ignored_columns)
        return text


class ScoreRow(BaseModel):
    """The contract of one normalised row; the vectorised reader produces exactly these.

    Used as documentation, in tests, and by the per-row baseline in the benchmark.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    unit_code: str = Field(pattern=r"^\d{5}$|^[A-Za-z0-9_.-]{1,32}$")
    period: str = Field(pattern=PERIOD_RE.pattern)
    criterion_code: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,31}$")
    stage: str = Field(pattern=r"^(self|appraised)$")
    value: float = Field(ge=0, allow_inf_nan=False)
    evidence: str | None = None
    note: str | None = None


# =========================================================================== text helpers
_VI_LETTERS = (
    "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ"
)
_VI_ALLOWED = set(_VI_LETTERS + _VI_LETTERS.upper()) | set("–—‘’“”…•°·×±²³½¼¾€£§©®™«»\u00a0\u2009\u202f")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Lower case without diacritics, punctuation as single spaces: 'Mã  Đơn-vị' → 'ma don vi'."""
    text = unicodedata.normalize("NFD", str(text).strip().casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).replace("đ", "d")
    text = re.sub(r"[^0-9a-z]+", " ", text)
    return text.strip()


# header (folded) → field
_HEADER_SYNONYMS: dict[str, list[str]] = {
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
HEADER_FIELDS = {syn: fld for fld, syns in _HEADER_SYNONYMS.items() for syn in syns}
FIELD_LABELS = {
    "unit_code": "mã đơn vị (unit_code)",
    "period": "kỳ đánh giá (period)",
    "criterion_code": "mã tiêu chí (criterion_code)",
    "score": "điểm (score)",
    "stage": "giai đoạn (stage)",
    "evidence": "minh chứng (evidence)",
    "note": "ghi chú (note)",
}
_STAGE_WORDS = {
    "self": "self", "tu cham": "self", "tu danh gia": "self", "don vi tu cham": "self", "tc": "self",
    "appraised": "appraised", "appraisal": "appraised", "tham dinh": "appraised", "td": "appraised",
    "cap tren cham": "appraised", "cap tren": "appraised", "danh gia": "appraised",
}
_PASS_WORDS = {"dat": 1.0, "co": 1.0, "yes": 1.0, "x": 1.0, "khong dat": 0.0, "khong": 0.0, "no": 0.0}
_CRIT_LIKE = re.compile(r"^[A-Za-z]{1,2}\d{1,2}$")


# =========================================================================== public API
def read_upload(
    data: bytes,
    filename: str,
    *,
    framework: Framework,
    unit_codes: Mapping[str, str],
    period: str | None = None,
    stage: str | None = None,
    sheet: str | None = None,
    max_bytes: int = MAX_BYTES,
) -> ParsedUpload:
    """Read and validate an upload without touching any database; never raises for bad input."""
    return _read_safely(data, filename, lambda p: framework, unit_codes, period, stage, sheet, max_bytes)


def _read_safely(data, filename, framework_for, unit_codes, period, stage, sheet, max_bytes) -> ParsedUpload:
    try:
        content_hash = hashlib.sha256(data).hexdigest()
    except TypeError:
        data, content_hash = b"", hashlib.sha256(b"").hexdigest()
    try:
        return _Reader(data, filename or "", framework_for, unit_codes or {}, period, stage, sheet,
                       max_bytes, content_hash).run()
    except MemoryError:
        reason = "tệp quá lớn để đọc trong bộ nhớ hiện có; hãy chia nhỏ tệp"
    except Exception as exc:  # the promise: no traceback ever reaches a user
        reason = f"lỗi không mong đợi khi đọc tệp ({type(exc).__name__}); hãy gửi tệp này cho quản trị viên"
    return _rejected(content_hash, [Problem(None, None, None, reason)])


def _rejected(content_hash: str, problems: list[Problem], layout: str = "long", **kw) -> ParsedUpload:
    return ParsedUpload(_empty_rows(), problems, [], layout, content_hash, problem_count=len(problems), **kw)


def explain_write_errors(write, *args, **kwargs):
    """Run a batch writer; a database failure becomes one Vietnamese line (the transaction
    was rolled back, so nothing was written)."""
    from . import store

    try:
        return write(*args, **kwargs)
    except store.StoreError:
        raise
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise store.StoreError(f"Không ghi được vào cơ sở dữ liệu: {first}. Không có dữ liệu nào được ghi.") from None


def import_file(
    con,
    data: bytes,
    filename: str,
    *,
    actor: str,
    period: str | None = None,
    stage: str | None = None,
    sheet: str | None = None,
    dry_run: bool = False,
    max_bytes: int = MAX_BYTES,
    progress: Callable[[float, str], None] | None = None,
) -> ImportResult:
    """Validate the whole file, then write it as one batch (one transaction), or write nothing.

    Raises ``UploadRejected`` with every problem when the file has any; database errors
    come out as ``store.StoreError`` with a one-line message.
    """
    from . import store  # imported here so that read_upload stays usable without a database

    def tell(fraction: float, message: str) -> None:
        if progress is not None:
            progress(fraction, message)

    tell(0.0, "Đang đọc tệp")
    units = unit_store.unit_names(con)
    cache: dict[str, Framework | str] = {}

    def framework_for(p: str) -> Framework | str:
        if p not in cache:
            try:
                cache[p] = periods.framework_for_period(con, p)
            except store.StoreError as exc:
                cache[p] = str(exc)
        return cache[p]

    codes: dict[str, None] = {}
    for p in periods.periods(con):
        fw = framework_for(p)
        if isinstance(fw, Framework):
            codes.update(dict.fromkeys(fw.criteria))
    framework_for.all_codes = list(codes)
    parsed = _read_safely(data, filename, framework_for, units, period, stage, sheet, max_bytes)
    if not parsed.ok:
        raise UploadRejected(parsed.problems, parsed)
    tell(0.6, f"Đã kiểm tra {len(parsed.rows)} dòng; đang ghi")
    result = explain_write_errors(batches.write_batch, con, parsed.rows, actor=actor, filename=filename,
                                  content_hash=parsed.content_hash, dry_run=dry_run)
    tell(1.0, "Xong")
    return ImportResult(result.batch_id, result.new, result.changed, result.unchanged,
                        result.skipped_duplicate, dry_run, len(parsed.rows), parsed)


# =========================================================================== the reader
@dataclass
class _Table:
    """A parsed grid: raw header cells, string columns, and each row's number in Excel."""

    header: list[str]
    columns: list[pd.Series]  # str dtype, NaN for empty
    rownum: np.ndarray  # int64, 1-based as shown in Excel
    header_row: int
    decimal_comma: bool
    problems: list[Problem] = field(default_factory=list)


class _Reader:
    def __init__(self, data, filename, framework_for, unit_codes, period, stage, sheet, max_bytes, content_hash):
        self.data = data
        self.filename = filename
        self.framework_for = framework_for
        self.unit_codes = unit_codes
        self.period_arg = period
        self.stage_arg = stage
        self.sheet = sheet
        self.max_bytes = max_bytes
        self.hash = content_hash
        self.info: dict[str, Any] = {}

    # ----------------------------------------------------------------------- top
    def run(self) -> ParsedUpload:
        data = self.data
        if len(data) > self.max_bytes:
            return self._fail(f"tệp quá lớn ({_mb(len(data))}); giới hạn là {_mb(self.max_bytes)}. "
                              "Hãy chia tệp theo kỳ hoặc theo tỉnh")
        if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
            return self._fail("tệp trống, không có dữ liệu")
        arg_problems = self._check_arguments()
        if arg_problems:
            return _rejected(self.hash, arg_problems)
        kind = _sniff(data)
        if kind == "xlsx":
            table = self._read_xlsx()
        elif kind == "text":
            table = self._read_text()
        else:
            return self._fail(kind)
        if isinstance(table, list):
            return _rejected(self.hash, table, **self.info)
        return self._validate(table)

    def _fail(self, reason: str) -> ParsedUpload:
        return _rejected(self.hash, [Problem(None, None, None, reason)], **self.info)

    def _check_arguments(self) -> list[Problem]:
        out = []
        if self.stage_arg is not None and _stage_of(self.stage_arg) is None:
            out.append(Problem(None, None, self.stage_arg,
                               "giai đoạn không hợp lệ; chỉ nhận 'self' (tự chấm) hoặc 'appraised' (thẩm định)"))
        if self.period_arg is not None and _period_of(self.period_arg) is None:
            out.append(Problem(None, None, self.period_arg, _PERIOD_BAD))
        return out

    # ----------------------------------------------------------------------- text files
    def _read_text(self) -> _Table | list[Problem]:
        data = self.data
        if data.isascii():  # the common national export: no decoding, no copies of the text
            if b"\x00" in data[:100_000] or _binary_share(data[:4096].decode("ascii")) > 0.1:
                return [Problem(None, None, None, _NOT_TABULAR)]
            self.info["encoding"] = "ascii"
            text = None
            head = data[:1_000_000].decode("ascii")
        else:
            text, encoding, problem = _decode(data)
            self.info["encoding"] = encoding
            if problem:
                return [Problem(None, None, None, problem)]
            if "\x00" in text[:100_000] or _binary_share(text[:4096]) > 0.1:
                return [Problem(None, None, None, _NOT_TABULAR)]
            bad = _mojibake(text)
            if bad:
                return [Problem(None, None, bad, "tệp có chữ bị lỗi mã hóa (mojibake, ví dụ 'Ä‘' thay cho 'đ'): "
                                "tệp đã bị chuyển bảng mã sai trước đó. Hãy lấy lại tệp gốc hoặc sửa các chữ "
                                "này, lưu dạng 'CSV UTF-8'")]
            if "\ufffd" in text:
                line = text[: text.index("\ufffd")].count("\n") + 1
                return [Problem(line, None, None, "tệp có ký tự lỗi '\ufffd' (chữ đã bị hỏng khi chuyển bảng "
                                "mã); hãy sửa hoặc lấy lại tệp gốc")]
            text = nfc(text)
            head = text[:1_000_000]
        head_lines = _lines(head)[: HEADER_SCAN_ROWS + 1]
        found = _find_header_text(head_lines)
        if found is None:
            return [self._no_header_problem(_guess_cells(head_lines))]
        delimiter, idx, header = found
        self.info["delimiter"] = delimiter
        self.info["header_row"] = idx + 1
        offset = sum(len(line) for line in head_lines[:idx])
        body = data[offset:] if text is None else text[offset:].encode("utf-8")
        table = _parse_fast(body, delimiter, len(header), idx + 1)
        if table is None:
            table = _parse_slow(body.decode("utf-8"), delimiter, len(header), idx + 1)
        columns, rownum, problems = table
        return _Table(header, columns, rownum, idx + 1, delimiter != ",", problems)

    # ----------------------------------------------------------------------- xlsx
    def _read_xlsx(self) -> _Table | list[Problem]:
        import openpyxl

        try:
            wb = openpyxl.load_workbook(io.BytesIO(self.data), read_only=True, data_only=True)
        except zipfile.BadZipFile:
            return [Problem(None, None, None, "tệp XLSX bị hỏng (không giải nén được); hãy mở bằng Excel và lưu lại")]
        except Exception:
            return [Problem(None, None, None, "không phải tệp XLSX hợp lệ (có thể là tệp nén .zip hoặc tài liệu "
                            "khác); hãy lưu bảng điểm dạng .xlsx hoặc CSV UTF-8")]
        try:
            names = wb.sheetnames
            if self.sheet is not None:
                match = [n for n in names if fold(n) == fold(self.sheet)]
                if not match:
                    return [Problem(None, None, self.sheet, "không có trang tính (sheet) này; các trang có trong tệp: "
                                    + ", ".join(f"'{n}'" for n in names))]
                ws = wb[match[0]]
            else:
                ws = wb.worksheets[0]
            self.info["sheet"] = ws.title
            rows = [[_cell_text(v) for v in row] for row in ws.iter_rows(min_row=1, values_only=True)]
        finally:
            wb.close()
        while rows and not any(c is not None for c in rows[-1]):
            rows.pop()
        if not rows:
            others = f" Các trang khác: {', '.join(names[1:])}." if len(names) > 1 and self.sheet is None else ""
            return [Problem(None, None, None, f"trang tính '{ws.title}' trống.{others}")]
        head = rows[: HEADER_SCAN_ROWS + 1]
        idx = _find_header_rows([[c or "" for c in r] for r in head])
        if idx is None:
            p = self._no_header_problem([[c or "" for c in r] for r in head])
            if len(names) > 1 and self.sheet is None:
                p.reason += f" (đang đọc trang đầu tiên '{ws.title}'; các trang khác: {', '.join(names[1:])})"
            return [p]
        self.info["header_row"] = idx + 1
        header = [nfc(c or "") for c in rows[idx]]
        width = max(len(header), max((len(r) for r in rows[idx + 1:]), default=0))
        header += [""] * (width - len(header))
        body = rows[idx + 1:]
        cols = []
        for j in range(width):
            values = [nfc(r[j]) if j < len(r) and r[j] is not None else None for r in body]
            cols.append(_strings(values))
        rownum = np.arange(idx + 2, idx + 2 + len(body), dtype=np.int64)
        return _Table(header, cols, rownum, idx + 1, True, [])

    def _no_header_problem(self, head: list[list[str]]) -> Problem:
        seen = next((r for r in head if any(c.strip() for c in r)), [])
        shown = ", ".join(f"'{c.strip()}'" for c in seen[:8] if c.strip())
        return Problem(None, None, None,
                       "không tìm thấy dòng tiêu đề có cột mã đơn vị (unit_code / 'Mã đơn vị' / 'Mã xã') và cột "
                       "mã tiêu chí, điểm hoặc kỳ đánh giá trong "
                       f"{HEADER_SCAN_ROWS} dòng đầu" + (f"; dòng đầu tiên có: {shown}" if shown else ""))

    # ----------------------------------------------------------------------- validation
    def _validate(self, t: _Table) -> ParsedUpload:
        problems = _Problems()
        for p in t.problems:
            problems.add(p)
        roles, ignored, layout, header_problems = _assign_columns(t.header, self.framework_for, self.period_arg)
        for p in header_problems:
            problems.add(p)
        self.info["layout"] = layout
        specs: list[_ValueSpec] = roles.get("values") or []
        if not specs:
            return self._finish(_empty_rows(), problems, ignored, layout, 0, 0)
        n = len(t.rownum)
        if n == 0:
            problems.add(Problem(None, None, None, "tệp chỉ có dòng tiêu đề, không có dòng dữ liệu nào"))
            return self._finish(_empty_rows(), problems, ignored, layout, 0, 0)

        def col(role):
            return t.columns[roles[role]] if role in roles else None

        def hdr(role):
            return t.header[roles[role]].strip() if role in roles else None

        # --- value columns first: a row without any value is an unfilled template row, skipped
        vcols = [_Column(t.columns[s.index], lambda v: _number_of(v, t.decimal_comma)) for s in specs]
        has_value = np.zeros(n, dtype=bool)
        for vc in vcols:
            has_value |= ~vc.missing
        unit = _Column(col("unit_code"), _unit_of)
        blank = int(sum(int((vc.missing & ~unit.missing).sum()) for vc in vcols))
        if not has_value.any():
            anything = any(c.notna().any() for c in t.columns)
            problems.add(Problem(None, None, None, "tệp không có điểm nào (các ô điểm đều để trống)" if anything
                                 else "tệp chỉ có dòng tiêu đề, không có dòng dữ liệu nào"))
            return self._finish(_empty_rows(), problems, ignored, layout, blank, 0)
        active = has_value

        unit_reason = self._unit_messages(unit, col("unit_name"))
        per_default = _period_of(self.period_arg) if self.period_arg else None
        if "period" in roles:
            per = _Column(col("period"), lambda v: (_period_of(v),), default=per_default)
        else:
            per = _Column.constant(n, per_default)
        stage_default = _stage_of(self.stage_arg) or "appraised"
        if "stage" in roles:
            stg = _Column(col("stage"), lambda v: (_stage_of(v),), default=stage_default)
        else:
            stg = _Column.constant(n, stage_default)
        known = self._all_criterion_codes(per)
        crit = _Column(col("criterion_code"), lambda v: _criterion_of(v, known)) if layout == "long" else None

        def report(mask, column, reasons, values=None):
            """List the rows in ``mask``; ``reasons`` is a str or a function of the raw value."""
            idx = np.flatnonzero(mask)
            problems.count(len(idx))
            idx = idx[: problems.room()]
            raws = values.raw(idx) if values is not None else [None] * len(idx)
            for i, raw in zip(idx, raws):
                r = reasons if isinstance(reasons, str) else reasons(i, raw)
                problems.add(Problem(int(t.rownum[i]), column, None if raw is None else str(raw), r),
                             counted=True)

        row_bad = np.zeros(n, dtype=bool)
        m = active & unit.bad
        report(m, hdr("unit_code"), lambda i, raw: unit_reason(raw), unit)
        row_bad |= m
        m = active & unit.missing
        report(m, hdr("unit_code"), "thiếu mã đơn vị")
        row_bad |= m
        m = active & per.bad
        report(m, hdr("period"), _PERIOD_BAD, per)
        row_bad |= m
        period_bad = m.copy()
        for p_idx, p in per.distinct_indices():
            fw = self.framework_for(p)
            if not isinstance(fw, Framework):
                m = active & (per.idx == p_idx)
                if m.any():
                    first = int(t.rownum[np.flatnonzero(m)[0]])
                    problems.add(Problem(first, hdr("period"), p,
                                         f"{str(fw).rstrip('.')} ({int(m.sum())} dòng có kỳ này)"))
                    row_bad |= m
                    period_bad |= m
        m = active & per.missing
        report(m, hdr("period"), "không có kỳ đánh giá: điền cột kỳ hoặc chọn kỳ khi nhập (--period)")
        row_bad |= m
        m = active & stg.bad
        report(m, hdr("stage"), "giai đoạn không hợp lệ; chỉ nhận 'tự chấm' (self) hoặc 'thẩm định' (appraised)",
               stg)
        row_bad |= m
        if crit is not None:
            m = active & crit.bad & ~period_bad
            report(m, hdr("criterion_code"), lambda i, raw: _unknown_criterion(raw, known), crit)
            row_bad |= m
            m = active & crit.missing
            report(m, hdr("criterion_code"), "thiếu mã tiêu chí")
            row_bad |= m

        # --- each value column: number, range, kind, who may score it (the range needs a
        # known period and criterion; a non-number is reported whatever else is wrong)
        rule_bad = period_bad | per.missing | stg.bad
        if crit is not None:
            rule_bad = rule_bad | crit.bad | crit.missing
        gid = {code: k for k, code in enumerate(sorted(known))}
        frames, keys, rows_at = [], [], []
        evidence = _clean_text(col("evidence"))
        note = _clean_text(col("note"))
        for spec, vc in zip(specs, vcols):
            c = crit if spec.criterion is None else _Column.constant(n, spec.criterion)
            s = stg if spec.stage is None else _Column.constant(n, spec.stage)
            ok = self._check_values(vc, c, s, per, active & ~vc.missing, rule_bad,
                                    t.header[spec.index].strip(), report) & ~row_bad
            keep = np.flatnonzero(ok)
            frames.append(pd.DataFrame({
                "unit_code": unit.take_str(keep),
                "period": per.take_str(keep),
                "criterion_code": c.take_str(keep),
                "stage": s.take_str(keep),
                "value": vc.as_float()[keep],
                "evidence": _take_text(evidence, keep, n),
                "note": _take_text(note, keep, n),
            }))
            c_gid = np.array([gid.get(v, len(gid)) for v in c.norm], dtype=np.int64)[c.idx[keep]]
            s_bit = np.array([v == "self" for v in s.norm], dtype=np.int64)[s.idx[keep]]
            key = ((unit.idx[keep].astype(np.int64) * (per.k + 1) + per.idx[keep]) * (len(gid) + 1) + c_gid) * 2
            keys.append(key + s_bit)
            rows_at.append(t.rownum[keep])
        rows = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        key = np.concatenate(keys)
        rownum = np.concatenate(rows_at)
        if layout == "wide" and len(rows) > 1:
            order = np.argsort(rownum, kind="stable")
            rows, key, rownum = rows.iloc[order].reset_index(drop=True), key[order], rownum[order]
        # criteria the framework derives from the model registry cannot be typed in
        from .models import refuse_derived

        for problem in refuse_derived(rows.assign(_row=rownum), self.framework_for,
                                      hdr("criterion_code") if layout == "long" else None):
            problems.add(problem)
        rows, dupes = self._duplicates(rows, key, rownum, problems)
        return self._finish(rows, problems, ignored, layout, blank, dupes)

    def _finish(self, rows, problems, ignored, layout, blank, dupes) -> ParsedUpload:
        info = {k: v for k, v in self.info.items() if k != "layout"}
        return ParsedUpload(rows, problems.listed(), ignored, layout, self.hash, problem_count=problems.total,
                            blank_cells=blank, duplicate_rows=dupes, **info)

    def _all_criterion_codes(self, per: "_Column") -> dict[str, dict[str, Any]]:
        """criterion code → {period: Criterion} for the periods in the file (one framework each)."""
        out: dict[str, dict[str, Any]] = {}
        for _, p in per.distinct_indices():
            fw = self.framework_for(p)
            if isinstance(fw, Framework):
                for code, c in fw.criteria.items():
                    out.setdefault(code, {})[p] = c
        return out

    def _check_values(self, vc, crit, stg, per, active, rule_bad, column, report) -> np.ndarray:
        """Number, range, kind and stage checks; returns the rows that pass.

        The rules depend on (period, criterion) only, so they are computed once per distinct
        pair and broadcast to the rows with integer look-ups.
        """
        nonnum = active & vc.bad
        report(nonnum, column, "điểm phải là số (dùng dấu chấm hoặc dấu phẩy thập phân, không có chữ)", vc)
        active = active & ~vc.bad & ~rule_bad
        if not active.any():
            return active
        width = crit.k + 1
        pair = per.idx.astype(np.int64) * width + crit.idx
        size = (per.k + 1) * width
        if size <= 4_000_000:
            used = np.flatnonzero(np.bincount(pair[active], minlength=size))
            lookup = None
        else:  # absurdly many distinct periods × criteria (garbage input): compress first
            used, inverse = np.unique(pair[active], return_inverse=True)
            lookup = used
        m = len(used) if lookup is not None else size
        vmax = np.full(m, np.inf)
        pass_fail = np.zeros(m, dtype=bool)
        appraiser = np.zeros(m, dtype=bool)
        absent = np.zeros(m, dtype=bool)
        reasons: dict[int, tuple[str, str, str]] = {}
        for j, u in enumerate(used):
            slot = j if lookup is not None else int(u)
            p, code = per.norm[int(u) // width], crit.norm[int(u) % width]
            fw = self.framework_for(p) if p is not None else None
            c = fw.criteria.get(code) if isinstance(fw, Framework) else None
            if c is None:
                absent[slot] = True
                label = fw.key if isinstance(fw, Framework) else "?"
                reasons[slot] = (f"tiêu chí '{code}' không có trong bộ tiêu chí của kỳ {p} ({label})", "", "")
                continue
            pass_fail[slot] = c.kind is Kind.pass_fail
            appraiser[slot] = c.appraiser_only
            if c.value_max is not None:
                vmax[slot] = c.value_max
            if c.kind is Kind.pass_fail:
                rng = f"tiêu chí {code} là đạt / không đạt: chỉ nhận 1 (đạt) hoặc 0 (không đạt)"
            elif c.kind is Kind.penalty:
                rng = f"điểm trừ của tiêu chí {code} ghi số dương, từ 0 đến {c.value_max:g}"
            elif c.value_max is None:
                rng = f"tiêu chí {code} ({c.value_hint()}) phải là số không âm"
            else:
                rng = f"điểm của tiêu chí {code} phải từ 0 đến {c.value_max:g}"
            reasons[slot] = ("", rng, f"tiêu chí {code} chỉ do cấp trên chấm (thẩm định), không có điểm tự chấm")
        if lookup is not None:
            row_slot = np.zeros(len(pair), dtype=np.int64)
            row_slot[active] = inverse
        else:
            row_slot = pair
        v = vc.as_float()
        words = vc.extra
        r_absent = active & absent[row_slot]
        r_pf = pass_fail[row_slot]
        bad_range = active & ~r_absent & np.where(r_pf, (v != 0.0) & (v != 1.0),
                                                  words | (v < 0) | (v > vmax[row_slot]))
        is_self = np.array([x == "self" for x in stg.norm], dtype=bool)[stg.idx]
        selfish = active & ~r_absent & ~bad_range & appraiser[row_slot] & is_self
        report(r_absent, column, lambda i, raw: reasons[int(row_slot[i])][0], crit)
        report(bad_range, column, lambda i, raw: reasons[int(row_slot[i])][1], vc)
        report(selfish, column, lambda i, raw: reasons[int(row_slot[i])][2], vc)
        return active & ~r_absent & ~bad_range & ~selfish

    def _duplicates(self, rows, key, rownum, problems: "_Problems") -> tuple[pd.DataFrame, int]:
        """The same key twice: identical rows are kept once, different values are a problem."""
        if len(rows) < 2:
            return rows, 0
        dup = _repeated(key)
        if dup is None:
            return rows, 0
        d = rows[dup].assign(key_=key[dup], row_=rownum[dup])
        same = d.duplicated(["key_", "value", "evidence", "note"], keep="first").to_numpy()
        d_unique = d[~same]
        conflict = d_unique.duplicated(["key_"], keep="first").to_numpy()
        if conflict.any():
            g = d_unique.groupby("key_", sort=False)
            first_row = g["row_"].transform("first").to_numpy()[conflict]
            first_val = g["value"].transform("first").to_numpy()[conflict]
            bad = d_unique[conflict]
            problems.count(len(bad))
            room = problems.room()
            for r, fr, fv in zip(bad.iloc[:room].itertuples(index=False), first_row[:room], first_val[:room]):
                problems.add(Problem(int(r.row_), None, f"{r.value:g}",
                                     f"trùng với dòng {int(fr)} (cùng đơn vị {r.unit_code}, kỳ {r.period}, "
                                     f"tiêu chí {r.criterion_code}, giai đoạn {_STAGE_VI.get(r.stage, r.stage)}) "
                                     f"nhưng khác giá trị ({fv:g}); hãy giữ lại một dòng"), counted=True)
        drop = np.flatnonzero(dup)[same]
        keep = np.ones(len(rows), dtype=bool)
        keep[drop] = False
        return rows[keep].reset_index(drop=True), int(same.sum())

    def _unit_messages(self, unit: "_Column", names: pd.Series | None) -> Callable[[str], str]:
        """Marks unknown unit codes bad; returns the reason text for one, with the closest
        known unit (by the name in the file when there is a name column, else by code)."""
        known = self.unit_codes
        unit.restrict_to(known)
        by_name: dict[str, str] = {}
        if names is not None and unit.bad.any():
            for code, name in known.items():
                by_name.setdefault(fold(name), code)
        name_of_raw: dict[str, str] = {}
        if names is not None:
            bad_rows = np.flatnonzero(unit.bad)[:MAX_LISTED]
            for raw, nm in zip(unit.raw(bad_rows), names.to_numpy()[bad_rows]):
                if isinstance(nm, str) and nm.strip():
                    name_of_raw.setdefault(raw, nm)
        cache: dict[str, str] = {}
        codes_list = list(known)

        def message(raw: str) -> str:
            if raw in cache:
                return cache[raw]
            norm = _unit_of(raw)[0] or str(raw).strip()
            hint = None
            if len(cache) < 200:  # closest matches cost time; the first 200 distinct codes get one
                nm = name_of_raw.get(raw)
                if nm:
                    f = fold(nm)
                    close = [f] if f in by_name else difflib.get_close_matches(f, list(by_name), n=1, cutoff=0.75)
                    hint = by_name[close[0]] if close else None
                if hint is None and codes_list:
                    hint = _closest_code(norm, codes_list)
            if not known:
                text = f"không có đơn vị mã '{norm}' (danh sách đơn vị đang trống)"
            elif hint:
                text = f"không có đơn vị mã '{norm}'; có phải '{hint}' ({known[hint]})?"
            else:
                text = f"không có đơn vị mã '{norm}' trong danh sách {len(known)} đơn vị"
            cache[raw] = text
            return text

        return message


# =========================================================================== columns
class _Column:
    """A column normalised on its distinct values.

    ``idx`` maps each row to a slot in ``norm`` (the normalised distinct values; the last
    slot is the default used for empty cells); ``bad`` and ``missing`` are row masks.
    """

    def __init__(self, series: pd.Series | None, normalise: Callable[[Any], tuple], default: Any = None):
        if series is None:
            series = pd.Series([], dtype="str")
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        k = len(uniques)
        norm = np.empty(k + 1, dtype=object)
        bad = np.zeros(k + 1, dtype=bool)
        extra = np.zeros(k + 1, dtype=bool)
        blank = np.zeros(k + 1, dtype=bool)
        raw = np.empty(k + 1, dtype=object)
        for i, value in enumerate(uniques):
            raw[i] = value
            if not isinstance(value, str) or not value.strip():
                blank[i] = True
                continue
            out = normalise(value)
            norm[i] = out[0]
            bad[i] = out[0] is None
            extra[i] = bool(out[1]) if len(out) > 1 else False
        blank[k] = True
        self._init(np.where(codes < 0, k, codes), norm, bad, extra, blank, raw, default)
        self._source = series if series.dtype == "str" else None

    def _init(self, idx, norm, bad, extra, blank, raw, default):
        self.k = len(norm) - 1
        self.idx = idx
        if blank.any():  # whitespace-only cells count as empty: point them at the default slot
            remap = np.arange(self.k + 1)
            remap[blank] = self.k
            self.idx = remap[idx]
        norm[self.k] = default
        self.norm = norm
        self._bad = bad & ~blank
        self._extra = extra
        self._raw = raw
        self._missing_default = default is None

    @classmethod
    def constant(cls, n: int, value: Any) -> "_Column":
        self = cls.__new__(cls)
        self._init(np.zeros(n, dtype=np.intp), np.asarray([value], dtype=object), np.zeros(1, dtype=bool),
                   np.zeros(1, dtype=bool), np.zeros(1, dtype=bool), np.asarray([None], dtype=object), value)
        self._source = None
        return self

    def restrict_to(self, allowed: Mapping[str, Any]) -> None:
        """Values outside ``allowed`` become bad (e.g. unit codes not in the unit list)."""
        outside = np.array([v is not None and v not in allowed for v in self.norm], dtype=bool)
        outside[self.k] = False
        self._bad = self._bad | outside

    def distinct_indices(self) -> list[tuple[int, Any]]:
        used = np.flatnonzero(np.bincount(self.idx, minlength=self.k + 1))
        return [(int(i), self.norm[i]) for i in used if self.norm[i] is not None and not self._bad[i]]

    def take_str(self, keep: np.ndarray) -> pd.Series:
        if self._source is not None and len(keep) == len(self.idx) and self._identity():
            return self._source.reset_index(drop=True)  # clean column: no copy
        table = pd.array([v if isinstance(v, str) else None for v in self.norm], dtype="str")
        return pd.Series(table.take(self.idx[keep]))

    def _identity(self) -> bool:
        """True when every used value is already normalised and no cell is empty."""
        used = np.bincount(self.idx, minlength=self.k + 1)
        if used[self.k]:
            return False
        return all(self.norm[i] == self._raw[i] for i in np.flatnonzero(used))

    def as_float(self) -> np.ndarray:
        table = np.array([v if isinstance(v, float) else np.nan for v in self.norm], dtype="float64")
        return table[self.idx]

    @property
    def bad(self) -> np.ndarray:
        return self._bad[self.idx]

    @property
    def missing(self) -> np.ndarray:
        if not self._missing_default:
            return np.zeros(len(self.idx), dtype=bool)
        return self.idx == self.k

    @property
    def extra(self) -> np.ndarray:
        return self._extra[self.idx]

    def raw(self, rows: np.ndarray) -> list:
        return list(self._raw[self.idx[rows]])


def _closest_code(code: str, codes: list[str]) -> str | None:
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


def _repeated(key: np.ndarray) -> np.ndarray | None:
    """Mask of keys that occur more than once, or None when all are distinct."""
    top = int(key.max()) if len(key) else 0
    if 0 <= int(key.min()) and top < 64_000_000:
        counts = np.bincount(key, minlength=top + 1)
        if counts.max() <= 1:
            return None
        return counts[key] > 1
    dup = pd.Series(key).duplicated(keep=False).to_numpy()
    return dup if dup.any() else None


def _take_text(series: pd.Series | None, keep: np.ndarray, n: int) -> pd.Series:
    if series is None:
        return pd.Series(pd.array([None], dtype="str").take(np.zeros(len(keep), dtype=np.intp)))
    return series.take(keep).reset_index(drop=True)


def _clean_text(series: pd.Series | None) -> pd.Series | None:
    if series is None:
        return None
    if not series.notna().any():
        return series
    s = series.str.strip()
    return s.where(s != "", None)


class _Problems:
    """Collects problems; lists the first MAX_LISTED and counts the rest."""

    def __init__(self):
        self.items: list[Problem] = []
        self.total = 0

    def add(self, p: Problem, counted: bool = False) -> None:
        if not counted:
            self.total += 1
        if len(self.items) < MAX_LISTED:
            self.items.append(p)

    def count(self, k: int) -> None:
        self.total += k

    def room(self) -> int:
        return max(0, MAX_LISTED - len(self.items))

    @property
    def any(self) -> bool:
        return self.total > 0

    def listed(self) -> list[Problem]:
        items = sorted(self.items, key=lambda p: (p.row is not None, p.row or 0))
        if self.total > len(items):
            items.append(Problem(None, None, None, f"còn {self.total - len(items)} lỗi khác không liệt kê "
                                 f"(tổng cộng {self.total} lỗi); hãy sửa các lỗi trên rồi nhập lại"))
        return items


# =========================================================================== value normalisers
_PERIOD_BAD = "kỳ đánh giá không hợp lệ; dùng dạng 2025, 2025-H1 (6 tháng) hoặc 2025-Q3 (quý)"
_STAGE_VI = {"self": "tự chấm", "appraised": "thẩm định"}
_NOT_TABULAR = ("không phải tệp CSV hay XLSX (nội dung không phải bảng chữ); hãy lưu bảng điểm từ Excel dạng "
                "'CSV UTF-8' hoặc '.xlsx'")


def _unit_of(raw: Any) -> tuple:
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


def _period_of(raw: Any) -> str | None:
    s = nfc(str(raw)).strip().upper()
    s = re.sub(r"^(NĂM|NAM|KỲ|KY)\s+", "", s)
    s = re.sub(r"\.0+$", "", s)
    s = re.sub(r"\s*[-_/ ]\s*", "-", s)
    return s if PERIOD_RE.match(s) else None


def _stage_of(raw: Any) -> str | None:
    if raw is None:
        return None
    return _STAGE_WORDS.get(fold(raw))


def _criterion_of(raw: Any, known: Mapping[str, Any]) -> tuple:
    s = str(raw).strip()
    if s in known:
        return (s,)
    up = s.upper()
    if up in known:
        return (up,)
    for code in known:
        if code.casefold() == s.casefold():
            return (code,)
    return (None,)


def _unknown_criterion(raw: str | None, known: Mapping[str, Any]) -> str:
    codes = sorted(known)
    close = difflib.get_close_matches(str(raw).strip().upper(), codes, n=1, cutoff=0.5)
    hint = f"; có phải '{close[0]}'?" if close else ""
    if not codes:
        return "không có tiêu chí này (chưa xác định được bộ tiêu chí của kỳ)"
    return f"không có tiêu chí này trong bộ tiêu chí (các mã: {', '.join(codes)}){hint}"


def _number_of(raw: Any, decimal_comma: bool) -> tuple:
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
    w = _PASS_WORDS.get(fold(raw))
    if w is not None:  # 'đạt' / 'không đạt': accepted only for pass/fail criteria (see _check_values)
        return (w, True)
    return (None, False)


def _is_blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


# =========================================================================== header handling
@dataclass
class _ValueSpec:
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


def _assign_columns(header: list[str], framework_for, period_arg) -> tuple[dict, list[str], str, list[Problem]]:
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
        for j, code in crit_cols:
            ignored.append(header[j].strip())
        ignored.extend(unknown_crit)
        values = []
        if "score" in roles:
            values.append(_ValueSpec(roles["score"], None, None))
        for f, st in (("score_self", "self"), ("score_appraised", "appraised")):
            if f in roles:
                if "score" in roles:
                    ignored.append(header[roles[f]].strip())
                else:
                    values.append(_ValueSpec(roles[f], None, st))
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
        roles["values"] = [_ValueSpec(j, code, None) for j, code in crit_cols]
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
    argument's period, else every period's framework (``framework_for.all_codes``), else
    the framework handed to read_upload, else the default one."""
    if period_arg:
        fw = framework_for(_period_of(period_arg) or period_arg)
        if isinstance(fw, Framework):
            return list(fw.criteria)
    codes = getattr(framework_for, "all_codes", None)
    if codes:
        return list(codes)
    fw = framework_for("*")
    if isinstance(fw, Framework):
        return list(fw.criteria)
    from .criteria import default_framework

    try:
        return list(default_framework().criteria)
    except Exception:
        return []


def _row_score(cells: list[str]) -> int:
    fields = {_header_field(c) for c in cells if c and c.strip()}
    fields.discard(None)
    if "unit_code" not in fields:
        return 0
    return len(fields)


def _find_header_rows(rows: list[list[str]]) -> int | None:
    """The first row that names the unit-code column and at least one other known column."""
    for i, cells in enumerate(rows[: HEADER_SCAN_ROWS + 1]):
        fields = {_header_field(c) for c in cells if c and c.strip()}
        fields.discard(None)
        if "unit_code" in fields and len(fields) >= 2:
            return i
        if "unit_code" in fields and any(_CRIT_LIKE.match(c.strip()) for c in cells if c):
            return i
    return None


def _lines(text: str) -> list[str]:
    """Physical lines with their ends (CRLF, LF or CR), unlike str.splitlines which also
    splits on form feeds and Unicode separators that CSV readers keep inside a line."""
    return [line for line in re.split(r"(?<=\n)|(?<=\r)(?!\n)", text) if line]


def _split(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter), [])
    except csv.Error:
        return line.rstrip("\r\n").split(delimiter)


def _find_header_text(lines: list[str]) -> tuple[str, int, list[str]] | None:
    best = None
    for d in ("\t", ";", ","):
        rows = [_split(line, d) for line in lines]
        idx = _find_header_rows(rows)
        if idx is None:
            continue
        score = (_row_score(rows[idx]) + len(rows[idx]) / 1000, -idx)
        if best is None or score > best[0]:
            best = (score, d, idx, rows[idx])
    if best is None:
        return None
    _, d, idx, header = best
    return d, idx, [nfc(c) for c in header]


def _guess_cells(lines: list[str]) -> list[list[str]]:
    d = max(("\t", ";", ","), key=lambda x: sum(line.count(x) for line in lines))
    return [_split(line, d) for line in lines]


# =========================================================================== CSV parsing
def _parse_fast(body: bytes, delimiter: str, width: int, header_row: int):
    """pyarrow's C reader; None when the file needs the exact slow path (blank lines,
    line breaks inside cells, ragged rows), so row numbers always match Excel."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    trimmed = body.rstrip(b"\r\n")
    if b"\n\n" in trimmed or b"\n\r\n" in trimmed:
        return None
    if b"\r" in trimmed and trimmed.count(b"\r") != trimmed.count(b"\r\n"):  # old Mac line ends, a stray CR
        return None
    quoted = b'"' in trimmed
    ragged = []

    def on_invalid(row):
        ragged.append(row)
        return "skip"

    names = [f"c{j}" for j in range(width)]
    try:
        table = pcsv.read_csv(
            io.BytesIO(trimmed),
            read_options=pcsv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 22),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True,
                                            newlines_in_values=quoted, ignore_empty_lines=False,
                                            invalid_row_handler=on_invalid),
            convert_options=pcsv.ConvertOptions(column_types={c: pa.large_string() for c in names},
                                                strings_can_be_null=True, null_values=[""],
                                                quoted_strings_can_be_null=True),
        )
    except (pa.ArrowInvalid, pa.ArrowException, ValueError):
        return None
    if ragged:
        return None
    n = table.num_rows
    physical = trimmed.count(b"\n")  # lines after the header
    if physical != n:
        return None  # a line break inside a quoted cell: count rows exactly instead
    columns = [table.column(name).to_pandas() for name in names]
    rownum = np.arange(header_row + 1, header_row + 1 + n, dtype=np.int64)
    return columns, rownum, []


def _parse_slow(body: str, delimiter: str, width: int, header_row: int):
    """Python's csv module: every record counted, blank lines included, ragged rows reported."""
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter, quotechar='"', doublequote=True,
                        strict=False)
    problems: list[Problem] = []
    cols: list[list] = [[] for _ in range(width)]
    rownum: list[int] = []
    try:
        next(reader)  # the header
        for k, record in enumerate(reader):
            excel_row = header_row + 1 + k
            if not record or all(not c.strip() for c in record):
                continue
            if len(record) > width and all(not c.strip() for c in record[width:]):
                record = record[:width]
            if len(record) != width:
                problems.append(Problem(excel_row, None, None,
                                        f"dòng có {len(record)} ô nhưng dòng tiêu đề có {width} cột "
                                        "(thừa hoặc thiếu dấu phân cách, hoặc dấu ngoặc kép chưa đóng)"))
                continue
            rownum.append(excel_row)
            for j, c in enumerate(record):
                cols[j].append(c if c.strip() else None)
    except csv.Error as exc:
        problems.append(Problem(header_row + 1 + len(rownum), None, None, f"không đọc được dòng CSV ({exc})"))
    columns = [_strings(c) for c in cols]
    return columns, np.asarray(rownum, dtype=np.int64), problems


def _strings(values: list) -> pd.Series:
    return pd.Series(pd.array(values, dtype="str"))


# =========================================================================== decoding
def _sniff(data: bytes) -> str:
    """'xlsx', 'text', or the reason the file is neither."""
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return ("tệp Excel 97-2003 (.xls) chưa được hỗ trợ; hãy mở bằng Excel và lưu lại dạng .xlsx "
                "hoặc 'CSV UTF-8'")
    if data[:5] == b"%PDF-":
        return "tệp PDF không nhập được; hãy gửi bảng điểm dạng .xlsx hoặc CSV UTF-8"
    if data.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")):
        return _NOT_TABULAR
    return "text"


def _decode(data: bytes) -> tuple[str, str | None, str | None]:
    """(text, encoding, problem): UTF-8 ± BOM, UTF-16 (BOM or not), else Windows-1258 when
    it yields real Vietnamese, else a clear refusal."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig", None
        except UnicodeDecodeError as exc:
            return "", "utf-8-sig", _bad_utf8(data[3:], exc)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16", None
        except UnicodeDecodeError:
            return "", "utf-16", "tệp UTF-16 bị hỏng (số byte lẻ hoặc ký tự không hợp lệ); hãy lưu lại từ Excel"
    head = data[:4000]
    if len(head) >= 4:
        even_zero = head[0::2].count(0) / max(1, len(head[0::2]))
        odd_zero = head[1::2].count(0) / max(1, len(head[1::2]))
        if odd_zero > 0.3 and even_zero < 0.05 or even_zero > 0.3 and odd_zero < 0.05:
            enc = "utf-16-le" if odd_zero > even_zero else "utf-16-be"
            try:
                return data.decode(enc), enc, None
            except UnicodeDecodeError:
                return "", enc, "tệp có vẻ là UTF-16 nhưng bị hỏng; hãy lưu lại từ Excel"
    try:
        return data.decode("utf-8"), "utf-8", None
    except UnicodeDecodeError as exc:
        utf8_exc = exc
    if b"\x00" in head:
        return "", None, _NOT_TABULAR
    try:
        text = data.decode("cp1258")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        composed = nfc(text)
        odd = _implausible_vietnamese(composed)
        if odd is None:
            return composed, "cp1258", None
    return "", None, _bad_utf8(data, utf8_exc)


def _implausible_vietnamese(text: str) -> str | None:
    """The first character that no Vietnamese text in Windows-1258 would produce, else None."""
    for ch in set(re.findall(r"[^\x00-\x7f]", text)):
        if ch in _VI_ALLOWED:
            continue
        return ch
    if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text):
        return "\x00"
    return None


def _bad_utf8(data: bytes, exc: UnicodeDecodeError) -> str:
    line = data[: exc.start].count(b"\n") + 1
    return (f"không đọc được bảng mã của tệp (dòng {line} có byte không hợp lệ trong UTF-8, và cũng không phải "
            "Windows-1258; có thể là TCVN3/ABC hoặc VNI). Hãy mở tệp bằng Excel và lưu lại dạng "
            "'CSV UTF-8 (Comma delimited)' hoặc .xlsx")


def _mojibake(text: str) -> str | None:
    """A word that is UTF-8 misread as Windows-1252/1258 (e.g. 'Ä‘Æ¡n' for 'đơn'), else None."""
    if text.isascii():
        return None
    for run in re.findall(r"[^\x00-\x7f]{2,}", text[:2_000_000])[:5000]:
        for enc in ("cp1252", "cp1258", "latin-1"):
            try:
                fixed = run.encode(enc).decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
            if fixed != run and not fixed.isascii():
                return run
    return None


def _binary_share(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\r\n") or 0x7f <= ord(ch) < 0xa0)
    return bad / len(text)


def _cell_text(v: Any) -> str | None:
    """An XLSX cell as text, the way a user typed it: 97.0 → '97', '  4,5 ' stays for the parser."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, int):
        return str(v)
    if hasattr(v, "isoformat"):
        return v.isoformat()
    s = str(v)
    return s if s.strip() else None


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB".replace(".", ",")


# =========================================================================== exports & templates




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
