"""The "Dân vận khéo" model registry's storage: models and exemplars as data.

A model (mô hình) or exemplar (điển hình) belongs to one unit and one period (the period it
is registered for: the cycle is register at the start of the year, check, recognise,
replicate, review at the end). It has a field, a kind (collective or individual), a status
(registered → in progress → recognised → replicated, or dropped), the level that recognised
it, evidence, and the appraiser's rubric scores (vocabulary and rubric: ``rubric``).

Storage mirrors scores: every import, status change or rubric scoring is a batch in the
shared ``batches`` table (kind ``'models'``); ``model_entries`` is append-only and the view
``current_models`` holds the newest entry of each (period, model_id) whose batch is not
undone, so ``batch_store.undo_batch`` brings back exactly what a batch superseded and a model's
status history is the list of its entries.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import pandas as pd

from . import batches as batch_store
from . import lifecycle, store
from . import units as unit_store
from .frames import isin
from .permissions import require
from .rubric import (
    LEVEL_LABELS,
    LEVELS,
    RECOGNISED,
    STATUS_LABELS,
    STATUSES,
    TRANSITIONS,
    ModelsError,
    Rubric,
    check_rubric_scores,
    default_fields,
    default_rubric,
    rubric_json,
    rubric_total,
)

BATCH_KIND = "models"


# --------------------------------------------------------------------------- schema
MIGRATION = "models_v1"  # the registry's tables, in store._MIGRATIONS

ENTRY_COLUMNS = ["period", "model_id", "unit_code", "name", "field", "kind", "status", "level", "evidence",
                 "note", "rubric", "rubric_total"]
LIST_COLUMNS = ["model_id", "unit_code", "name", "field", "kind", "status", "level", "rubric_total", "period",
                "unit_name", "field_name", "status_name", "level_name", "evidence", "note"]


def ensure_schema(con) -> None:
    """Apply the registry migration if this database does not have it yet."""
    if MIGRATION not in store.applied_migrations(con):
        store.migrate(con)


def _has_registry(con) -> bool:
    return MIGRATION in store.applied_migrations(con)


# --------------------------------------------------------------------------- reading the registry
def current_models(con, period: str | None = None, unit_code: str | None = None,
                   periods_: Iterable[str] | None = None) -> pd.DataFrame:
    """The current registry (one row per period × model), raw codes, rubric as a JSON string."""
    if not _has_registry(con):
        return pd.DataFrame(columns=ENTRY_COLUMNS + ["batch_id"])
    return batch_store.select_current(con, "current_models", period=period, periods_=periods_, unit_code=unit_code,
                                order_by="period, unit_code, model_id")


def list_models(con, period: str, unit_code: str | None = None, *, rubric: Rubric | None = None,
                with_items: bool = True, models: pd.DataFrame | None = None) -> pd.DataFrame:
    """The models of a period (optionally one unit), with labels and one column per rubric item.

    ``models``: the period's ``current_models`` when the caller already holds them.
    Columns start with ``model_id, unit_code, name, field, kind, status, level, rubric_total``
    (codes, for machines), then the period, Vietnamese labels, evidence, note, rubric items.
    """
    rubric = rubric or default_rubric()
    if models is None:
        m = current_models(con, period, unit_code)
    else:   # the period's current_models, read once by the caller (the dashboard's cache)
        m = models if unit_code is None else models[models["unit_code"] == unit_code].reset_index(drop=True)
    fields = default_fields().labels
    names = unit_store.unit_names(con)
    out = m.reindex(columns=ENTRY_COLUMNS).copy()
    out["unit_name"] = out["unit_code"].map(names)
    out["field_name"] = out["field"].map(fields)
    out["status_name"] = out["status"].map(STATUS_LABELS)
    out["level_name"] = out["level"].map(LEVEL_LABELS)
    out["rubric_total"] = out["rubric_total"].astype("float64")
    cols = list(LIST_COLUMNS)
    if with_items:
        parsed = [json.loads(r) if isinstance(r, str) and r else {} for r in out["rubric"]]
        for it in rubric.items:
            out[f"rubric_{it.code}"] = pd.Series([p.get(it.code) for p in parsed], index=out.index, dtype="float64")
            cols.append(f"rubric_{it.code}")
    return out[cols].reset_index(drop=True)


def get_model(con, period: str, model_id: str) -> dict:
    row = current_models(con, period)
    row = row[row["model_id"] == model_id]
    if row.empty:
        raise ModelsError(f"Không có mô hình mã '{model_id}' trong kỳ {period}")
    rec = row.iloc[0].to_dict()
    rec["rubric"] = json.loads(rec["rubric"]) if isinstance(rec.get("rubric"), str) and rec["rubric"] else {}
    for k, v in list(rec.items()):
        if isinstance(v, float) and math.isnan(v):
            rec[k] = None
    return rec


def model_history(con, period: str, model_id: str) -> pd.DataFrame:
    """Every state a model had in a period, newest first: status, level, rubric total, who, when,
    and whether that batch was undone."""
    if not _has_registry(con):
        return pd.DataFrame()
    h = con.execute(
        """SELECT e.status, e.level, e.rubric_total, e.name, e.field, e.evidence, e.note, e.batch_id,
                  b.actor, b.created_at, b.filename, b.comment, b.undone_at IS NOT NULL AS undone
           FROM model_entries e JOIN batches b USING (batch_id)
           WHERE e.period = ? AND e.model_id = ? AND b.kind = 'models'
           ORDER BY e.batch_id DESC""", [period, model_id]).df()
    h["status_name"] = h["status"].map(STATUS_LABELS)
    h["level_name"] = h["level"].map(LEVEL_LABELS)
    return h


def counts_by_field_status(con, period: str, unit_codes: Iterable[str] | None = None) -> pd.DataFrame:
    """Counts per field × status (all six fields, all statuses, zeros included) — the Can Lộc breakdown."""
    m = current_models(con, period)
    if unit_codes is not None:
        m = m[isin(m["unit_code"], list(unit_codes))]
    fl = default_fields()
    grid = pd.MultiIndex.from_product([fl.codes, list(STATUSES)], names=["field", "status"])
    c = m.groupby(["field", "status"]).size().reindex(grid, fill_value=0).rename("models").reset_index()
    c["field_name"] = c["field"].map(fl.labels)
    c["status_name"] = c["status"].map(STATUS_LABELS)
    return c


def best_models(con, period: str, n: int = 10, unit_codes: Iterable[str] | None = None) -> pd.DataFrame:
    """The highest-scored recognised (or replicated) models of the period."""
    m = list_models(con, period, with_items=False)
    if unit_codes is not None:
        m = m[isin(m["unit_code"], list(unit_codes))]
    m = m[m["status"].isin(RECOGNISED) & m["rubric_total"].notna()]
    lvl = m["level"].map({"central": 2, "province": 1, "commune": 0}).fillna(0)
    return (m.assign(_lvl=lvl).sort_values(["rubric_total", "_lvl", "model_id"], ascending=[False, False, True])
            .drop(columns="_lvl").head(n).reset_index(drop=True))


# --------------------------------------------------------------------------- targets
def targets(con, period: str, units: Iterable[str]) -> pd.DataFrame:
    """Per unit × field target: the council's value where set, else the field's default."""
    units = list(units)
    fl = default_fields()
    grid = pd.DataFrame([(u, f.code, f.default_target) for u in units for f in fl.fields],
                        columns=["unit_code", "field", "target"])
    if _has_registry(con) and units:
        t = con.execute("SELECT unit_code, field, target FROM model_targets WHERE period = ?", [period]).df()
        if len(t):
            grid = grid.merge(t, on=["unit_code", "field"], how="left", suffixes=("", "_set"))
            grid["target"] = grid["target_set"].where(grid["target_set"].notna(), grid["target"])
            grid = grid.drop(columns="target_set")
    return grid


# --------------------------------------------------------------------------- writing batches
@dataclass
class ModelsBatch:
    batch_id: int | None
    new: int
    changed: int
    unchanged: int
    skipped_duplicate: bool = False


def _normalise_entries(rows: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ENTRY_COLUMNS if c not in rows.columns and c not in ("rubric", "rubric_total",
                                                                               "evidence", "note", "level")]
    if missing:
        raise ModelsError(f"Thiếu cột: {', '.join(missing)}")
    out = rows.reindex(columns=ENTRY_COLUMNS).copy()
    for c in ("period", "model_id", "unit_code", "name", "field", "kind", "status"):
        out[c] = out[c].astype(str)
    for c in ("level", "evidence", "note", "rubric"):
        out[c] = out[c].astype(object).where(out[c].notna(), None)
    out["rubric_total"] = pd.to_numeric(out["rubric_total"], errors="coerce").astype("float64")
    return out.reset_index(drop=True)


_SAME = " AND ".join(f"c.{c} IS NOT DISTINCT FROM i.{c}" for c in ENTRY_COLUMNS if c not in ("period", "model_id"))


def write_models_batch(con, rows: pd.DataFrame, *, actor, filename: str | None, content_hash: str | None,
                       dry_run: bool = False, synthetic: bool = False, comment: str | None = None,
                       action: str = "models.import") -> ModelsBatch:
    """Write validated registry rows as one batch (one transaction); only new and changed models
    are stored. Same contract as ``batch_store.write_batch``."""
    ensure_schema(con)
    rows = _normalise_entries(rows)
    with store.write(con, actor, "import", action=action,
                     guard=lifecycle.rows_guard(rows[["period", "unit_code"]], "models")) as tx:
        with store.registered(con, "_mrows", rows):
            con.execute(f"""CREATE OR REPLACE TEMP TABLE _mclassified AS
                SELECT i.*, CASE WHEN c.model_id IS NULL THEN 'new' WHEN {_SAME} THEN 'unchanged'
                                 ELSE 'changed' END AS change
                FROM _mrows i LEFT JOIN current_models c ON c.period = i.period AND c.model_id = i.model_id""")
        new, changed, unchanged = batch_store.classified_counts(con, "_mclassified", "change")
        if dry_run or new + changed == 0:
            tx.rollback()
            return ModelsBatch(None, new, changed, unchanged, skipped_duplicate=not dry_run)
        batch_id = batch_store.record_batch(con, BATCH_KIND, actor, filename, content_hash, (new, changed, unchanged),
                                      synthetic=synthetic, comment=comment)
        con.execute(f"INSERT INTO model_entries SELECT {int(batch_id)}, {', '.join(ENTRY_COLUMNS)} "
                    "FROM _mclassified WHERE change <> 'unchanged'")
        con.execute("DROP TABLE _mclassified")
        tx.target, tx.after = f"batch:{batch_id}", {"filename": filename, "content_hash": content_hash,
                                                    "new": new, "changed": changed, "unchanged": unchanged}
    return ModelsBatch(int(batch_id), new, changed, unchanged)


def _update_one(con, period: str, model_id: str, changes: dict, *, actor, action: str, comment: str) -> ModelsBatch:
    rec = get_model(con, period, model_id)
    row = {c: rec.get(c) for c in ENTRY_COLUMNS}
    row["rubric"] = rubric_json(rec["rubric"]) if rec["rubric"] else None
    row.update(changes)
    res = write_models_batch(con, pd.DataFrame([row]), actor=actor, filename=None, content_hash=None,
                             comment=comment, action=action)
    if res.batch_id is None:
        raise ModelsError(f"Mô hình '{model_id}' không thay đổi gì")
    return res


def set_status(con, period: str, model_id: str, status: str, *, actor, level: str | None = None,
               note: str | None = None, evidence: str | None = None) -> ModelsBatch:
    """Move a model to a new status (a one-row batch: undoable, kept in its history).

    Recognised and replicated models need the level that recognised them (default: the level
    they already have, else the commune)."""
    require(actor, "import")
    if status not in STATUSES:
        raise ModelsError(f"Trạng thái '{status}' không hợp lệ; chỉ nhận: "
                          + ", ".join(f"{s} ({STATUS_LABELS[s]})" for s in STATUSES))
    if level is not None and level not in LEVELS:
        raise ModelsError(f"Cấp công nhận '{level}' không hợp lệ; chỉ nhận: {', '.join(LEVELS)}")
    rec = get_model(con, period, model_id)
    old = rec["status"]
    if status != old and status not in TRANSITIONS[old]:
        raise ModelsError(f"Không chuyển được mô hình '{model_id}' từ '{STATUS_LABELS[old]}' sang "
                          f"'{STATUS_LABELS[status]}'; từ trạng thái này chỉ chuyển sang: "
                          + ", ".join(STATUS_LABELS[s] for s in STATUSES if s in TRANSITIONS[old]))
    changes: dict[str, Any] = {"status": status}
    if status in RECOGNISED:
        changes["level"] = level or rec.get("level") or "commune"
    elif level is not None:
        changes["level"] = level
    else:
        changes["level"] = None
    if note is not None:
        changes["note"] = note
    if evidence is not None:
        changes["evidence"] = evidence
    return _update_one(con, period, model_id, changes, actor=actor, action="models.status",
                       comment=f"Chuyển trạng thái: {STATUS_LABELS[old]} → {STATUS_LABELS[status]}")


def score_model(con, period: str, model_id: str, scores: Mapping[str, Any], *, actor,
                rubric: Rubric | None = None) -> ModelsBatch:
    """Record the appraiser's rubric scores for a model (a one-row batch)."""
    require(actor, "import")
    rubric = rubric or default_rubric()
    try:
        clean = check_rubric_scores(scores, rubric)
    except ModelsError as exc:
        raise ModelsError(f"Mô hình '{model_id}': {exc}") from None
    return _update_one(con, period, model_id, {"rubric": rubric_json(clean),
                                               "rubric_total": rubric_total(clean, rubric)},
                       actor=actor, action="models.rubric", comment="Chấm điểm chất lượng mô hình")
