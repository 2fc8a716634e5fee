"""What every upload reader returns and every importer raises: the problem list, the parsed
upload, the refusal and the import result, shared by the score importer (``ingest``) and the
model-registry importer (``model_upload``), and the one guard that turns an unexpected error
into a logged traceback plus a short Vietnamese message with an error id.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from typing import Callable

import pandas as pd

from .errors import StoreError
from .text import show

log = logging.getLogger(__name__)

MAX_BYTES = 50 * 1024 * 1024
MAX_LISTED = 1000  # problems listed one by one; the rest are counted


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
            return f"{head}: '{show(self.value)}' — {self.reason}"
        return f"{head}: {self.reason}"



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
            head = f"Đã ghi lần nhập số {self.batch_id}"
        text = f"{head}: {self.rows} dòng — {self.new} mới, {self.changed} thay đổi, {self.unchanged} không đổi"
        if self.parsed.ignored_columns:
            text += "; bỏ qua các cột: " + ", ".join(f"'{c}'" for c in self.parsed.ignored_columns)
        return text


class Problems:
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



def explain_write_errors(write, *args, **kwargs):
    """Run a batch writer; a database failure becomes one Vietnamese line (the transaction
    was rolled back, so nothing was written)."""
    try:
        return write(*args, **kwargs)
    except StoreError:
        raise
    except Exception as exc:
        log.exception("batch write failed in %s", getattr(write, "__name__", write))
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StoreError(f"Không ghi được vào cơ sở dữ liệu: {first}. Không có dữ liệu nào được ghi.") from None


def content_hash(data: bytes) -> tuple[bytes, str]:
    """(data, its SHA-256) — anything that is not bytes is read as an empty file."""
    try:
        return data, hashlib.sha256(data).hexdigest()
    except TypeError:
        return b"", hashlib.sha256(b"").hexdigest()


def read_safely(read: Callable[[], ParsedUpload], filename: str,
                rejected: Callable[[list[Problem]], ParsedUpload]) -> ParsedUpload:
    """Run a reader; never raises for bad input. An unexpected error is logged with its
    traceback and an error id, and the user gets one Vietnamese line naming that id."""
    try:
        return read()
    except MemoryError:
        log.exception("out of memory reading upload %r", filename)
        reason = "tệp quá lớn để đọc trong bộ nhớ hiện có; hãy chia nhỏ tệp"
    except Exception as exc:  # the promise: no traceback ever reaches a user
        error_id = uuid.uuid4().hex[:8]
        log.exception("unexpected error reading upload %r (error id %s)", filename, error_id)
        reason = (f"lỗi không mong đợi khi đọc tệp ({type(exc).__name__}, mã lỗi {error_id}); hãy gửi tệp này "
                  "và mã lỗi cho quản trị viên")
    return rejected([Problem(None, None, None, reason)])


# =========================================================================== the one import flow
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Importer:
    """One kind of upload, described for the one import flow (``run``), the CLI and the page.

    ``read(con, data, filename, period=, stage=, sheet=, max_bytes=)`` validates the file
    against the database without writing (returns a ``ParsedUpload``); ``write(con, rows,
    actor=, filename=, content_hash=, dry_run=)`` writes the valid rows as one batch.
    """

    kind: str  # the batch kind: 'scores' or 'models'
    label: str  # what the file holds, for messages: 'bảng điểm', 'danh sách mô hình'
    noun: str  # what one valid row is: 'dòng', 'mô hình'
    read: Callable[..., ParsedUpload]
    write: Callable[..., object]
    uses_stage: bool = False  # whether the stage option means anything for this kind

    def run(self, con, data: bytes, filename: str, *, actor, period: str | None = None,
            stage: str | None = None, sheet: str | None = None, dry_run: bool = False,
            max_bytes: int = MAX_BYTES, progress: Progress | None = None) -> ImportResult:
        """Validate the whole file, then write it as one batch (one transaction), or write nothing.

        Raises ``UploadRejected`` with every problem when the file has any; database errors
        come out as ``store.StoreError`` with a one-line message.
        """
        def tell(fraction: float, message: str) -> None:
            if progress is not None:
                progress(fraction, message)

        tell(0.0, "Đang đọc tệp")
        parsed = self.read(con, data, filename, period=period, stage=stage, sheet=sheet, max_bytes=max_bytes)
        if not parsed.ok:
            raise UploadRejected(parsed.problems, parsed)
        tell(0.6, f"Đã kiểm tra {len(parsed.rows)} {self.noun}; đang ghi")
        res = explain_write_errors(self.write, con, parsed.rows, actor=actor, filename=filename,
                                   content_hash=parsed.content_hash, dry_run=dry_run)
        tell(1.0, "Xong")
        return ImportResult(res.batch_id, res.new, res.changed, res.unchanged, res.skipped_duplicate, dry_run,
                            len(parsed.rows), parsed)
