"""A unit's self-assessment dossier (hồ sơ tự đánh giá) and the council's progress view.

A unit account writes its own self-scores here (one criterion or several at once), checked by
the same rules as a file upload (``ingest.read_for_import``), in the period's
``self_assessment`` state and before its submission. Staff still upload a whole province's
self-scores by file (``ingest.import_file``).
"""

from __future__ import annotations

import io
import math
from typing import Mapping

import pandas as pd

from . import batches, evidence, ingest, lifecycle, periods, store
from .criteria import KIND_LABELS, Criterion, Kind
from .errors import StoreError
from .permissions import Actor

NA_WORD = "không phát sinh"


def rule_text(c: Criterion) -> str:
    """The criterion's rule in plain words (the dossier page shows it beside the input)."""
    parts = [f"{KIND_LABELS[c.kind]}, tối đa {c.max_points:g} điểm: nhập {c.value_hint()}"]
    if c.kind is Kind.penalty:
        parts = [f"Điểm trừ, tối đa {c.max_points:g} điểm: nhập số điểm bị trừ (số dương)"]
    if c.is_required:
        parts.append("bắt buộc")
    if c.evidence_required:
        parts.append("phải đính kèm ít nhất một tệp minh chứng")
    if c.allow_na:
        parts.append(f"được ghi '{NA_WORD}'")
    if c.appraiser_only:
        parts = [f"Do cấp trên chấm khi thẩm định (tối đa {c.max_points:g} điểm); đơn vị không tự chấm"]
    return "; ".join(parts) + "."


def _check_unit(con, actor: Actor, unit: str) -> None:
    if not actor.sees_unit(unit):
        raise StoreError(f"Tài khoản '{actor.username}' chỉ xem được hồ sơ của đơn vị {actor.unit_code}, "
                         f"không xem được hồ sơ của đơn vị {unit}")
    if not con.execute("SELECT 1 FROM units WHERE unit_code = ?", [unit]).fetchone():
        raise StoreError(f"Không có đơn vị '{unit}'")


def set_self_scores(con, period: str, unit: str, values: Mapping[str, float | None], *, actor: Actor,
                    notes: Mapping[str, str] | None = None) -> batches.BatchResult:
    """Write a unit's own self-scores ({criterion: value}; None = 'không phát sinh'), checked by the
    upload rules; refused for another unit, the wrong state, or after submission."""
    lifecycle.ensure_schema(con)
    notes = notes or {}
    buf = io.StringIO()
    frame = pd.DataFrame([{"unit_code": unit, "period": period, "criterion_code": code,
                           "score": NA_WORD if v is None or (isinstance(v, float) and math.isnan(v)) else v,
                           "stage": "self", "note": notes.get(code)} for code, v in values.items()])
    frame.to_csv(buf, index=False)
    with store.write(con, actor, "dossier", action="dossier.self_scores", target=f"{period}/{unit}", unit=unit,
                     guard=lifecycle.guard(period, "self", [unit])) as w:
        parsed = ingest.read_for_import(con, buf.getvalue().encode("utf-8"), "ho-so.csv", period=period,
                                        stage="self")
        if not parsed.ok:
            raise StoreError("; ".join(p.reason for p in parsed.problems))
        # a unit's evidence lives in files; a document reference it typed earlier is kept
        rows = batches._normalise_rows(parsed.rows)
        result = batches._insert_batch(con, rows, w, actor=actor, filename=None, content_hash=None,
                                       comment="hồ sơ tự đánh giá")
        w.after = {"criteria": sorted(values), "batch_id": result.batch_id}
    return result


def dossier(con, period: str, unit: str, *, actor: Actor) -> pd.DataFrame:
    """Every criterion of the period for one unit: rule, self-score, appraised score, evidence
    files, notes, what is missing. A unit account reads its own only."""
    _check_unit(con, actor, unit)
    fw = periods.framework_for_period(con, period)
    cur = batches.select_current(con, "current_scores", period=period, unit_code=unit)
    files = evidence.list_files(con, period, unit)
    counts = evidence.file_counts(con, period)
    counts = counts[counts["unit_code"] == unit].set_index("criterion_code")["files"] if len(counts) else {}
    rows = []
    for g in fw.groups:
        for c in g.criteria:
            own = cur[(cur["criterion_code"] == c.code) & (cur["stage"] == "self")]
            appr = cur[(cur["criterion_code"] == c.code) & (cur["stage"] == "appraised")]
            value = own["value"].iloc[0] if len(own) else None
            n_files = int((files["criterion_code"] == c.code).sum())
            valid = int(counts.get(c.code, 0)) if len(counts) else 0
            missing = []
            if not c.appraiser_only and c.derived is None and value is None and c.is_required:
                missing.append("chưa tự chấm")
            is_na = value is not None and isinstance(value, float) and math.isnan(value)
            if c.evidence_required and not c.appraiser_only and not is_na and valid == 0:
                missing.append("thiếu tệp minh chứng" if n_files == 0 else "minh chứng bị loại")
            rows.append({
                "group_code": g.code, "criterion_code": c.code, "name": c.name, "kind": c.kind.value,
                "max_points": c.max_points, "rule": rule_text(c), "allow_na": c.allow_na,
                "appraiser_only": c.appraiser_only, "derived": c.derived is not None,
                "evidence_required": c.evidence_required,
                "self_value": value, "not_applicable": is_na,
                "appraised_value": appr["value"].iloc[0] if len(appr) else None,
                "evidence_note": own["evidence"].iloc[0] if len(own) else None,
                "files": n_files, "missing": ", ".join(missing)})
    return pd.DataFrame(rows)


def missing_items(frame: pd.DataFrame) -> list[str]:
    """What the unit must still do before its dossier is complete, one line per criterion."""
    return [f"{r.criterion_code} {r.name}: {r.missing}" for r in frame.itertuples() if r.missing]


# --------------------------------------------------------------------------- progress
PROGRESS_STATUS = {"submitted": "Đã nộp", "in_progress": "Đang làm", "not_started": "Chưa bắt đầu"}


def progress(con, period: str) -> pd.DataFrame:
    """One row per commune-level unit: province, block, status (submitted / in progress / not
    started), submitted_at, late (not submitted and the deadline passed)."""
    lifecycle.state(con, period)                 # an unknown period is told
    has = lifecycle._has_schema(con)
    sub = ("LEFT JOIN dossier_submissions s ON s.period = ? AND s.unit_code = u.unit_code" if has
           else "LEFT JOIN (SELECT NULL AS unit_code, NULL AS submitted_at) s ON FALSE")
    ev = ("OR EXISTS (SELECT 1 FROM evidence_files f WHERE f.period = ? AND f.unit_code = u.unit_code "
          "AND f.removed_at IS NULL)" if has else "")
    # placeholders in order: current_scores, evidence_files, dossier_submissions, unit_blocks
    params = [period, period, period, period] if has else [period, period]
    df = con.execute(
        f"""SELECT u.unit_code, u.name AS unit_name, u.province_code, p.name AS province,
                   b.block_code, bl.name AS block_name, s.submitted_at,
                   CASE WHEN s.submitted_at IS NOT NULL THEN 'submitted'
                        WHEN EXISTS (SELECT 1 FROM current_scores c WHERE c.period = ? AND c.unit_code = u.unit_code
                                     AND c.stage = 'self') {ev} THEN 'in_progress'
                        ELSE 'not_started' END AS status
            FROM units u JOIN provinces p USING (province_code)
            {sub}
            LEFT JOIN unit_blocks b ON b.period = ? AND b.unit_code = u.unit_code
            LEFT JOIN blocks bl ON bl.period = b.period AND bl.block_code = b.block_code
            WHERE u.unit_type <> 'co_quan'
            ORDER BY u.province_code, u.unit_code""", params).df()
    df["late"] = (df["status"] != "submitted") & lifecycle.submissions_closed(con, period)
    df["status_label"] = df["status"].map(PROGRESS_STATUS)
    return df


def progress_summary(frame: pd.DataFrame, by: str = "province") -> pd.DataFrame:
    """Counts per province (or block): submitted, in progress, not started, late, share submitted."""
    key = {"province": ["province_code", "province"], "block": ["block_code", "block_name"]}[by]
    f = frame.copy()
    for k in key:
        f[k] = f[k].fillna("(chưa xếp khối)")
    counts = pd.crosstab([f[k] for k in key], f["status"])
    for s in PROGRESS_STATUS:
        if s not in counts.columns:
            counts[s] = 0
    out = counts[list(PROGRESS_STATUS)].reset_index()
    out["late"] = f.groupby(key)["late"].sum().to_numpy()
    out["units"] = out[list(PROGRESS_STATUS)].sum(axis=1)
    out["share_submitted"] = (100 * out["submitted"] / out["units"]).round(1)
    return out
