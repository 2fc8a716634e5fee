"""The DuckDB store: schema and migrations, units, periods, blocks, frameworks, score batches.

Scores are append-only. Every import is a batch; the current value of a key
(unit × period × criterion × stage) is the newest entry of a batch that is not undone,
so a correction supersedes without overwriting and undoing a batch brings back exactly
what it superseded.
"""

from __future__ import annotations

import json
import re
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

import duckdb
import pandas as pd

from .criteria import Framework, parse_framework

STAGES = ("self", "appraised")
STAGE_LABELS = {"self": "Tự chấm", "appraised": "Thẩm định"}
UNIT_TYPES = {"xa": "Xã", "phuong": "Phường", "dac_khu": "Đặc khu", "co_quan": "Cơ quan, đơn vị"}


class StoreError(RuntimeError):
    """A database problem told in one Vietnamese line, with the way out."""


class StoreMissing(StoreError):
    pass


class StoreLocked(StoreError):
    pass


class PermissionDenied(StoreError):
    pass


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


# --------------------------------------------------------------------------- connection
def _lock_holder(pid: str) -> str:
    """What holds the file, read from /proc/PID/cmdline where the system has one."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace").split("\0")
    except OSError:
        return ""
    argv = [a for a in argv if a]
    names = [Path(a).name for a in argv]
    if "streamlit" in names or any(n.startswith("streamlit") for n in names[:3]):
        return "bảng điều khiển (streamlit)"
    if "danvan" in names[:3]:
        rest = names[names.index("danvan") + 1:][:2]
        return "lệnh " + " ".join(["danvan", *rest])
    return " ".join(argv)[:80]


def _locked_message(path: Path, msg: str) -> str:
    found = re.search(r"PID (\d+)", msg)
    holder = _lock_holder(found.group(1)) if found else ""
    pid = f" (PID {found.group(1)})" if found else ""
    if holder.startswith("bảng điều khiển"):
        return (f"Cơ sở dữ liệu '{path}' đang được {holder}{pid} mở. Hãy dừng bảng điều khiển (Ctrl+C) "
                "rồi chạy lại lệnh, hoặc nhập dữ liệu qua trang 'Nhập dữ liệu' của bảng điều khiển.")
    if holder.startswith("lệnh danvan"):
        return (f"Cơ sở dữ liệu '{path}' đang được {holder}{pid} mở. Hãy chờ lệnh đó chạy xong "
                "(hoặc dừng nó bằng Ctrl+C) rồi chạy lại.")
    who = f": {holder}{pid}" if holder else pid
    return (f"Cơ sở dữ liệu '{path}' đang được một chương trình khác mở{who}. Nếu đó là bảng điều khiển "
            "Streamlit, hãy dừng nó (Ctrl+C) rồi chạy lại lệnh, hoặc nhập dữ liệu qua trang 'Nhập dữ liệu' "
            "của bảng điều khiển.")


def connect(path: str | Path, *, read_only: bool = False, create: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the database file; a lock or a missing file becomes a clear StoreError."""
    path = Path(path)
    if not create and not path.exists():
        raise StoreMissing(
            f"Không tìm thấy cơ sở dữ liệu '{path}'. Hãy chạy: danvan init --db {path}"
        )
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        msg = str(exc)
        if "lock" in msg.lower():
            raise StoreLocked(_locked_message(path, msg)) from None
        raise StoreError(f"Không mở được cơ sở dữ liệu '{path}': {msg.splitlines()[0]}") from None
    except duckdb.Error as exc:
        raise StoreError(f"Không mở được cơ sở dữ liệu '{path}': {str(exc).splitlines()[0]}") from None
    return con


@contextmanager
def registered(con, name: str, frame: pd.DataFrame):
    """Expose a DataFrame to SQL as ``name`` for the duration of the block.

    DuckDB 2 refuses register/unregister while a result is half-fetched, so the
    pending result is finished first.
    """
    con.execute("SELECT 1").fetchall()
    con.register(name, frame)
    try:
        yield name
    finally:
        con.execute("SELECT 1").fetchall()
        con.unregister(name)


class Transaction:
    """The open transaction of a ``with transaction(con) as tx`` block."""

    def __init__(self, con):
        self.con = con
        self.ended = False

    def rollback(self) -> None:
        """End it now writing nothing (a dry run, or nothing to write); the block then just returns."""
        self.con.execute("ROLLBACK")
        self.ended = True


@contextmanager
def transaction(con):
    """BEGIN … COMMIT around the block; on an error ROLLBACK and re-raise it (every write of the
    library goes through here, so a failed write leaves nothing behind). A ROLLBACK that fails —
    DuckDB may already have aborted the transaction — does not hide the original error."""
    con.execute("BEGIN TRANSACTION")
    tx = Transaction(con)
    try:
        yield tx
        if not tx.ended:
            con.execute("COMMIT")
    except Exception:
        if not tx.ended:
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:
                pass
        raise


# --------------------------------------------------------------------------- schema
# Named migrations, applied in order, each once; a module that needs tables appends its own
# entry here (never edit an entry that has shipped: add a new one).
_MIGRATIONS: list[tuple[str, str]] = [
    ("core_v1", """
    CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
    CREATE TABLE IF NOT EXISTS provinces (
        province_code VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, short_name VARCHAR,
        lat DOUBLE, lon DOUBLE);
    CREATE TABLE IF NOT EXISTS units (
        unit_code VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, short_name VARCHAR,
        unit_type VARCHAR NOT NULL, province_code VARCHAR NOT NULL,
        lat DOUBLE, lon DOUBLE, area_km2 DOUBLE, source VARCHAR);
    CREATE TABLE IF NOT EXISTS frameworks (
        framework_code VARCHAR, version INTEGER, name VARCHAR, definition JSON NOT NULL,
        loaded_at TIMESTAMP, PRIMARY KEY (framework_code, version));
    CREATE TABLE IF NOT EXISTS periods (
        period VARCHAR PRIMARY KEY, label VARCHAR, framework_code VARCHAR NOT NULL,
        framework_version INTEGER NOT NULL, previous_period VARCHAR, sort_key INTEGER);
    CREATE TABLE IF NOT EXISTS blocks (
        period VARCHAR, block_code VARCHAR, name VARCHAR NOT NULL, province_code VARCHAR,
        PRIMARY KEY (period, block_code));
    CREATE TABLE IF NOT EXISTS unit_blocks (
        period VARCHAR, unit_code VARCHAR, block_code VARCHAR NOT NULL,
        PRIMARY KEY (period, unit_code));
    CREATE SEQUENCE IF NOT EXISTS batch_seq START 1;
    CREATE TABLE IF NOT EXISTS batches (
        batch_id BIGINT PRIMARY KEY, kind VARCHAR NOT NULL, actor VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL, filename VARCHAR, content_hash VARCHAR,
        rows_new BIGINT, rows_changed BIGINT, rows_unchanged BIGINT,
        synthetic BOOLEAN DEFAULT FALSE, undone_at TIMESTAMP, undone_by VARCHAR, comment VARCHAR);
    CREATE TABLE IF NOT EXISTS score_entries (
        batch_id BIGINT NOT NULL, unit_code VARCHAR NOT NULL, period VARCHAR NOT NULL,
        criterion_code VARCHAR NOT NULL, stage VARCHAR NOT NULL, value DOUBLE NOT NULL,
        evidence VARCHAR, note VARCHAR);
    CREATE SEQUENCE IF NOT EXISTS profile_seq START 1;
    CREATE TABLE IF NOT EXISTS weight_profiles (
        profile_id BIGINT PRIMARY KEY, name VARCHAR NOT NULL, version INTEGER NOT NULL,
        framework_code VARCHAR NOT NULL, framework_version INTEGER NOT NULL,
        comment VARCHAR, created_by VARCHAR, created_at TIMESTAMP, member VARCHAR,
        UNIQUE (name, version));
    CREATE TABLE IF NOT EXISTS profile_weights (
        profile_id BIGINT, level VARCHAR, code VARCHAR, weight DOUBLE NOT NULL,
        PRIMARY KEY (profile_id, level, code));
    CREATE TABLE IF NOT EXISTS official_profiles (
        period VARCHAR NOT NULL, profile_id BIGINT NOT NULL, marked_by VARCHAR, marked_at TIMESTAMP);
    CREATE TABLE IF NOT EXISTS users (
        username VARCHAR PRIMARY KEY, role VARCHAR NOT NULL, password_hash VARCHAR NOT NULL,
        display_name VARCHAR, is_chair BOOLEAN DEFAULT FALSE, active BOOLEAN DEFAULT TRUE,
        created_at TIMESTAMP);
    CREATE TABLE IF NOT EXISTS login_attempts (
        username VARCHAR, attempted_at TIMESTAMP, ok BOOLEAN);
    CREATE TABLE IF NOT EXISTS sessions (
        token_hash VARCHAR PRIMARY KEY, username VARCHAR NOT NULL, created_at TIMESTAMP,
        expires_at TIMESTAMP);
    CREATE SEQUENCE IF NOT EXISTS audit_seq START 1;
    CREATE TABLE IF NOT EXISTS audit_log (
        audit_id BIGINT PRIMARY KEY, logged_at TIMESTAMP NOT NULL, actor VARCHAR NOT NULL,
        action VARCHAR NOT NULL, target VARCHAR, before JSON, after JSON);
    CREATE OR REPLACE VIEW current_scores AS
        SELECT unit_code, period, criterion_code, stage, value, evidence, note, batch_id FROM (
            SELECT e.*, row_number() OVER (
                PARTITION BY e.unit_code, e.period, e.criterion_code, e.stage
                ORDER BY e.batch_id DESC) AS rn
            FROM score_entries e JOIN batches b USING (batch_id)
            WHERE b.undone_at IS NULL AND b.kind = 'scores')
        WHERE rn = 1;
    """),
    ("council_publish_v1", """
    CREATE SEQUENCE IF NOT EXISTS publication_seq START 1;
    CREATE TABLE IF NOT EXISTS published_rankings (
        publication_id BIGINT PRIMARY KEY, period VARCHAR NOT NULL, profile_id BIGINT NOT NULL,
        published_by VARCHAR NOT NULL, published_at TIMESTAMP NOT NULL, content_hash VARCHAR NOT NULL,
        snapshot JSON NOT NULL, note VARCHAR);
    CREATE SEQUENCE IF NOT EXISTS submission_seq START 1;
    CREATE TABLE IF NOT EXISTS council_submissions (
        submission_id BIGINT PRIMARY KEY, period VARCHAR NOT NULL, member VARCHAR NOT NULL,
        profile_id BIGINT NOT NULL, method VARCHAR NOT NULL, submitted_at TIMESTAMP NOT NULL);
    """),
    # the "Dân vận khéo" model registry (models.py): append-only entries in batches of kind 'models'
    ("models_v1", """
    CREATE TABLE IF NOT EXISTS model_entries (
        batch_id BIGINT NOT NULL, period VARCHAR NOT NULL, model_id VARCHAR NOT NULL,
        unit_code VARCHAR NOT NULL, name VARCHAR NOT NULL, field VARCHAR NOT NULL, kind VARCHAR NOT NULL,
        status VARCHAR NOT NULL, level VARCHAR, evidence VARCHAR, note VARCHAR,
        rubric VARCHAR, rubric_total DOUBLE);
    CREATE TABLE IF NOT EXISTS model_targets (
        period VARCHAR NOT NULL, unit_code VARCHAR NOT NULL, field VARCHAR NOT NULL, target DOUBLE NOT NULL,
        set_by VARCHAR, set_at TIMESTAMP, PRIMARY KEY (period, unit_code, field));
    CREATE OR REPLACE VIEW current_models AS
        SELECT period, model_id, unit_code, name, field, kind, status, level, evidence, note, rubric,
               rubric_total, batch_id FROM (
            SELECT e.*, row_number() OVER (PARTITION BY e.period, e.model_id ORDER BY e.batch_id DESC) AS rn
            FROM model_entries e JOIN batches b USING (batch_id)
            WHERE b.undone_at IS NULL AND b.kind = 'models')
        WHERE rn = 1;
    """),
    # sign-in throttling per client address as well as per account (auth.authenticate)
    ("login_client_v1", """
    ALTER TABLE login_attempts ADD COLUMN IF NOT EXISTS client VARCHAR;
    """),
]


def applied_migrations(con) -> set[str]:
    try:
        rows = con.execute("SELECT key FROM meta WHERE key LIKE 'migration:%'").fetchall()
    except duckdb.CatalogException:
        return set()
    return {r[0].removeprefix("migration:") for r in rows}


def migrate(con) -> list[str]:
    """Apply the named migrations the database does not have yet; returns those applied."""
    have = applied_migrations(con)
    done = []
    for name, sql in _MIGRATIONS:
        if name in have:
            continue
        with transaction(con):
            con.execute(sql)
            con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [f"migration:{name}", now().isoformat()])
        done.append(name)
    return done


def data_version(con) -> int:
    """Changes whenever anything is written (every write is audited): a cache key for the dashboard."""
    return int(con.execute("SELECT coalesce(max(audit_id), 0) FROM audit_log").fetchall()[0][0])


DEFAULT_PROFILE_NAME = "mac-dinh"
# Audited writes that cannot change a computed result (totals, ranks, tiers, intervals, published
# tables): a named weight profile, a council member's submission and a consensus draft are saved as
# non-official profiles, and accounts touch no score. Anything else — including an action added
# later — counts. A new version of the default profile counts too: a period with no official
# profile is ranked under the default profile's latest version.
RESULT_NEUTRAL_ACTIONS = ("weights.save", "council.submit", "council.consensus",
                          "user.add", "user.update", "user.demo_accounts")


def results_version(con) -> int:
    """Like ``data_version``, but unchanged by writes that cannot change a result.

    The dashboard keys its cached results on this, so a council member saving a draft profile
    during a meeting does not make every leader's next click recompute the national ranking."""
    marks = ", ".join("?" for _ in RESULT_NEUTRAL_ACTIONS)
    return int(con.execute(
        f"SELECT coalesce(max(audit_id), 0) FROM audit_log WHERE action NOT IN ({marks}) "
        "OR (action = 'weights.save' AND target LIKE ?)",
        [*RESULT_NEUTRAL_ACTIONS, f"{DEFAULT_PROFILE_NAME}@v%"]).fetchall()[0][0])


def get_meta(con, key: str, default: str | None = None) -> str | None:
    row = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else default


def set_meta(con, key: str, value: str) -> None:
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])


def is_demo(con) -> bool:
    """True when the database holds synthetic demo data (the dashboard shows a badge)."""
    return get_meta(con, "synthetic_demo") == "true"


# --------------------------------------------------------------------------- audit
def audit(con, actor: str, action: str, target: str | None = None, before=None, after=None) -> None:
    """Append one line to the audit log; nothing ever updates or deletes it."""
    con.execute(
        "INSERT INTO audit_log VALUES (nextval('audit_seq'), ?, ?, ?, ?, ?, ?)",
        [now(), actor, action, target,
         None if before is None else json.dumps(before, ensure_ascii=False, default=str),
         None if after is None else json.dumps(after, ensure_ascii=False, default=str)],
    )


def audit_log(con, limit: int = 500) -> pd.DataFrame:
    return con.execute(
        "SELECT audit_id, logged_at, actor, action, target, before, after FROM audit_log "
        "ORDER BY audit_id DESC LIMIT ?", [limit]).df()


# --------------------------------------------------------------------------- frameworks & periods
def save_framework(con, fw: Framework) -> None:
    exists = con.execute(
        "SELECT definition FROM frameworks WHERE framework_code = ? AND version = ?",
        [fw.code, fw.version]).fetchone()
    definition = fw.model_dump_json()
    if exists:
        if json.loads(exists[0]) != json.loads(definition):
            raise StoreError(
                f"Bộ tiêu chí {fw.code} phiên bản {fw.version} đã có trong cơ sở dữ liệu với nội dung khác; "
                "hãy tăng số phiên bản (version) trong tệp."
            )
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
               previous: str | None = None) -> None:
    """Register a period using one framework version; previous = the last period of the same kind."""
    if not PERIOD_RE.match(period):
        raise StoreError(f"Kỳ '{period}' không hợp lệ; dùng dạng 2025, 2025-H1 hoặc 2025-Q3")
    save_framework(con, fw)
    if con.execute("SELECT 1 FROM periods WHERE period = ?", [period]).fetchone():
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


# --------------------------------------------------------------------------- units & blocks
def units(con, province: str | None = None) -> pd.DataFrame:
    sql = ("SELECT u.unit_code, u.name, u.short_name, u.unit_type, u.province_code, p.name AS province_name, "
           "u.lat, u.lon, u.area_km2 FROM units u LEFT JOIN provinces p USING (province_code)")
    params: list = []
    if province:
        sql += " WHERE u.province_code = ?"
        params.append(province)
    return con.execute(sql + " ORDER BY u.unit_code", params).df()


def unit_names(con) -> dict[str, str]:
    return dict(con.execute("SELECT unit_code, name FROM units").fetchall())


def provinces(con) -> pd.DataFrame:
    return con.execute("SELECT * FROM provinces ORDER BY province_code").df()


UNIT_CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
UNIT_NAME_MAX = 200
# embedding/override/isolate controls that can make a name display reversed (U+202A–U+202E, U+2066–U+2069)
BIDI_CONTROLS = frozenset(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))


def check_unit_code(code) -> str:
    """A unit code: 1–32 letters, digits, '_', '.', '-', starting with a letter or a digit."""
    code = str(code or "").strip()
    if not UNIT_CODE_RE.fullmatch(code):
        shown = code[:40] + ("…" if len(code) > 40 else "")
        raise StoreError(f"Mã đơn vị {shown!r} không hợp lệ: cần 1–32 ký tự gồm chữ cái không dấu, số, "
                         "'_', '.', '-', bắt đầu bằng chữ hoặc số (không dấu cách, dấu nháy, ';')")
    return code


def check_unit_name(name) -> str:
    """A unit name in NFC, 1–200 characters, no control or direction-override characters."""
    name = unicodedata.normalize("NFC", str(name or "").strip())
    if not 1 <= len(name) <= UNIT_NAME_MAX:
        raise StoreError(f"Tên đơn vị phải có từ 1 đến {UNIT_NAME_MAX} ký tự (đang có {len(name)})")
    if any(unicodedata.category(ch) == "Cc" or ch in BIDI_CONTROLS for ch in name):
        raise StoreError("Tên đơn vị chứa ký tự điều khiển hoặc ký tự đảo chiều văn bản "
                         "(U+202A–U+202E, U+2066–U+2069); hãy xóa chúng rồi nhập lại")
    return name


def add_unit(con, code: str, name: str, unit_type: str, province_code: str, *, actor,
             lat: float | None = None, lon: float | None = None) -> None:
    """Add an agency (cơ quan, đơn vị) or another unit that is not in the official list."""
    from .auth import require

    require(actor, "units")
    code, name = check_unit_code(code), check_unit_name(name)
    if unit_type not in UNIT_TYPES:
        raise StoreError(f"Loại đơn vị '{unit_type}' không hợp lệ; chỉ nhận: {', '.join(UNIT_TYPES)}")
    if con.execute("SELECT 1 FROM units WHERE unit_code = ?", [code]).fetchone():
        raise StoreError(f"Mã đơn vị '{code}' đã tồn tại")
    if not con.execute("SELECT 1 FROM provinces WHERE province_code = ?", [province_code]).fetchone():
        raise StoreError(f"Không có tỉnh mã '{province_code}'")
    con.execute("INSERT INTO units VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 'manual')",
                [code, name, name, unit_type, province_code, lat, lon])
    # every unit belongs to a block in every period: agencies join their province's agency block
    if unit_type == "co_quan":
        block = f"{province_code}-CQ"
        for period in periods(con):
            con.execute("INSERT OR IGNORE INTO blocks VALUES (?, ?, 'Khối cơ quan, đơn vị', ?)",
                        [period, block, province_code])
            con.execute("INSERT OR IGNORE INTO unit_blocks VALUES (?, ?, ?)", [period, code, block])
    audit(con, actor.username, "unit.add", code, None,
          {"name": name, "unit_type": unit_type, "province_code": province_code})


def set_blocks(con, period: str, blocks: pd.DataFrame, assignments: pd.DataFrame, *, actor) -> None:
    """Replace the emulation blocks of a period: blocks(block_code, name, province_code),
    assignments(unit_code, block_code)."""
    from .auth import require

    require(actor, "blocks")
    unknown = set(assignments["block_code"]) - set(blocks["block_code"])
    if unknown:
        raise StoreError(f"Khối thi đua chưa được khai báo: {', '.join(sorted(unknown))}")
    before = con.execute("SELECT count(*) FROM unit_blocks WHERE period = ?", [period]).fetchone()[0]
    with transaction(con):
        con.execute("DELETE FROM unit_blocks WHERE period = ?", [period])
        con.execute("DELETE FROM blocks WHERE period = ?", [period])
        b = blocks.assign(period=period)[["period", "block_code", "name", "province_code"]]
        a = assignments.assign(period=period)[["period", "unit_code", "block_code"]]
        with registered(con, "_b", b), registered(con, "_a", a):
            con.execute("INSERT INTO blocks SELECT * FROM _b")
            con.execute("INSERT INTO unit_blocks SELECT * FROM _a")
        audit(con, actor.username, "blocks.set", period, {"assigned": before},
              {"blocks": len(b), "assigned": len(a)})


def unit_blocks(con, period: str) -> pd.DataFrame:
    return con.execute(
        "SELECT ub.unit_code, ub.block_code, b.name AS block_name FROM unit_blocks ub "
        "JOIN blocks b USING (period, block_code) WHERE ub.period = ?", [period]).df()


def blocks(con, period: str) -> pd.DataFrame:
    return con.execute(
        "SELECT b.block_code, b.name, b.province_code, count(ub.unit_code) AS units FROM blocks b "
        "LEFT JOIN unit_blocks ub USING (period, block_code) WHERE b.period = ? "
        "GROUP BY ALL ORDER BY b.block_code", [period]).df()


# --------------------------------------------------------------------------- scores & batches
SCORE_COLUMNS = ["unit_code", "period", "criterion_code", "stage", "value", "evidence", "note"]


@dataclass
class BatchResult:
    batch_id: int | None
    new: int
    changed: int
    unchanged: int
    skipped_duplicate: bool = False

    @property
    def written(self) -> int:
        return self.new + self.changed


def select_current(con, view: str, *, period: str | None = None, periods_: Iterable[str] | None = None,
                   order_by: str | None = None, **equals) -> pd.DataFrame:
    """Rows of a 'current' view (current_scores, current_models) filtered by period(s) and
    column = value pairs (None values are ignored)."""
    sql = f"SELECT * FROM {view} WHERE 1=1"
    params: list = []
    if period is not None:
        sql += " AND period = ?"
        params.append(period)
    if periods_ is not None:
        plist = list(periods_)
        sql += f" AND period IN ({','.join('?' * len(plist)) or 'NULL'})"
        params.extend(plist)
    for column, value in equals.items():
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    if order_by:
        sql += f" ORDER BY {order_by}"
    return con.execute(sql, params).df()


def current_scores(con, period: str | None = None, stage: str | None = None,
                   periods_: Iterable[str] | None = None, ordered: bool = True) -> pd.DataFrame:
    return select_current(con, "current_scores", period=period, periods_=periods_, stage=stage,
                          order_by="period, unit_code, criterion_code, stage" if ordered else None)


def score_history(con, unit_code: str, period: str) -> pd.DataFrame:
    """Every value a unit ever had in a period, newest first, with its batch and whether it is current."""
    return con.execute(
        """SELECT e.criterion_code, e.stage, e.value, e.evidence, e.note, e.batch_id, b.actor,
                  b.created_at, b.filename, b.undone_at IS NOT NULL AS undone
           FROM score_entries e JOIN batches b USING (batch_id)
           WHERE e.unit_code = ? AND e.period = ? AND b.kind = 'scores'
           ORDER BY e.criterion_code, e.stage, e.batch_id DESC""", [unit_code, period]).df()


def _diff(con, rows: pd.DataFrame) -> pd.DataFrame:
    """Classify each incoming row against the current value: new, changed or unchanged."""
    with registered(con, "_incoming", rows):
        return con.execute(
            """SELECT i.*, CASE WHEN c.value IS NULL THEN 'new'
                               WHEN c.value = i.value AND c.evidence IS NOT DISTINCT FROM i.evidence
                                    AND c.note IS NOT DISTINCT FROM i.note THEN 'unchanged'
                               ELSE 'changed' END AS status,
                      c.value AS old_value
               FROM _incoming i LEFT JOIN current_scores c
                 ON c.unit_code = i.unit_code AND c.period = i.period
                AND c.criterion_code = i.criterion_code AND c.stage = i.stage""").df()


def preview_batch(con, rows: pd.DataFrame) -> pd.DataFrame:
    """What an import would do, row by row (status new/changed/unchanged, old_value)."""
    return _diff(con, _normalise_rows(rows))


def _normalise_rows(rows: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in SCORE_COLUMNS if c not in rows.columns]
    if missing:
        raise StoreError(f"Thiếu cột: {', '.join(missing)}")
    out = rows[SCORE_COLUMNS].copy()
    for c in ("unit_code", "period", "criterion_code", "stage"):
        out[c] = out[c].astype(str)
    out["value"] = out["value"].astype("float64")
    for c in ("evidence", "note"):
        # DuckDB reads missing values of a string column as NULL; only non-text columns
        # (an all-empty column read as float) need converting
        if not (out[c].dtype == object or pd.api.types.is_string_dtype(out[c])):
            out[c] = out[c].astype("string")
    return out


def classified_counts(con, table: str, column: str) -> tuple[int, int, int]:
    """(new, changed, unchanged) of a temp table whose ``column`` classifies incoming rows."""
    counts = dict(con.execute(f"SELECT {column}, count(*) FROM {table} GROUP BY 1").fetchall())
    return tuple(int(counts.get(k, 0)) for k in ("new", "changed", "unchanged"))


def record_batch(con, kind: str, actor, filename: str | None, content_hash: str | None,
                 counts: tuple[int, int, int], *, synthetic: bool = False, comment: str | None = None) -> int:
    """Allocate a batch id and record who imported what (inside the caller's transaction)."""
    batch_id = int(con.execute("SELECT nextval('batch_seq')").fetchone()[0])
    con.execute("INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?)",
                [batch_id, kind, actor.username, now(), filename, content_hash, *counts, synthetic, comment])
    return batch_id


def write_batch(con, rows: pd.DataFrame, *, actor, filename: str | None, content_hash: str | None,
                dry_run: bool = False, synthetic: bool = False, comment: str | None = None) -> BatchResult:
    """Write validated rows as one batch in one transaction; only new and changed values are stored.

    ``actor`` is an :class:`auth.Actor` allowed to import. Importing the same content again
    writes nothing (``skipped_duplicate``).
    """
    from .auth import require

    require(actor, "import")
    rows = _normalise_rows(rows)
    with transaction(con) as tx:
        with registered(con, "_rows", rows):
            con.execute(
            """CREATE OR REPLACE TEMP TABLE _classified AS
               SELECT i.*, CASE WHEN c.value IS NULL THEN 'new'
                                WHEN c.value = i.value AND c.evidence IS NOT DISTINCT FROM i.evidence
                                     AND c.note IS NOT DISTINCT FROM i.note THEN 'unchanged'
                                ELSE 'changed' END AS status
               FROM _rows i LEFT JOIN current_scores c
                 ON c.unit_code = i.unit_code AND c.period = i.period
                AND c.criterion_code = i.criterion_code AND c.stage = i.stage""")
        new, changed, unchanged = classified_counts(con, "_classified", "status")
        if dry_run or new + changed == 0:
            tx.rollback()
            return BatchResult(None, new, changed, unchanged, skipped_duplicate=not dry_run)
        batch_id = record_batch(con, "scores", actor, filename, content_hash, (new, changed, unchanged),
                                synthetic=synthetic, comment=comment)
        con.execute(
            f"""INSERT INTO score_entries SELECT {batch_id}, unit_code, period, criterion_code, stage, value,
                       evidence, note FROM _classified WHERE status <> 'unchanged'""")
        con.execute("DROP TABLE _classified")
        audit(con, actor.username, "scores.import", f"batch:{batch_id}", None,
              {"filename": filename, "content_hash": content_hash, "new": new, "changed": changed,
               "unchanged": unchanged})
    return BatchResult(int(batch_id), new, changed, unchanged)


def batches(con) -> pd.DataFrame:
    return con.execute(
        "SELECT batch_id, kind, actor, created_at, filename, content_hash, rows_new, rows_changed, "
        "rows_unchanged, synthetic, undone_at, undone_by FROM batches ORDER BY batch_id DESC").df()


def undo_batch(con, batch_id: int, *, actor) -> dict:
    """Undo one batch: its values stop being current and what they superseded comes back."""
    from .auth import require

    require(actor, "undo")
    row = con.execute("SELECT kind, undone_at, filename FROM batches WHERE batch_id = ?", [batch_id]).fetchone()
    if row is None:
        raise StoreError(f"Không có lô nhập số {batch_id}")
    if row[1] is not None:
        raise StoreError(f"Lô nhập số {batch_id} đã được hoàn tác lúc {row[1]:%d/%m/%Y %H:%M}")
    with transaction(con):
        n = con.execute("SELECT (SELECT count(*) FROM score_entries WHERE batch_id = $1) + "
                        "(SELECT count(*) FROM model_entries WHERE batch_id = $1)", [batch_id]).fetchone()[0]
        con.execute("UPDATE batches SET undone_at = ?, undone_by = ? WHERE batch_id = ?",
                    [now(), actor.username, batch_id])
        audit(con, actor.username, "batch.undo", f"batch:{batch_id}", {"filename": row[2], "entries": n},
              {"undone": True})
    return {"batch_id": batch_id, "entries": int(n)}
