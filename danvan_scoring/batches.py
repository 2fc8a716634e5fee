"""Score batches: scores are append-only.

Every import is a batch; the current value of a key (unit × period × criterion × stage) is the
newest entry of a batch that is not undone, so a correction supersedes without overwriting and
undoing a batch brings back exactly what it superseded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import pandas as pd

from . import faults, lifecycle
from .errors import StoreError
from .store import now, registered, write

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


# An incoming value: "không phát sinh" arrives as NaN, which a pandas scan reads as NULL, so
# it is carried as a flag and stored as the float NaN (equal to itself in SQL, so a re-import
# of the same N/A changes nothing).
_VALUE = "CASE WHEN i.not_applicable THEN CAST('NaN' AS DOUBLE) ELSE i.value END"
_CLASSIFY = f"""SELECT i.unit_code, i.period, i.criterion_code, i.stage, {_VALUE} AS value, i.evidence, i.note,
                      CASE WHEN c.value IS NULL THEN 'new'
                           WHEN c.value = {_VALUE} AND c.evidence IS NOT DISTINCT FROM i.evidence
                                AND c.note IS NOT DISTINCT FROM i.note THEN 'unchanged'
                           ELSE 'changed' END AS status"""
_AGAINST_CURRENT = """FROM {table} i LEFT JOIN current_scores c
                 ON c.unit_code = i.unit_code AND c.period = i.period
                AND c.criterion_code = i.criterion_code AND c.stage = i.stage"""


def _diff(con, rows: pd.DataFrame) -> pd.DataFrame:
    """Classify each incoming row against the current value: new, changed or unchanged."""
    with registered(con, "_incoming", rows):
        return con.execute(f"{_CLASSIFY}, c.value AS old_value {_AGAINST_CURRENT.format(table='_incoming')}").df()


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
    out["not_applicable"] = out["value"].isna()
    out["value"] = out["value"].fillna(0.0)
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

    ``actor`` is a :class:`permissions.Actor` allowed to import. Importing the same content again
    writes nothing (``skipped_duplicate``).
    """
    rows = _normalise_rows(rows)
    with write(con, actor, "import", action="scores.import",
               guard=lifecycle.rows_guard(rows[["period", "unit_code", "stage"]])) as tx:
        return _insert_batch(con, rows, tx, actor=actor, filename=filename, content_hash=content_hash,
                             dry_run=dry_run, synthetic=synthetic, comment=comment)


def _insert_batch(con, rows: pd.DataFrame, tx, *, actor, filename, content_hash, dry_run=False,
                  synthetic=False, comment=None) -> BatchResult:
    """The body of a score batch, inside the caller's write (``write_batch``, a unit's own
    self-scores in ``dossier``, an appraisal in ``appraisal``): ``rows`` normalised."""
    with registered(con, "_rows", rows):
        con.execute(f"CREATE OR REPLACE TEMP TABLE _classified AS {_CLASSIFY} "
                    f"{_AGAINST_CURRENT.format(table='_rows')}")
    new, changed, unchanged = classified_counts(con, "_classified", "status")
    if dry_run or new + changed == 0:
        con.execute("DROP TABLE _classified")
        if tx.outer is None:
            tx.rollback()
        else:                   # inside a larger write: nothing of this batch, no entry of its own
            tx.action = None
        return BatchResult(None, new, changed, unchanged, skipped_duplicate=not dry_run)
    batch_id = record_batch(con, "scores", actor, filename, content_hash, (new, changed, unchanged),
                            synthetic=synthetic, comment=comment)
    con.execute(
        f"""INSERT INTO score_entries SELECT {batch_id}, unit_code, period, criterion_code, stage, value,
                   evidence, note FROM _classified WHERE status <> 'unchanged'""")
    faults.point("batch.after_rows")
    con.execute("DROP TABLE _classified")
    tx.target = f"batch:{batch_id}"
    tx.after = {"filename": filename, "content_hash": content_hash, "new": new, "changed": changed,
                "unchanged": unchanged}
    return BatchResult(int(batch_id), new, changed, unchanged)


def batches(con) -> pd.DataFrame:
    return con.execute(
        "SELECT batch_id, kind, actor, created_at, filename, content_hash, rows_new, rows_changed, "
        "rows_unchanged, synthetic, undone_at, undone_by FROM batches ORDER BY batch_id DESC").df()


def _undo_guard(con, batch_id: int):
    """Undoing a batch changes what its rows changed: the period's state must allow writing them."""
    keys = con.execute("SELECT DISTINCT period, unit_code, stage FROM score_entries WHERE batch_id = ?",
                       [batch_id]).df()
    scores_ok = lifecycle.rows_guard(keys)
    models_ok = None
    if con.execute("SELECT 1 FROM batches WHERE batch_id = ? AND kind = 'models'", [batch_id]).fetchone():
        mkeys = con.execute("SELECT DISTINCT period, unit_code FROM model_entries WHERE batch_id = ?",
                            [batch_id]).df()
        models_ok = lifecycle.rows_guard(mkeys, "models")

    def _check(con, actor):
        scores_ok(con, actor)
        if models_ok is not None:
            models_ok(con, actor)
    return _check


def undo_batch(con, batch_id: int, *, actor) -> dict:
    """Undo one batch: its values stop being current and what they superseded comes back."""
    with write(con, actor, "undo", action="batch.undo", target=f"batch:{batch_id}", after={"undone": True},
               guard=_undo_guard(con, batch_id)) as w:
        row = con.execute("SELECT kind, undone_at, filename FROM batches WHERE batch_id = ?",
                          [batch_id]).fetchone()
        if row is None:
            raise StoreError(f"Không có lô nhập số {batch_id}")
        if row[1] is not None:
            raise StoreError(f"Lô nhập số {batch_id} đã được hoàn tác lúc {row[1]:%d/%m/%Y %H:%M}")
        n = con.execute("SELECT (SELECT count(*) FROM score_entries WHERE batch_id = $1) + "
                        "(SELECT count(*) FROM model_entries WHERE batch_id = $1)", [batch_id]).fetchone()[0]
        con.execute("UPDATE batches SET undone_at = ?, undone_by = ? WHERE batch_id = ?",
                    [now(), actor.username, batch_id])
        w.before = {"filename": row[2], "entries": n}
    return {"batch_id": batch_id, "entries": int(n)}
