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

from .criteria import Framework, Kind

MAX_BYTES = 50 * 1024 * 1024
MAX_LISTED = 1000  # problems listed one by one; the rest are counted
HEADER_SCAN_ROWS = 30  # title rows above the header that we look through
STAGES = ("self", "appraised")
LONG_COLUMNS = ["unit_code", "period", "criterion_code", "score", "stage", "evidence", "note"]
ROW_COLUMNS = ["unit_code", "period", "criterion_code", "stage", "value", "evidence", "note"]
PERIOD_RE = re.compile(r"^\d{4}(-(H[12]|Q[1-4]))?$")


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
    units = store.unit_names(con)
    cache: dict[str, Framework | str] = {}

    def framework_for(p: str) -> Framework | str:
        if p not in cache:
            try:
                cache[p] = store.framework_for_period(con, p)
            except store.StoreError as exc:
                cache[p] = str(exc)
        return cache[p]

    parsed = _read_safely(data, filename, framework_for, units, period, stage, sheet, max_bytes)
    if not parsed.ok:
        raise UploadRejected(parsed.problems, parsed)
    tell(0.6, f"Đã kiểm tra {len(parsed.rows)} dòng; đang ghi")
    try:
        result = store.write_batch(con, parsed.rows, actor=actor, filename=filename,
                                   content_hash=parsed.content_hash, dry_run=dry_run)
    except store.StoreError:
        raise
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise store.StoreError(f"Không ghi được vào cơ sở dữ liệu: {first}. Không có dữ liệu nào được ghi.") from None
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
        text, encoding, problem = _decode(self.data)
        self.info["encoding"] = encoding
        if problem:
            return [Problem(None, None, None, problem)]
        if "\x00" in text[:100_000] or _binary_share(text[:4096]) > 0.1:
            return [Problem(None, None, None, _NOT_TABULAR)]
        bad = _mojibake(text)
        if bad:
            return [Problem(None, None, bad, "tệp có chữ bị lỗi mã hóa (mojibake, ví dụ 'Ä‘' thay cho 'đ'): "
                            "tệp đã bị chuyển bảng mã sai trước đó. Hãy lấy lại tệp gốc hoặc sửa các chữ này, "
                            "lưu dạng 'CSV UTF-8'")]
        if "\ufffd" in text:
            line = text[: text.index("\ufffd")].count("\n") + 1
            return [Problem(line, None, None, "tệp có ký tự lỗi '\ufffd' (chữ đã bị hỏng khi chuyển bảng mã); "
                            "hãy sửa hoặc lấy lại tệp gốc")]
        text = nfc(text)
        head_lines = text[:1_000_000].splitlines(keepends=True)[: HEADER_SCAN_ROWS + 1]
        found = _find_header_text(head_lines)
        if found is None:
            return [self._no_header_problem(_guess_cells(head_lines))]
        delimiter, idx, header = found
        self.info["delimiter"] = delimiter
        self.info["header_row"] = idx + 1
        offset = sum(len(line) for line in head_lines[:idx])
        body = text[offset:]
        table = _parse_fast(body, delimiter, len(header), idx + 1)
        if table is None:
            table = _parse_slow(body, delimiter, len(header), idx + 1)
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
        if not roles.get("values"):
            return self._finish(_empty_rows(), problems, ignored, layout, 0, 0)

        n = len(t.rownum)
        col = lambda role: t.columns[roles[role]] if role in roles else None  # noqa: E731
        hdr = lambda role: t.header[roles[role]].strip() if role in roles else None  # noqa: E731
        # drop rows where every cell is empty (Excel pads sheets with them)
        nonblank = np.zeros(n, dtype=bool)
        for c in t.columns:
            nonblank |= c.notna().to_numpy()
        if n and not nonblank.all():
            keep = np.flatnonzero(nonblank)
            t = _Table(t.header, [c.iloc[keep].reset_index(drop=True) for c in t.columns], t.rownum[keep],
                       t.header_row, t.decimal_comma)
            n = len(keep)
        if n == 0:
            problems.add(Problem(None, None, None, "tệp chỉ có dòng tiêu đề, không có dòng dữ liệu nào"))
            return self._finish(_empty_rows(), problems, ignored, layout, 0, 0)

        # --- per-row columns, each normalised on its distinct values
        unit = _Column(col("unit_code"), _unit_of)
        unit_err_msg = self._unit_messages(unit, col("unit_name"))
        if "period" in roles:
            per = _Column(col("period"), lambda v: (_period_of(v),), default=_period_of(self.period_arg or ""))
        else:
            per = _Column.constant(n, _period_of(self.period_arg or ""))
        if "stage" in roles:
            stg = _Column(col("stage"), lambda v: (_stage_of(v),), default=_stage_of(self.stage_arg) or "appraised")
        else:
            stg = _Column.constant(n, _stage_of(self.stage_arg) or "appraised")
        evidence = _clean_text(col("evidence")) if "evidence" in roles else None
        note = _clean_text(col("note")) if "note" in roles else None
        crit = None
        crit_codes_all = self._all_criterion_codes(per)
        if layout == "long":
            crit = _Column(col("criterion_code"), lambda v: _criterion_of(v, crit_codes_all))

        row_bad = np.zeros(n, dtype=bool)

        def report(mask: np.ndarray, column: str | None, values: Iterable, reasons: Iterable) -> None:
            idx = np.flatnonzero(mask)
            problems.count(len(idx))
            for i, v, r in zip(idx[: problems.room()], values, reasons):
                problems.add(Problem(int(t.rownum[i]), column, v, r), counted=True)

        # row-level problems, in column order
        m = unit.bad
        report(m, hdr("unit_code"), _raw_at(unit, m), (unit_err_msg(v) for v in _raw_at(unit, m)))
        row_bad |= m
        m = per.bad
        report(m, hdr("period"), _raw_at(per, m), (_PERIOD_BAD for _ in iter(int, 1)))
        row_bad |= m
        period_bad = per.bad.copy()
        for p in per.distinct():
            fw = self.framework_for(p)
            if not isinstance(fw, Framework):
                m = per.values == p
                k = int(m.sum())
                first = int(t.rownum[np.flatnonzero(m)[0]])
                problems.add(Problem(first, hdr("period"), p, f"{str(fw).rstrip('.')} ({k} dòng có kỳ này)"))
                row_bad |= m
                period_bad |= m
        m = per.missing
        report(m, hdr("period"), (None for _ in iter(int, 1)),
               (("không có kỳ đánh giá: điền cột kỳ hoặc chọn kỳ khi nhập (--period)") for _ in iter(int, 1)))
        row_bad |= m
        if "stage" in roles:
            m = stg.bad
            report(m, hdr("stage"), _raw_at(stg, m),
                   ("giai đoạn không hợp lệ; chỉ nhận 'tự chấm' (self) hoặc 'thẩm định' (appraised)"
                    for _ in iter(int, 1)))
            row_bad |= m
        if crit is not None:
            m = crit.bad & ~period_bad
            report(m, hdr("criterion_code"), _raw_at(crit, m),
                   (_unknown_criterion(v, crit_codes_all) for v in _raw_at(crit, m)))
            row_bad |= m
            m = crit.missing
            report(m, hdr("criterion_code"), (None for _ in iter(int, 1)),
                   ("thiếu mã tiêu chí" for _ in iter(int, 1)))
            row_bad |= m
        m = unit.missing
        report(m, hdr("unit_code"), (None for _ in iter(int, 1)), ("thiếu mã đơn vị" for _ in iter(int, 1)))
        row_bad |= m

        # --- one piece per value column (long: score; two-stage long; wide: each criterion)
        pieces = []
        blank = 0
        for spec in roles["values"]:
            raw = t.columns[spec.index]
            vcol = _Column(raw, lambda v: _number_of(v, t.decimal_comma))
            present = ~vcol.missing
            blank += int((~present & ~row_bad).sum())
            if spec.criterion is not None:
                c_codes = np.full(n, spec.criterion, dtype=object)
            else:
                c_codes = crit.values
            s_values = stg.values if spec.stage is None else np.full(n, spec.stage, dtype=object)
            checked = self._check_values(vcol, c_codes, s_values, per.values, present & ~row_bad,
                                         t.header[spec.index].strip(), report)
            pieces.append((present, vcol, c_codes, s_values, checked))

        # --- assemble the long rows (bad rows are left out)
        frames = []
        for present, vcol, c_codes, s_values, checked in pieces:
            keep = np.flatnonzero(present & ~row_bad & checked)
            frames.append(pd.DataFrame({
                "unit_code": _take_str(unit.values, keep),
                "period": _take_str(per.values, keep),
                "criterion_code": _take_str(c_codes, keep),
                "stage": _take_str(s_values, keep),
                "value": vcol.as_float()[keep],
                "evidence": _take_text(evidence, keep),
                "note": _take_text(note, keep),
                "_row": t.rownum[keep],
            }))
        rows = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        rows, dupes = self._duplicates(rows, problems)
        if rows.empty and not problems.any:
            problems.add(Problem(None, None, None, "tệp không có điểm nào (các ô điểm đều để trống)"))
        return self._finish(rows.drop(columns="_row").reset_index(drop=True), problems, ignored, layout, blank, dupes)

    def _finish(self, rows, problems, ignored, layout, blank, dupes) -> ParsedUpload:
        info = {k: v for k, v in self.info.items() if k != "layout"}
        return ParsedUpload(rows, problems.listed(), ignored, layout, self.hash, problem_count=problems.total,
                            blank_cells=blank, duplicate_rows=dupes, **info)

    def _all_criterion_codes(self, per: "_Column") -> dict[str, dict[str, Any]]:
        """criterion code → {period: Criterion} for the periods in the file (one framework each)."""
        out: dict[str, dict[str, Any]] = {}
        period_bad = per.bad.copy()
        for p in per.distinct():
            fw = self.framework_for(p)
            if isinstance(fw, Framework):
                for code, c in fw.criteria.items():
                    out.setdefault(code, {})[p] = c
        return out

    def _check_values(self, vcol, c_codes, s_values, periods, active, column, report) -> np.ndarray:
        """Range, kind and stage checks per (period, criterion); returns the rows that pass."""
        n = len(active)
        ok = np.ones(n, dtype=bool)
        nonnum = active & vcol.bad
        report(nonnum, column, _raw_at(vcol, nonnum),
               ("điểm phải là số (dùng dấu chấm hoặc dấu phẩy thập phân, không có chữ)" for _ in iter(int, 1)))
        ok &= ~nonnum
        active = active & ~vcol.bad
        if not active.any():
            return ok
        codes, uniques = _pair_codes(periods, c_codes)  # few distinct (period, criterion) pairs
        words = vcol.extra  # True where the value was a word such as 'đạt'
        values = vcol.as_float()
        for k, (p, code) in enumerate(uniques):
            sel = active & (codes == k)
            if not sel.any():
                continue
            fw = self.framework_for(p)
            if not isinstance(fw, Framework):
                report(sel & _first_only(sel), None, [p], [f"{fw}"])
                ok &= ~sel
                continue
            c = fw.criteria.get(code)
            if c is None:  # the criterion exists in another period's framework, not this one
                report(sel, column, (code for _ in iter(int, 1)),
                       (f"tiêu chí '{code}' không có trong bộ tiêu chí của kỳ {p} ({fw.key})" for _ in iter(int, 1)))
                ok &= ~sel
                continue
            v = values
            if c.kind is Kind.pass_fail:
                bad = sel & ~((v == 0.0) | (v == 1.0))
                reason = f"tiêu chí {code} là đạt / không đạt: chỉ nhận 1 (đạt) hoặc 0 (không đạt)"
            else:
                vmax = c.value_max
                bad = sel & (words | (v < 0) | ((v > vmax) if vmax is not None else False))
                if c.kind is Kind.penalty:
                    reason = f"điểm trừ của tiêu chí {code} ghi số dương, từ 0 đến {vmax:g}"
                elif vmax is None:
                    reason = f"tiêu chí {code} ({c.value_hint()}) phải là số không âm"
                else:
                    reason = f"điểm của tiêu chí {code} phải từ 0 đến {vmax:g}"
            report(bad, column, _raw_at(vcol, bad), (reason for _ in iter(int, 1)))
            ok &= ~bad
            if c.appraiser_only:
                selfish = sel & ~bad & (s_values == "self")
                report(selfish, column, _raw_at(vcol, selfish),
                       (f"tiêu chí {code} chỉ do cấp trên chấm (thẩm định), không có điểm tự chấm"
                        for _ in iter(int, 1)))
                ok &= ~selfish
        return ok

    def _duplicates(self, rows: pd.DataFrame, problems: "_Problems") -> tuple[pd.DataFrame, int]:
        """The same key twice: identical rows are kept once, different values are a problem."""
        if len(rows) < 2:
            return rows, 0
        keys = ["unit_code", "period", "criterion_code", "stage"]
        dup = rows.duplicated(keys, keep=False).to_numpy()
        if not dup.any():
            return rows, 0
        d = rows[dup]
        same_all = d.duplicated(keys + ["value", "evidence", "note"], keep="first").to_numpy()
        exact_dupes = int(same_all.sum())
        d_unique = d[~same_all]
        conflict = d_unique.duplicated(keys, keep="first").to_numpy()
        if conflict.any():
            first_row = d_unique.groupby(keys, sort=False)["_row"].transform("first").to_numpy()
            first_val = d_unique.groupby(keys, sort=False)["value"].transform("first").to_numpy()
            bad = d_unique[conflict]
            problems.count(len(bad))
            for (_, r), fr, fv in zip(bad.iloc[: problems.room()].iterrows(), first_row[conflict], first_val[conflict]):
                problems.add(Problem(int(r["_row"]), None, f"{r['value']:g}",
                                     f"trùng với dòng {int(fr)} (cùng đơn vị {r['unit_code']}, kỳ {r['period']}, "
                                     f"tiêu chí {r['criterion_code']}, giai đoạn {_STAGE_VI[r['stage']]}) nhưng khác "
                                     f"giá trị ({fv:g}); hãy giữ lại một dòng"), counted=True)
        drop = d.index[same_all]
        return rows.drop(index=drop), exact_dupes

    def _unit_messages(self, unit: "_Column", names: pd.Series | None) -> Callable[[str], str]:
        """Reason text for an unknown unit code, with the closest known code or name."""
        known = self.unit_codes
        by_name: dict[str, str] = {}
        for code, name in known.items():
            by_name.setdefault(fold(name), code)
        name_at: dict[str, str] = {}
        if names is not None:
            m = unit.bad
            for raw, nm in zip(_raw_at(unit, m), names.to_numpy()[np.flatnonzero(m)]):
                if isinstance(nm, str) and raw not in name_at:
                    name_at[raw] = nm
        cache: dict[str, str] = {}
        codes_list = list(known)

        def message(raw: str) -> str:
            if raw in cache:
                return cache[raw]
            norm = _unit_of(raw)[0] or str(raw).strip()
            hint = None
            nm = name_at.get(raw)
            if nm:
                f = fold(nm)
                if f in by_name:
                    hint = by_name[f]
                elif len(cache) < 200:
                    close = difflib.get_close_matches(f, list(by_name), n=1, cutoff=0.75)
                    hint = by_name[close[0]] if close else None
            if hint is None and len(cache) < 200 and codes_list:
                close = difflib.get_close_matches(norm, codes_list, n=1, cutoff=0.6)
                hint = close[0] if close else None
            if not known:
                text = f"không có đơn vị mã '{norm}' (danh sách đơn vị đang trống)"
            elif hint:
                text = f"không có đơn vị mã '{norm}'; có phải '{hint}' ({known[hint]})?"
            else:
                text = f"không có đơn vị mã '{norm}' trong danh sách {len(known)} đơn vị"
            cache[raw] = text
            return text

        unit.valid_set(known)
        return message


# =========================================================================== columns
class _Column:
    """A column normalised on its distinct values: ``values`` (per row), ``bad``, ``missing``."""

    def __init__(self, series: pd.Series | None, normalise: Callable[[str], tuple], default: Any = None):
        if series is None:
            raise ValueError("column required")
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        k = len(uniques)
        norm = np.empty(k + 1, dtype=object)
        bad = np.zeros(k + 1, dtype=bool)
        extra = np.zeros(k + 1, dtype=bool)
        for i, raw in enumerate(uniques):
            out = normalise(raw)
            norm[i] = out[0]
            bad[i] = out[0] is None
            extra[i] = bool(out[1]) if len(out) > 1 else False
        norm[k] = default  # NaN (code -1) → the default, or missing
        self._codes = codes
        self._uniques = np.asarray(list(uniques) + [None], dtype=object)
        self._norm = norm
        self._bad = bad
        self._missing_default = default is None
        self._extra = extra
        self._valid: np.ndarray | None = None

    @classmethod
    def constant(cls, n: int, value: Any) -> "_Column":
        self = cls.__new__(cls)
        self._codes = np.full(n, -1, dtype=np.intp)
        self._uniques = np.asarray([None], dtype=object)
        self._norm = np.asarray([value], dtype=object)
        self._bad = np.zeros(1, dtype=bool)
        self._missing_default = value is None
        self._extra = np.zeros(1, dtype=bool)
        self._valid = None
        return self

    def valid_set(self, allowed: Mapping[str, Any]) -> None:
        """Mark normalised values outside ``allowed`` as bad (e.g. unknown unit codes)."""
        extra_bad = np.array([v is not None and v not in allowed for v in self._norm], dtype=bool)
        extra_bad[-1] = False
        self._bad = self._bad | extra_bad

    def distinct(self) -> list:
        used = np.unique(self._codes)
        return [self._norm[i] for i in used if self._norm[i] is not None and not self._bad[i]]

    @property
    def values(self) -> np.ndarray:
        return self._norm[self._codes]

    def as_float(self) -> np.ndarray:
        norm = np.array([np.nan if v is None else v for v in self._norm], dtype="float64")
        return norm[self._codes]

    @property
    def bad(self) -> np.ndarray:
        b = self._bad.copy()
        b[-1] = False
        return b[self._codes]

    @property
    def missing(self) -> np.ndarray:
        if not self._missing_default:
            return np.zeros(len(self._codes), dtype=bool)
        return self._codes == -1

    @property
    def extra(self) -> np.ndarray:
        return self._extra[self._codes]

    def raw(self, idx: np.ndarray) -> np.ndarray:
        return self._uniques[self._codes[idx]]


def _raw_at(col: _Column, mask: np.ndarray) -> list:
    idx = np.flatnonzero(mask)[:MAX_LISTED]
    return [None if v is None else str(v) for v in col.raw(idx)]


def _pair_codes(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, list[tuple]]:
    ca, ua = pd.factorize(pd.Series(a, dtype=object), use_na_sentinel=True)
    cb, ub = pd.factorize(pd.Series(b, dtype=object), use_na_sentinel=True)
    combined = ca.astype(np.int64) * (len(ub) + 1) + cb
    codes, uniq = pd.factorize(combined)
    pairs = []
    for u in uniq:
        ia, ib = divmod(int(u), len(ub) + 1)
        pairs.append((ua[ia] if ia >= 0 else None, ub[ib] if 0 <= ib < len(ub) else None))
    return codes, pairs


def _first_only(mask: np.ndarray) -> np.ndarray:
    out = np.zeros_like(mask)
    idx = np.flatnonzero(mask)
    if len(idx):
        out[idx[0]] = True
    return out


def _take_str(values: np.ndarray, keep: np.ndarray) -> pd.Series:
    return pd.Series(pd.array(values[keep], dtype="str"))


def _take_text(series: pd.Series | None, keep: np.ndarray) -> pd.Series:
    if series is None:
        return pd.Series(pd.array(np.full(len(keep), None, dtype=object), dtype="str"))
    return series.iloc[keep].reset_index(drop=True)


def _clean_text(series: pd.Series) -> pd.Series:
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
    s = str(raw).strip().replace("\u00a0", "")
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
    if decimal_comma and "," in s:
        if "." in s or s.count(",") > 1:
            return (None, False)
        s = s.replace(",", ".")
    if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", s):
        v = float(s)
        return (v, False) if math.isfinite(v) else (None, False)
    w = _PASS_WORDS.get(fold(raw))
    if w is not None:
        return (w, True)
    return (None, False)


# pass-fail words are only accepted for pass_fail criteria: _check_values rejects them elsewhere
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
    fw = _any_framework(framework_for, period_arg)
    codes = list(fw.criteria) if fw is not None else []
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
    # empty-named columns with data are reported by the caller as ignored only if named
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
        for f in ("criterion_name",):
            if f in roles:
                ignored.append(header[roles[f]].strip())
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
    for f in ("unit_name", "criterion_name"):
        if f in roles and layout == "long" and f == "criterion_name":
            ignored.append(header[roles[f]].strip())
    return roles, ignored, layout, problems


def _any_framework(framework_for, period_arg) -> Framework | None:
    """A framework to recognise criterion columns in a wide header (before periods are read)."""
    for p in ([period_arg] if period_arg else []) + ["*"]:
        try:
            fw = framework_for(_period_of(p) or p)
        except Exception:
            fw = None
        if isinstance(fw, Framework):
            return fw
    from .criteria import default_framework

    try:
        return default_framework()
    except Exception:
        return None


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
def _parse_fast(body: str, delimiter: str, width: int, header_row: int):
    """pyarrow's C reader; None when the file needs the exact slow path (blank lines,
    line breaks inside cells, ragged rows), so row numbers always match Excel."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    trimmed = body.rstrip("\r\n")
    if "\n\n" in trimmed or "\n\r\n" in trimmed or "\r\r" in trimmed:
        return None
    quoted = '"' in trimmed
    if "\r" in trimmed.replace("\r\n", ""):  # old Mac line ends
        return None
    ragged = []

    def on_invalid(row):
        ragged.append(row)
        return "skip"

    names = [f"c{j}" for j in range(width)]
    raw = trimmed.encode("utf-8")
    try:
        table = pcsv.read_csv(
            io.BytesIO(raw),
            read_options=pcsv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 22),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True,
                                            newlines_in_values=quoted, ignore_empty_lines=False,
                                            invalid_row_handler=on_invalid),
            convert_options=pcsv.ConvertOptions(column_types={c: pa.string() for c in names},
                                                strings_can_be_null=True, null_values=[""],
                                                quoted_strings_can_be_null=True),
        )
    except (pa.ArrowInvalid, pa.ArrowException, ValueError):
        return None
    if ragged:
        return None
    n = table.num_rows
    physical = trimmed.count("\n")  # lines after the header
    if physical != n:
        return None  # a line break inside a quoted cell: count rows exactly instead
    columns = []
    for name in names:
        s = table.column(name).to_pandas()
        columns.append(_strip_nulls(s))
    rownum = np.arange(header_row + 1, header_row + 1 + n, dtype=np.int64)
    return columns, rownum, []


def _strip_nulls(s: pd.Series) -> pd.Series:
    """Whitespace-only cells count as empty."""
    if s.dtype != "str":
        s = s.astype("str")
    blank = s.str.strip() == ""
    if blank.any():
        s = s.where(~blank, None)
    return s


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
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A cell that a spreadsheet will show as text, never run as a formula (CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells (and headers) cannot start a formula in Excel."""
    out = df.copy()
    for c in out.columns:
        s = out[c]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            out[c] = s.map(safe_cell, na_action="ignore")
    out.columns = [safe_cell(c) for c in out.columns]
    return out


def template_frame(framework: Framework, unit_codes: Mapping[str, str] | Iterable[str], period: str,
                   layout: str = "long") -> pd.DataFrame:
    """An upload template to fill in: one row per unit (wide) or per unit × criterion (long)."""
    units = sorted(unit_codes)
    codes = list(framework.criteria)
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
