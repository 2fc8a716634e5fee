"""The PostgreSQL backend of the store (psycopg 3 with a connection pool).

:func:`store.connect` returns a :class:`PgConnection` for a ``postgresql://…`` URL and a DuckDB
connection for a file path; both answer the same small interface, which is all the library uses:

- ``execute(sql, params)`` → a result with ``fetchall()``, ``fetchone()`` and ``df()``;
  ``executemany(sql, rows)``;
- ``register(name, frame)`` / ``unregister(name)`` (through :func:`store.registered`): a frame
  readable from SQL — here a temporary table filled with ``COPY``;
- ``BEGIN TRANSACTION`` / ``COMMIT`` / ``ROLLBACK`` (through :func:`store.transaction`);
- ``cursor()``: an independent handle for one script run of the dashboard; ``close()``.

The library writes its SQL once, in the dialect both engines share; the few DuckDB spellings it
uses (``?`` and ``$n`` parameters, ``DOUBLE``, ``INSERT OR REPLACE/IGNORE``, ``CREATE OR REPLACE
TEMP TABLE``) are translated here, so no module outside the store knows which engine answers.

A handle borrows a pooled connection per statement and holds it only while a transaction is open
or a registered frame exists (temporary tables live on one connection), so a hundred dashboard
sessions share a pool of a few connections.
"""

from __future__ import annotations

import io
import re
import threading
from functools import lru_cache

import pandas as pd
import psycopg
from psycopg import errors as pg_errors
from psycopg.adapt import Loader
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool

from .errors import StoreError

URL_PREFIXES = ("postgresql://", "postgres://")
POOL_MAX = 8


def is_url(target) -> bool:
    return isinstance(target, str) and target.startswith(URL_PREFIXES)


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


class _TextLoader(Loader):
    """JSON columns come back as text, as DuckDB returns them (callers json.loads themselves)."""

    def load(self, data):
        return bytes(data).decode("utf-8")


def _configure(conn: psycopg.Connection) -> None:
    for name in ("json", "jsonb"):
        conn.adapters.register_loader(name, _TextLoader)


# --------------------------------------------------------------------------- SQL translation
_LITERAL = re.compile(r"('(?:[^']|'')*')")
_DOLLAR = re.compile(r"\$(\d+)")
_DOUBLE = re.compile(r"\bDOUBLE\b(?!\s+PRECISION)", re.IGNORECASE)
_ROWID = re.compile(r"\browid\b", re.IGNORECASE)
_OR_REPLACE = re.compile(r"^\s*INSERT\s+OR\s+(REPLACE|IGNORE)\s+INTO\s+(\w+)", re.IGNORECASE)
_TEMP_AS = re.compile(r"^\s*CREATE\s+OR\s+REPLACE\s+TEMP(?:ORARY)?\s+TABLE\s+(\w+)", re.IGNORECASE)


@lru_cache(maxsize=512)
def _translate(sql: str, with_params: bool) -> tuple[str, tuple[int, ...] | None]:
    """DuckDB spelling → PostgreSQL; returns the SQL and, for ``$n`` parameters, the order in which
    the caller's parameters fill the ``%s`` slots (None: in the given order)."""
    order: list[int] = []
    parts = _LITERAL.split(sql)
    if with_params:
        for i in range(1, len(parts), 2):
            parts[i] = parts[i].replace("%", "%%")
    for i in range(0, len(parts), 2):   # outside string literals only
        # DuckDB's rowid (insertion order of an append-only table) is PostgreSQL's ctid there
        p = _ROWID.sub("ctid", _DOUBLE.sub("DOUBLE PRECISION", parts[i]))
        if with_params:
            p = p.replace("%", "%%").replace("?", "%s")

            def dollar(m):
                order.append(int(m.group(1)) - 1)
                return "%s"
            p = _DOLLAR.sub(dollar, p)
        parts[i] = p
    return "".join(parts), (tuple(order) if order else None)


@lru_cache(maxsize=64)
def _upsert_clause(url: str, table: str, mode: str, key_cols: tuple[str, ...], cols: tuple[str, ...]) -> str:
    if mode == "IGNORE" or not key_cols:
        return " ON CONFLICT DO NOTHING"
    rest = [c for c in cols if c not in key_cols]
    if not rest:
        return f" ON CONFLICT ({', '.join(key_cols)}) DO NOTHING"
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in rest)
    return f" ON CONFLICT ({', '.join(key_cols)}) DO UPDATE SET {sets}"


def _pg_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(series):
        return "BIGINT"
    if pd.api.types.is_float_dtype(series):
        return "DOUBLE PRECISION"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "TIMESTAMP"
    return "TEXT"


# --------------------------------------------------------------------------- results
_FLOAT_OIDS = {700, 701, 1700}
_INT_OIDS = {20, 21, 23}
_BOOL_OIDS = {16}
_TIME_OIDS = {1114, 1184, 1082}


class Result:
    """A finished statement's rows (fetched whole, so the pooled connection goes back at once)."""

    def __init__(self, rows: list[tuple] | None, description):
        self._rows = rows or []
        self._pos = 0
        self.description = description

    def fetchall(self) -> list[tuple]:
        out = self._rows[self._pos:]
        self._pos = len(self._rows)
        return out

    def fetchone(self):
        if self._pos >= len(self._rows):
            return None
        self._pos += 1
        return self._rows[self._pos - 1]

    def df(self) -> pd.DataFrame:
        cols = [d.name for d in (self.description or [])]
        rows = self.fetchall()
        frame = pd.DataFrame.from_records(rows, columns=cols) if rows else pd.DataFrame(
            {c: pd.Series(dtype=_empty_dtype(d.type_code)) for c, d in zip(cols, self.description or [])})
        for c, d in zip(cols, self.description or []):
            if d.type_code in _FLOAT_OIDS and frame[c].dtype == object:
                frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
            elif d.type_code in _TIME_OIDS and rows:
                frame[c] = pd.to_datetime(frame[c])
        return frame

    fetchdf = df


def _empty_dtype(oid: int) -> str:
    if oid in _FLOAT_OIDS:
        return "float64"
    if oid in _INT_OIDS:
        return "int64"
    if oid in _BOOL_OIDS:
        return "bool"
    if oid in _TIME_OIDS:
        return "datetime64[ns]"
    return "object"


# --------------------------------------------------------------------------- the connection
_POOLS: dict[str, ConnectionPool] = {}
_POOLS_LOCK = threading.Lock()


def pool_for(url: str) -> ConnectionPool:
    with _POOLS_LOCK:
        pool = _POOLS.get(url)
        if pool is None or pool.closed:
            pool = ConnectionPool(url, min_size=1, max_size=POOL_MAX, kwargs={"autocommit": True},
                                  configure=_configure, open=True, name="danvan")
            _POOLS[url] = pool
        return pool


def close_pool(url: str) -> None:
    with _POOLS_LOCK:
        pool = _POOLS.pop(url, None)
    if pool is not None:
        pool.close()


def close_pools() -> None:
    with _POOLS_LOCK:
        for pool in _POOLS.values():
            pool.close()
        _POOLS.clear()


def check(url: str) -> None:
    """Reach the server once with a clear Vietnamese message when it cannot be reached."""
    try:
        psycopg.connect(url, connect_timeout=10).close()
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise StoreError(f"Không kết nối được PostgreSQL '{redact(url)}': {first}") from None


class PgConnection:
    """One handle on the PostgreSQL store (see the module docstring for the interface)."""

    backend = "postgresql"

    def __init__(self, url: str, *, read_only: bool = False):
        self.url = url
        self.read_only = read_only
        self._pool = pool_for(url)
        self._conn: psycopg.Connection | None = None   # pinned while a transaction / temp table exists
        self._registered: set[str] = set()
        self._lock = threading.RLock()

    # -- connection borrowing
    def _borrow(self) -> psycopg.Connection:
        if self._conn is not None:
            return self._conn
        return self._pool.getconn(timeout=30)

    def _give_back(self, conn: psycopg.Connection) -> None:
        if conn is self._conn:
            if conn.info.transaction_status == TransactionStatus.IDLE and not self._registered:
                self._conn = None
                self._pool.putconn(conn)
            return
        self._pool.putconn(conn)

    @property
    def in_transaction(self) -> bool:
        return self._conn is not None and self._conn.info.transaction_status != TransactionStatus.IDLE

    # -- the interface
    def execute(self, sql: str, params=None) -> Result:
        with self._lock:
            head = sql.lstrip()[:20].upper()
            if head.startswith("BEGIN"):
                if self._conn is None:
                    self._conn = self._pool.getconn(timeout=30)
                self._conn.execute("BEGIN READ ONLY" if self.read_only else "BEGIN")
                return Result([], None)
            m = _TEMP_AS.match(sql)
            if m:
                self.execute(f"DROP TABLE IF EXISTS {m.group(1)}")
                sql = _TEMP_AS.sub(f"CREATE TEMP TABLE {m.group(1)}", sql, count=1)
            params = list(params) if params is not None else []
            conn = self._borrow()
            try:
                mm = _OR_REPLACE.match(sql)
                if mm:
                    mode, table = mm.group(1).upper(), mm.group(2)
                    sql = _OR_REPLACE.sub(f"INSERT INTO {table}", sql, count=1) + self._conflict(conn, table, mode)
                text, order = _translate(sql, bool(params))
                if order is not None:
                    params = [params[i] for i in order]
                try:
                    cur = conn.execute(text, params or None, prepare=False)
                except pg_errors.InFailedSqlTransaction:
                    raise
                rows = cur.fetchall() if cur.description is not None else None
                return Result(rows, cur.description)
            finally:
                self._give_back(conn)

    def executemany(self, sql: str, rows) -> None:
        with self._lock:
            text, order = _translate(sql, True)
            conn = self._borrow()
            try:
                with conn.cursor() as cur:
                    cur.executemany(text, [list(r) if order is None else [r[i] for i in order] for r in rows])
            finally:
                self._give_back(conn)

    def _conflict(self, conn, table: str, mode: str) -> str:
        keys = tuple(r[0] for r in conn.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary", [table]).fetchall())
        cols = tuple(r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "AND table_schema = current_schema() ORDER BY ordinal_position", [table]).fetchall())
        return _upsert_clause(self.url, table, mode, keys, cols)

    def register(self, name: str, frame: pd.DataFrame) -> None:
        """``frame`` as the temporary table ``name``, filled with one COPY (not row by row)."""
        with self._lock:
            if self._conn is None:
                self._conn = self._pool.getconn(timeout=30)
            conn = self._conn
            cols = list(frame.columns)
            ddl = ", ".join(f'"{c}" {_pg_type(frame[c])}' for c in cols)
            conn.execute(f"DROP TABLE IF EXISTS {name}")
            conn.execute(f"CREATE TEMP TABLE {name} ({ddl})")
            self._registered.add(name)
            copy_frame(conn, name, frame)

    def unregister(self, name: str) -> None:
        with self._lock:
            conn = self._conn
            self._registered.discard(name)
            if conn is None:
                return
            if conn.info.transaction_status != TransactionStatus.INERROR:
                conn.execute(f"DROP TABLE IF EXISTS {name}")
            self._give_back(conn)

    def commit_or_rollback(self, verb: str) -> None:
        with self._lock:
            conn = self._conn
            if conn is None:
                return
            try:
                conn.execute(verb)
            finally:
                self._give_back(conn)

    def cursor(self) -> PgConnection:
        return PgConnection(self.url, read_only=self.read_only)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    if self._conn.info.transaction_status != TransactionStatus.IDLE:
                        self._conn.execute("ROLLBACK")
                    for name in list(self._registered):
                        self._conn.execute(f"DROP TABLE IF EXISTS {name}")
                finally:
                    self._registered.clear()
                    self._pool.putconn(self._conn)
                    self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def copy_frame(conn: psycopg.Connection, table: str, frame: pd.DataFrame) -> None:
    """Rows of ``frame`` into ``table`` through COPY … FROM STDIN (CSV text, NULL for missing)."""
    if frame.empty:
        return
    out = frame.copy()
    for c in out.columns:
        s = out[c]
        if pd.api.types.is_float_dtype(s):
            # a missing float is NULL, as DuckDB reads a registered frame
            out[c] = s.map(lambda v: None if v != v else repr(float(v))).astype(object)
        elif pd.api.types.is_bool_dtype(s):
            out[c] = s.map(lambda v: None if v is None or v is pd.NA else ("t" if v else "f"))
    buf = io.StringIO()
    out.to_csv(buf, index=False, header=False, na_rep="\\N")
    cols = ", ".join(f'"{c}"' for c in frame.columns)
    with conn.cursor().copy(f"COPY {table} ({cols}) FROM STDIN (FORMAT csv, NULL '\\N')") as cp:
        cp.write(buf.getvalue())


MissingTable = pg_errors.UndefinedTable
Error = psycopg.Error
