"""The store (DuckDB file or PostgreSQL server, see ``pg``): connection, schema and migrations, the one write path, audit, meta.

What is stored lives in modules named for it: ``periods`` (periods and frameworks),
``batches`` (append-only score batches), ``units`` and ``blocks``. Every write of the
library goes through :func:`write` (permission check, one transaction, audit entry).
"""

from __future__ import annotations

import json
import logging
import re
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pandas as pd

from . import faults, pg
from .errors import Refused, StoreError, StoreLocked, StoreMissing
from .permissions import CLI_ACTOR, PermissionDenied, require

log = logging.getLogger(__name__)

STAGES = ("self", "appraised")
STAGE_LABELS = {"self": "Điểm tự chấm", "appraised": "Điểm thẩm định"}


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


# What the two engines raise: any store error, and "no such table" (a database from before a migration).
Error = (duckdb.Error, pg.Error)
MissingTable = (duckdb.CatalogException, pg.MissingTable)


def is_url(target) -> bool:
    """A ``postgresql://…`` URL (the shared server store) rather than a DuckDB file path."""
    return pg.is_url(str(target))


def describe(target) -> str:
    """The store named for a message: the file path, or the URL without its password."""
    return pg.redact(str(target)) if is_url(target) else str(target)


def shared(target) -> bool:
    """Several processes may write this store at once (a server database, not a DuckDB file)."""
    return is_url(target)


def canonical(target) -> str:
    """One spelling per store, for cache keys: the absolute file path, or the URL as given."""
    return str(target) if is_url(target) else str(Path(target).resolve())


def exists(target) -> bool:
    """The DuckDB file is there; a server database is taken to exist (connect says otherwise)."""
    return is_url(target) or Path(target).exists()


def backend(con) -> str:
    return getattr(con, "backend", "duckdb")


def connect(path: str | Path, *, read_only: bool = False, create: bool = False):
    """Open the store: a DuckDB file, or a PostgreSQL database for a ``postgresql://`` URL.
    A lock, a missing file or an unreachable server becomes a clear StoreError."""
    if is_url(path):
        pg.check(str(path))
        return pg.PgConnection(str(path), read_only=read_only)
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
    duck = backend(con) == "duckdb"
    if duck:
        con.execute("SELECT 1").fetchall()
    con.register(name, frame)
    try:
        yield name
    finally:
        if duck:
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


WRITE_LOCK = 0x64616E76  # 'danv': the advisory lock every PostgreSQL write transaction holds


@contextmanager
def transaction(con):
    """BEGIN … COMMIT around the block; on an error ROLLBACK and re-raise it, so a failed block
    leaves nothing behind. A ROLLBACK that fails — DuckDB may already have aborted the
    transaction — does not hide the original error.

    This is the bare transaction: library writes use :func:`write`, which checks the actor's
    permission and appends the audit entry inside it."""
    con.execute("BEGIN TRANSACTION")
    if backend(con) == "postgresql" and not getattr(con, "read_only", False):
        # writers queue here, one at a time across every process: two imports touching the same
        # unit × period × criterion serialise (the second classifies against the first's rows)
        con.execute("SELECT pg_advisory_xact_lock(?)", [WRITE_LOCK])
    tx = Transaction(con)
    try:
        yield tx
        if not tx.ended:
            con.execute("COMMIT")
    except Exception:
        if not tx.ended:
            try:
                con.execute("ROLLBACK")
            except Error:
                pass
        raise


# --------------------------------------------------------------------------- the write path
# The write open in this context (None: none). Set by ``write`` and, as the one named exemption,
# by ``migrate`` (schema creation is not a user's write); tests/test_write_path.py checks that no
# INSERT/UPDATE/DELETE runs while it is None.
_ACTIVE: ContextVar[Write | str | None] = ContextVar("danvan_write", default=None)
MIGRATION_EXEMPTION = "schema:migrate"


def active_write():
    """The :class:`Write` open in this context, ``MIGRATION_EXEMPTION`` during migrations, else None."""
    return _ACTIVE.get()


class Write:
    """The open write of a ``with write(...) as w`` block: set ``w.target``, ``w.before``,
    ``w.after`` to fill in its audit entry, or ``w.rollback()`` to end it writing nothing (no
    audit entry either)."""

    def __init__(self, con, actor, action: str | None, target, before, after):
        self.con, self.actor, self.action = con, actor, action
        self.target, self.before, self.after = target, before, after
        self.tx: Transaction | None = None
        self.outer: Write | None = None

    @property
    def ended(self) -> bool:
        return self.tx is not None and self.tx.ended

    def rollback(self) -> None:
        if self.outer is not None:
            raise StoreError("Một thao tác ghi lồng bên trong không thể tự hủy giao dịch của thao tác ngoài")
        self.tx.rollback()

    def _audit(self) -> None:
        if self.action is not None and not self.ended:
            audit(self.con, self.actor.username, self.action, self.target, self.before, self.after)


def _record_denial(con, actor, permission: str, action: str | None, target, reason: str | None = None) -> None:
    """A refused write is logged in the audit table in its own small transaction (best effort:
    a read-only connection cannot, and the refusal itself must still reach the caller)."""
    who = getattr(actor, "username", None) or str(actor)
    token = _ACTIVE.set(f"denied:{action or permission}")
    after = {"permission": permission, "role": getattr(actor, "role", None)}
    if reason:
        after["reason"] = reason
    try:
        with transaction(con):
            audit(con, who, f"denied:{action or permission}", None if target is None else str(target),
                  None, after)
    except Error:
        log.warning("refused write %s by %s not logged (connection cannot write)", action, who, exc_info=True)
    finally:
        _ACTIVE.reset(token)


@contextmanager
def write(con, actor, permission: str | None, *, action: str | None, target=None, before=None, after=None,
          unit: str | None = None, guard=None):
    """The one write path of the library: ``require(actor, permission)``, one transaction, and the
    audit entry ``action`` appended inside it when the block succeeds.

    A refused write raises PermissionDenied before anything is written (the refusal is logged as
    ``denied:<action>``). A write opened inside another on the same connection (council.submit →
    weights.save_profile) joins the outer transaction and appends its own audit entry there.
    ``permission=None`` is for sign-in bookkeeping only (login attempts, sessions), which any
    visitor causes; ``action=None`` writes no audit entry of its own.

    ``unit``: the one unit the write concerns (a unit account may write only its own).
    ``guard(con, actor)``: the period's lifecycle check (``lifecycle.guard``), run after the
    permission and before anything is written; its StateRefused is refused and logged the same way.
    """
    _bump_local_writes()
    try:
        with _write(con, actor, permission, action=action, target=target, before=before, after=after,
                    unit=unit, guard=guard) as w:
            yield w
    finally:
        _bump_local_writes()


_LOCAL_WRITES = [0]


def _bump_local_writes() -> None:
    _LOCAL_WRITES[0] += 1


def local_writes() -> int:
    """A number that moves whenever this process starts or ends a write (or a refusal): the
    dashboard reads ``data_version`` once per script run and again only when this moved, so a page
    that writes sees its own write in the same run. Another process's write shows at the next run."""
    return _LOCAL_WRITES[0]


@contextmanager
def _write(con, actor, permission, *, action, target, before, after, unit, guard):
    outer = _ACTIVE.get()
    joined = isinstance(outer, Write) and outer.con is con
    if permission is not None or guard is not None:
        try:
            if permission is not None:
                require(actor, permission, unit)
            if guard is not None:
                guard(con, actor)
        except (PermissionDenied, Refused) as exc:
            if not joined:
                _record_denial(con, actor, permission or "state", action, target,
                               str(exc) if isinstance(exc, Refused) else None)
            raise
    w = Write(con, actor, action, target, before, after)
    if joined:
        w.outer, w.tx = outer, outer.tx
        yield w
        w._audit()
        return
    token = _ACTIVE.set(w)
    try:
        with transaction(con) as tx:
            w.tx = tx
            yield w
            w._audit()
            faults.point(f"write.before_commit:{w.action}")
    finally:
        _ACTIVE.reset(token)


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
            WHERE b.undone_at IS NULL AND b.kind = 'scores') AS latest
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
            WHERE b.undone_at IS NULL AND b.kind = 'models') AS latest
        WHERE rn = 1;
    """),
    # sign-in throttling per client address as well as per account (auth.authenticate)
    ("login_client_v1", """
    ALTER TABLE login_attempts ADD COLUMN IF NOT EXISTS client VARCHAR;
    """),
    # across the 1 July 2025 merger (crosswalk.py): the legacy communes and the old → new crosswalk
    ("crosswalk_v1", """
    CREATE TABLE IF NOT EXISTS legacy_units (
        legacy_code VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, unit_type VARCHAR NOT NULL,
        district_code VARCHAR, district VARCHAR, province_code VARCHAR NOT NULL, province VARCHAR NOT NULL,
        lat DOUBLE, lon DOUBLE);
    CREATE TABLE IF NOT EXISTS crosswalk (
        legacy_code VARCHAR NOT NULL, legacy_name VARCHAR NOT NULL, legacy_district VARCHAR,
        legacy_province VARCHAR NOT NULL, unit_code VARCHAR NOT NULL, share DOUBLE NOT NULL,
        share_method VARCHAR NOT NULL, PRIMARY KEY (legacy_code, unit_code));
    """),
    # the council's vote on each award proposal (votes.py): append-only, the latest per
    # (period, unit, award) counts; counts only, never who voted how
    ("award_votes_v1", """
    CREATE SEQUENCE IF NOT EXISTS award_vote_seq START 1;
    CREATE TABLE IF NOT EXISTS award_votes (
        vote_id BIGINT PRIMARY KEY, period VARCHAR NOT NULL, unit_code VARCHAR NOT NULL,
        award_code VARCHAR NOT NULL, votes_for INTEGER NOT NULL, votes_against INTEGER NOT NULL,
        votes_abstain INTEGER NOT NULL, threshold DOUBLE NOT NULL, passed BOOLEAN NOT NULL,
        profile VARCHAR, recorded_by VARCHAR NOT NULL, recorded_at TIMESTAMP NOT NULL, note VARCHAR);
    """),
    # the period's lifecycle (lifecycle.py): append-only state changes (the latest counts; none =
    # 'open'), each unit's submission of its dossier, the unit a 'unit' account speaks for, and the
    # official profile changed after the weights were fixed (chair + reason, noticed on the ranking)
    ("lifecycle_v1", """
    CREATE SEQUENCE IF NOT EXISTS period_transition_seq START 1;
    CREATE TABLE IF NOT EXISTS period_transitions (
        transition_id BIGINT PRIMARY KEY, period VARCHAR NOT NULL, from_state VARCHAR NOT NULL,
        to_state VARCHAR NOT NULL, deadline DATE, reason VARCHAR, changed_by VARCHAR NOT NULL,
        changed_at TIMESTAMP NOT NULL);
    CREATE TABLE IF NOT EXISTS dossier_submissions (
        period VARCHAR NOT NULL, unit_code VARCHAR NOT NULL, submitted_by VARCHAR NOT NULL,
        submitted_at TIMESTAMP NOT NULL, PRIMARY KEY (period, unit_code));
    CREATE TABLE IF NOT EXISTS user_units (
        username VARCHAR PRIMARY KEY, unit_code VARCHAR NOT NULL);
    CREATE TABLE IF NOT EXISTS official_changes (
        period VARCHAR NOT NULL, profile_id BIGINT NOT NULL, state VARCHAR NOT NULL, reason VARCHAR NOT NULL,
        changed_by VARCHAR NOT NULL, changed_at TIMESTAMP NOT NULL);
    """),
    # evidence files (evidence.py): metadata here, the bytes in a content-addressed folder
    ("evidence_v1", """
    CREATE SEQUENCE IF NOT EXISTS evidence_seq START 1;
    CREATE TABLE IF NOT EXISTS evidence_files (
        evidence_id BIGINT PRIMARY KEY, unit_code VARCHAR NOT NULL, period VARCHAR NOT NULL,
        criterion_code VARCHAR NOT NULL, file_name VARCHAR NOT NULL, size BIGINT NOT NULL,
        sha256 VARCHAR NOT NULL, mime VARCHAR NOT NULL, uploaded_by VARCHAR NOT NULL,
        uploaded_at TIMESTAMP NOT NULL, removed_by VARCHAR, removed_at TIMESTAMP);
    """),
    # the appraisal team's review of a dossier, criterion by criterion (appraisal.py): append-only,
    # the latest per (period, unit, criterion) counts
    ("appraisal_v1", """
    CREATE SEQUENCE IF NOT EXISTS appraisal_review_seq START 1;
    CREATE TABLE IF NOT EXISTS appraisal_reviews (
        review_id BIGINT PRIMARY KEY, period VARCHAR NOT NULL, unit_code VARCHAR NOT NULL,
        criterion_code VARCHAR NOT NULL, decision VARCHAR NOT NULL, self_value DOUBLE PRECISION,
        value DOUBLE PRECISION, reason VARCHAR, reviewer VARCHAR NOT NULL, reviewed_at TIMESTAMP NOT NULL,
        batch_id BIGINT);
    """),
    # a unit's objections (kiến nghị) to its provisional result (objections.py)
    ("objections_v1", """
    CREATE SEQUENCE IF NOT EXISTS objection_seq START 1;
    CREATE TABLE IF NOT EXISTS objections (
        objection_id BIGINT PRIMARY KEY, period VARCHAR NOT NULL, unit_code VARCHAR NOT NULL,
        criterion_code VARCHAR, status VARCHAR NOT NULL, filed_by VARCHAR NOT NULL,
        filed_at TIMESTAMP NOT NULL, text VARCHAR NOT NULL, resolution VARCHAR, resolved_by VARCHAR,
        resolved_at TIMESTAMP);
    """),
]


def applied_migrations(con) -> set[str]:
    try:
        rows = con.execute("SELECT key FROM meta WHERE key LIKE 'migration:%'").fetchall()
    except MissingTable:
        return set()
    return {r[0].removeprefix("migration:") for r in rows}


def migrate(con) -> list[str]:
    """Apply the named migrations the database does not have yet; returns those applied."""
    have = applied_migrations(con)
    done = []
    token = _ACTIVE.set(MIGRATION_EXEMPTION)
    try:
        for name, sql in _MIGRATIONS:
            if name in have:
                continue
            with transaction(con):
                con.execute(sql)
                con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [f"migration:{name}", now().isoformat()])
            done.append(name)
    finally:
        _ACTIVE.reset(token)
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
# Refused writes ("denied:…") wrote nothing, so they are neutral too.
RESULT_NEUTRAL_ACTIONS = ("weights.save", "council.submit", "council.consensus",
                          "user.add", "user.update", "user.demo_accounts")


def results_version(con) -> int:
    """Like ``data_version``, but unchanged by writes that cannot change a result.

    The dashboard keys its cached results on this, so a council member saving a draft profile
    during a meeting does not make every leader's next click recompute the national ranking."""
    marks = ", ".join("?" for _ in RESULT_NEUTRAL_ACTIONS)
    return int(con.execute(
        f"SELECT coalesce(max(audit_id), 0) FROM audit_log WHERE (action NOT IN ({marks}) "
        "AND action NOT LIKE 'denied:%') OR (action = 'weights.save' AND target LIKE ?)",
        [*RESULT_NEUTRAL_ACTIONS, f"{DEFAULT_PROFILE_NAME}@v%"]).fetchall()[0][0])


def get_meta(con, key: str, default: str | None = None) -> str | None:
    row = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else default


def set_meta(con, key: str, value: str, *, actor=CLI_ACTOR) -> None:
    with write(con, actor, "setup", action="meta.set", target=key, after=value):
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
