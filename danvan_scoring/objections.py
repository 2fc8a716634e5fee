"""Objections (kiến nghị): a unit contests its provisional result; the council resolves each.

Filed only while the period is in ``objections``; ``period advance`` out of it is refused while
any is open (``lifecycle.advance``). An accepted objection reopens appraisal for that unit alone.
"""

from __future__ import annotations

import pandas as pd

from . import lifecycle, periods, store
from .errors import StoreError
from .permissions import Actor

COLUMNS = ["objection_id", "unit_code", "criterion_code", "status", "filed_by", "filed_at", "text", "resolution"]
STATUS_LABELS = {"open": "Chưa giải quyết", "accepted": "Chấp nhận", "rejected": "Không chấp nhận"}


def add(con, period: str, unit: str, text: str, *, actor: Actor, criterion: str | None = None) -> int:
    """A unit files an objection (about one criterion, or its whole result)."""
    text = (text or "").strip()
    if not text:
        raise StoreError("Kiến nghị phải có nội dung (--text)")
    lifecycle.ensure_schema(con)
    if criterion is not None and criterion not in periods.framework_for_period(con, period).criteria:
        raise StoreError(f"Bộ tiêu chí của kỳ {period} không có tiêu chí '{criterion}'")
    with store.write(con, actor, "objection", action="objection.add", target=f"{period}/{unit}", unit=unit,
                     guard=lifecycle.guard(period, "objection", [unit])) as w:
        if not con.execute("SELECT 1 FROM units WHERE unit_code = ?", [unit]).fetchone():
            raise StoreError(f"Không có đơn vị '{unit}'")
        oid = int(con.execute("SELECT nextval('objection_seq')").fetchone()[0])
        con.execute("INSERT INTO objections (objection_id, period, unit_code, criterion_code, status, filed_by, "
                    "filed_at, text) VALUES (?, ?, ?, ?, 'open', ?, ?, ?)",
                    [oid, period, unit, criterion, actor.username, store.now(), text])
        w.after = {"objection_id": oid, "criterion": criterion, "text": text}
    return oid


def get(con, objection_id: int) -> dict:
    lifecycle.ensure_schema(con)
    df = con.execute(f"SELECT period, {', '.join(COLUMNS)} FROM objections WHERE objection_id = ?",
                     [int(objection_id)]).df()
    if df.empty:
        raise StoreError(f"Không có kiến nghị số {objection_id}")
    return df.iloc[0].to_dict()


def resolve(con, objection_id: int, *, accept: bool, text: str, actor: Actor) -> dict:
    """The council accepts (appraisal reopens for that unit) or rejects an open objection, with its answer."""
    text = (text or "").strip()
    if not text:
        raise StoreError("Giải quyết kiến nghị phải ghi nội dung trả lời (--text)")
    row = get(con, objection_id)
    with store.write(con, actor, "objections", action="objection.resolve", target=f"objection:{objection_id}",
                     guard=lifecycle.guard(row["period"], "objection_resolve")) as w:
        if row["status"] != "open":
            raise StoreError(f"Kiến nghị số {objection_id} đã được giải quyết "
                             f"({STATUS_LABELS[row['status']].lower()})")
        status = "accepted" if accept else "rejected"
        con.execute("UPDATE objections SET status = ?, resolution = ?, resolved_by = ?, resolved_at = ? "
                    "WHERE objection_id = ?", [status, text, actor.username, store.now(), int(objection_id)])
        w.before, w.after = {"status": "open"}, {"status": status, "resolution": text}
    return {**row, "status": status, "resolution": text}


def list_objections(con, period: str, unit: str | None = None, *, actor: Actor | None = None) -> pd.DataFrame:
    """The period's objections with the exact columns of ``danvan objection list``; a unit account
    sees its own unit's only."""
    if not lifecycle._has_schema(con):
        return pd.DataFrame(columns=COLUMNS)
    if actor is not None and actor.role == "unit":
        unit = actor.unit_code
    sql = f"SELECT {', '.join(COLUMNS)} FROM objections WHERE period = ?"
    params: list = [period]
    if unit is not None:
        sql += " AND unit_code = ?"
        params.append(unit)
    return con.execute(sql + " ORDER BY objection_id", params).df()
