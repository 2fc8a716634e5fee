"""Reading an uploaded file into a grid of strings: byte sniffing, decoding (UTF-8 ± BOM,
UTF-16, Windows-1258; refusing U+FFFD, mojibake and binary content), CSV (pyarrow's C reader,
Python's csv module when row numbers need it) and XLSX, and finding the header row.

One reader for every importer: the score importer (``ingest``) and the model-registry
importer (``model_upload``) hand it their own header rule and get the same guarantees.

XLSX files are zip archives that declare their own size, so they are checked before they
are opened (entry count, each entry's declared uncompressed size and compression ratio) and
their rows are streamed cell by cell, never padded to the declared ``<dimension>``; rows,
columns and cell length are capped (``Limits``). Python's zipfile never inflates an entry past
its declared size, so the declared sizes are a real bound.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import struct
import zipfile
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from .text import clean, fold, has_bidi, nfc, strip_bidi
from .uploads import Problem

HEADER_SCAN_ROWS = 30  # title rows above the header that we look through


# =========================================================================== limits
def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


@dataclass(frozen=True)
class Limits:
    """Caps on what one upload may hold; each default can be overridden by an environment
    variable (``DANVAN_MAX_ROWS`` …) or by passing another ``Limits``.

    The defaults fit the largest real file with room: the national long file is 3,321 units ×
    20 criteria × 15 periods = 996,300 rows (the benchmark's file; an XLSX sheet holds at most
    1,048,576 rows anyway); a wide file has a column per criterion and stage (under 100) and a
    model list about 20; Excel itself stores at most 32,767 characters in a cell; a real .xlsx
    has 10–30 zip entries, parts a few hundred MB at most when inflated, and compresses sheet
    XML 5–30×, so a part that inflates more than 200× is a bomb, not a spreadsheet.
    """

    max_rows: int = field(default_factory=lambda: _env_int("DANVAN_MAX_ROWS", 1_100_000))
    max_columns: int = field(default_factory=lambda: _env_int("DANVAN_MAX_COLUMNS", 500))
    max_cell_chars: int = field(default_factory=lambda: _env_int("DANVAN_MAX_CELL_CHARS", 32_767))
    max_zip_entries: int = field(default_factory=lambda: _env_int("DANVAN_MAX_ZIP_ENTRIES", 1_000))
    max_entry_bytes: int = field(default_factory=lambda: _env_int("DANVAN_MAX_ENTRY_BYTES", 300 * 1024 * 1024))
    max_total_bytes: int = field(default_factory=lambda: _env_int("DANVAN_MAX_UNZIPPED_BYTES", 600 * 1024 * 1024))
    max_ratio: int = field(default_factory=lambda: _env_int("DANVAN_MAX_ZIP_RATIO", 200))


RATIO_FLOOR = 1024 * 1024  # entries smaller than this inflated are never too compressed to read


def _vn(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def check_bytes(data: bytes, max_bytes: int) -> str | None:
    """Why the raw bytes cannot be read at all (too large, empty), else None."""
    if len(data) > max_bytes:
        return (f"tệp quá lớn ({mb(len(data))}); giới hạn là {mb(max_bytes)}. "
                "Hãy chia tệp theo kỳ hoặc theo tỉnh")
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        return "tệp trống, không có dữ liệu"
    return None


# =========================================================================== the grid
@dataclass
class Grid:
    """A parsed table: raw header cells, string columns, and each row's number in Excel."""

    header: list[str]
    columns: list[pd.Series]  # str dtype, NaN for empty
    rownum: np.ndarray  # int64, 1-based as shown in Excel
    header_row: int
    decimal_comma: bool
    problems: list[Problem] = field(default_factory=list)


HeaderScore = Callable[[list[str]], "float | None"]  # a row's cells → None (not the header) or how good


def find_header(rows: list[list[str]], score: HeaderScore) -> int | None:
    """The first of the first rows that the importer's rule accepts as the header."""
    for i, cells in enumerate(rows[: HEADER_SCAN_ROWS + 1]):
        if score(cells) is not None:
            return i
    return None


def read_grid(data: bytes, *, header_score: HeaderScore, no_header: Callable[[list[list[str]]], str],
              sheet: str | None = None, limits: Limits | None = None,
              info: dict | None = None) -> Grid | list[Problem]:
    """The file as a ``Grid``, or the problems that stop it being read. ``info`` receives
    encoding, delimiter, sheet and header_row as they are found."""
    limits = limits or Limits()
    info = {} if info is None else info
    kind = sniff(data)
    if kind == "xlsx":
        grid = _read_xlsx(data, sheet, header_score, no_header, limits, info)
    elif kind == "text":
        grid = _read_text(data, header_score, no_header, limits, info)
    else:
        return [Problem(None, None, None, kind)]
    if isinstance(grid, list):
        return grid
    repeated = _repeated_columns(grid.header)
    if repeated:
        return repeated
    return grid


def _repeated_columns(header: list[str]) -> list[Problem]:
    seen: dict[str, int] = {}
    for cell in header:
        key = fold(cell) if cell and cell.strip() else ""
        if key:
            seen[key] = seen.get(key, 0) + 1
    first = {fold(c): c.strip() for c in reversed(header) if c and c.strip()}
    return [Problem(None, first[k], None, f"cột '{first[k]}' lặp lại {n} lần; mỗi cột chỉ được có một lần, "
                    "hãy xóa các cột thừa") for k, n in seen.items() if n > 1]


def _too_wide(width: int, limits: Limits) -> list[Problem]:
    return [Problem(None, None, None, f"tệp có {_vn(width)} cột, vượt giới hạn {_vn(limits.max_columns)} cột; "
                    "hãy xóa các cột thừa")]


def _too_long(n: int, limits: Limits) -> list[Problem]:
    return [Problem(None, None, None, f"tệp có {_vn(n)} dòng dữ liệu, vượt giới hạn {_vn(limits.max_rows)} dòng; "
                    "hãy chia tệp theo kỳ hoặc theo tỉnh")]


def _long_cell(row: int | None, column: str | None, length: int, limits: Limits) -> list[Problem]:
    return [Problem(row, column, None, f"ô dài {_vn(length)} ký tự, vượt giới hạn {_vn(limits.max_cell_chars)} "
                    "ký tự của một ô")]


# --------------------------------------------------------------------------- text files
def _decoded(data: bytes, info: dict) -> tuple[str | None, str | None] | list[Problem]:
    """(text or None for plain ASCII, the head to look for the header in)."""
    if data.isascii():  # the common national export: no decoding, no copies of the text
        if b"\x00" in data[:100_000] or _binary_share(data[:4096].decode("ascii")) > 0.1:
            return [Problem(None, None, None, NOT_TABULAR)]
        info["encoding"] = "ascii"
        return None, data[:1_000_000].decode("ascii")
    text, encoding, problem = _decode(data)
    info["encoding"] = encoding
    if problem:
        return [Problem(None, None, None, problem)]
    if "\x00" in text[:100_000] or _binary_share(text[:4096]) > 0.1:
        return [Problem(None, None, None, NOT_TABULAR)]
    bad = _mojibake(text)
    if bad:
        return [Problem(None, None, bad, "tệp có chữ bị lỗi mã hóa (mojibake, ví dụ 'Ä‘' thay cho 'đ'): "
                        "tệp đã bị chuyển bảng mã sai trước đó. Hãy lấy lại tệp gốc hoặc sửa các chữ "
                        "này, lưu dạng 'CSV UTF-8'")]
    if "\ufffd" in text:
        line = text[: text.index("\ufffd")].count("\n") + 1
        return [Problem(line, None, None, "tệp có ký tự lỗi '\ufffd' (chữ đã bị hỏng khi chuyển bảng "
                        "mã); hãy sửa hoặc lấy lại tệp gốc")]
    text = clean(text)
    return text, text[:1_000_000]


def _find_header_text(lines: list[str], score: HeaderScore) -> tuple[str, int, list[str]] | None:
    best = None
    for d in ("\t", ";", ","):
        rows = [_split(line, d) for line in lines]
        idx = find_header(rows, score)
        if idx is None:
            continue
        rank = (score(rows[idx]) + len(rows[idx]) / 1000, -idx)
        if best is None or rank > best[0]:
            best = (rank, d, idx, rows[idx])
    if best is None:
        return None
    _, d, idx, header = best
    return d, idx, [clean(c) for c in header]


def _guess_cells(lines: list[str]) -> list[list[str]]:
    d = max(("\t", ";", ","), key=lambda x: sum(line.count(x) for line in lines))
    return [_split(line, d) for line in lines]


def _read_text(data, header_score, no_header, limits: Limits, info: dict) -> Grid | list[Problem]:
    decoded = _decoded(data, info)
    if isinstance(decoded, list):
        return decoded
    text, head = decoded
    head_lines = _lines(head)[: HEADER_SCAN_ROWS + 1]
    found = _find_header_text(head_lines, header_score)
    if found is None:
        return [Problem(None, None, None, no_header(_guess_cells(head_lines)))]
    delimiter, idx, header = found
    if len(header) > limits.max_columns:
        return _too_wide(len(header), limits)
    info["delimiter"] = delimiter
    info["header_row"] = idx + 1
    offset = sum(len(line) for line in head_lines[:idx])
    body = data[offset:] if text is None else text[offset:].encode("utf-8")
    table = _parse_fast(body, delimiter, len(header), idx + 1)
    if table is None:
        table = _parse_slow(body.decode("utf-8"), delimiter, len(header), idx + 1)
    columns, rownum, problems = table
    if len(rownum) > limits.max_rows:
        return _too_long(len(rownum), limits)
    for j, col in enumerate(columns):
        lengths = col.str.len()
        if len(lengths) and lengths.max() > limits.max_cell_chars:
            i = int(lengths.to_numpy(dtype="float64", na_value=0).argmax())
            return _long_cell(int(rownum[i]), header[j].strip() or None, int(lengths.iloc[i]), limits)
    return Grid(header, columns, rownum, idx + 1, delimiter != ",", problems)


# --------------------------------------------------------------------------- xlsx
def _zip_entry_count(data: bytes) -> int | None:
    """Entries declared by the end-of-central-directory record (read without listing them)."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if at < 0 or at + 22 > len(data):
        return None
    return struct.unpack("<H", data[at + 10: at + 12])[0]


def check_zip(data: bytes, limits: Limits) -> str | None:
    """Why this XLSX must not be opened (too many entries, too large or too compressed), else None."""
    count = _zip_entry_count(data)
    if count is None:
        return "tệp XLSX bị hỏng (không giải nén được); hãy mở bằng Excel và lưu lại"
    if count > limits.max_zip_entries or count == 0xFFFF:
        return (f"tệp XLSX có {_vn(count)} phần nén bên trong, vượt giới hạn {_vn(limits.max_zip_entries)} "
                "(một bảng tính thật có vài chục); tệp không được mở")
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, struct.error):
        return "tệp XLSX bị hỏng (không giải nén được); hãy mở bằng Excel và lưu lại"
    total = 0
    for i in infos:
        if i.file_size > limits.max_entry_bytes:
            return (f"phần '{i.filename}' của tệp XLSX khai báo {mb(i.file_size)} khi giải nén, vượt giới hạn "
                    f"{mb(limits.max_entry_bytes)}; tệp không được mở")
        if i.file_size > RATIO_FLOOR and i.file_size > limits.max_ratio * max(i.compress_size, 1):
            return (f"phần '{i.filename}' của tệp XLSX nén {i.file_size // max(i.compress_size, 1):,} lần "
                    f"(giới hạn {limits.max_ratio} lần): đây là tệp nén bất thường, không được mở")
        total += i.file_size
    if total > limits.max_total_bytes:
        return (f"tệp XLSX khai báo {mb(total)} khi giải nén, vượt giới hạn {mb(limits.max_total_bytes)}; "
                "tệp không được mở")
    return None


def _open_sheet(data: bytes, sheet: str | None, info: dict):
    """(workbook, worksheet, sheet names) or the problems."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except zipfile.BadZipFile:
        return [Problem(None, None, None, "tệp XLSX bị hỏng (không giải nén được); hãy mở bằng Excel và lưu lại")]
    except Exception:
        return [Problem(None, None, None, "không phải tệp XLSX hợp lệ (có thể là tệp nén .zip hoặc tài liệu "
                        "khác); hãy lưu bảng dạng .xlsx hoặc CSV UTF-8")]
    names = wb.sheetnames
    if sheet is not None:
        match = [n for n in names if fold(n) == fold(sheet)]
        if not match:
            wb.close()
            return [Problem(None, None, sheet, "không có trang tính (sheet) này; các trang có trong tệp: "
                            + ", ".join(f"'{n}'" for n in names))]
        ws = wb[match[0]]
    else:
        ws = wb.worksheets[0]
    info["sheet"] = ws.title
    return wb, ws, names


def _stream_rows(wb, ws, limits: Limits) -> tuple[list[int], list[list[str | None]]] | list[Problem]:
    """The sheet's non-empty rows (Excel row numbers, cells as text), streamed cell by cell:
    only the cells present in the XML are read, whatever ``<dimension>`` declares."""
    from openpyxl.worksheet._reader import WorkSheetParser

    nums: list[int] = []
    rows: list[list[str | None]] = []
    with ws._get_source() as src:
        parser = WorkSheetParser(src, ws._shared_strings, data_only=True, epoch=wb.epoch,
                                 date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
        for idx, cells in parser.parse():
            values = [(c["column"], cell_text(c["value"])) for c in cells]
            values = [(j, v) for j, v in values if v is not None]
            if not values:
                continue
            width = max(j for j, _ in values)
            if width > limits.max_columns:
                return _too_wide(width, limits)
            if idx > limits.max_rows + HEADER_SCAN_ROWS or len(rows) >= limits.max_rows + HEADER_SCAN_ROWS:
                return _too_long(max(idx, len(rows) + 1), limits)
            row: list[str | None] = [None] * width
            for j, v in values:
                if len(v) > limits.max_cell_chars:
                    return _long_cell(idx, None, len(v), limits)
                row[j - 1] = strip_bidi(v) if has_bidi(v) else v
            nums.append(idx)
            rows.append(row)
    return nums, rows


def _read_xlsx(data, sheet, header_score, no_header, limits: Limits, info: dict) -> Grid | list[Problem]:
    refused = check_zip(data, limits)
    if refused:
        return [Problem(None, None, None, refused)]
    opened = _open_sheet(data, sheet, info)
    if isinstance(opened, list):
        return opened
    wb, ws, names = opened
    try:
        streamed = _stream_rows(wb, ws, limits)
    finally:
        wb.close()
    if isinstance(streamed, list):
        return streamed
    nums, rows = streamed
    others = f"các trang khác: {', '.join(names[1:])}" if len(names) > 1 and sheet is None else ""
    if not rows:
        return [Problem(None, None, None, f"trang tính '{ws.title}' trống." + (f" {others[0].upper()}{others[1:]}."
                                                                               if others else ""))]
    head = [[c or "" for c in r] for n, r in zip(nums, rows) if n <= HEADER_SCAN_ROWS + 1]
    idx = find_header(head, header_score)
    if idx is None:
        reason = no_header(head)
        if others:
            reason += f" (đang đọc trang đầu tiên '{ws.title}'; {others})"
        return [Problem(None, None, None, reason)]
    info["header_row"] = nums[idx]
    header = [clean(c or "") for c in rows[idx]]
    body = rows[idx + 1:]
    if len(body) > limits.max_rows:
        return _too_long(len(body), limits)
    width = max(len(header), max((len(r) for r in body), default=0))
    header += [""] * (width - len(header))
    cols = [strings([clean(r[j]) if j < len(r) and r[j] is not None else None for r in body]) for j in range(width)]
    return Grid(header, cols, np.asarray(nums[idx + 1:], dtype=np.int64), nums[idx], True, [])


# =========================================================================== helpers
_VI_LETTERS = (
    "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ"
)
_VI_ALLOWED = set(_VI_LETTERS + _VI_LETTERS.upper()) | set("–—‘’“”…•°·×±²³½¼¾€£§©®™«»\u00a0\u2009\u202f")

NOT_TABULAR = ("không phải tệp CSV hay XLSX (nội dung không phải bảng chữ); hãy lưu bảng điểm từ Excel dạng "
                "'CSV UTF-8' hoặc '.xlsx'")


def _lines(text: str) -> list[str]:
    """Physical lines with their ends (CRLF, LF or CR), unlike str.splitlines which also
    splits on form feeds and Unicode separators that CSV readers keep inside a line."""
    return [line for line in re.split(r"(?<=\n)|(?<=\r)(?!\n)", text) if line]


def _split(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter), [])
    except csv.Error:
        return line.rstrip("\r\n").split(delimiter)



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
    columns = [strings(c) for c in cols]
    return columns, np.asarray(rownum, dtype=np.int64), problems


def strings(values: list) -> pd.Series:
    return pd.Series(pd.array(values, dtype="str"))


# =========================================================================== decoding
def sniff(data: bytes) -> str:
    """'xlsx', 'text', or the reason the file is neither."""
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return ("tệp Excel 97-2003 (.xls) chưa được hỗ trợ; hãy mở bằng Excel và lưu lại dạng .xlsx "
                "hoặc 'CSV UTF-8'")
    if data[:5] == b"%PDF-":
        return "tệp PDF không nhập được; hãy gửi bảng điểm dạng .xlsx hoặc CSV UTF-8"
    if data.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")):
        return NOT_TABULAR
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
        return "", None, NOT_TABULAR
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


def cell_text(v: Any) -> str | None:
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


def mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB".replace(".", ",")

