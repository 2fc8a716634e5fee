"""The appraisal team's review of a unit's dossier, criterion by criterion.

For each criterion the appraiser accepts the self-score, sets another value with a required
reason, or marks the evidence invalid with a reason. Each review is a row of
``appraisal_reviews`` and, for a value, an appraised score (a one-row score batch), so the
ranking uses it like any appraised score. Bulk appraisal by file stays ``ingest.import_file``.
"""

from __future__ import annotations

import io
import math

import pandas as pd

from . import batches, export, ingest, lifecycle, periods, store
from .errors import StoreError
from .permissions import Actor

DECISIONS = {"accept": "Chấp nhận điểm tự chấm", "value": "Điều chỉnh điểm",
             "reject_evidence": "Minh chứng không hợp lệ"}
REVIEW_COLUMNS = ["criterion_code", "decision", "self_value", "value", "reason", "reviewer", "reviewed_at"]


def _self_value(con, period: str, unit: str, criterion: str) -> float | None:
    row = con.execute("SELECT value FROM current_scores WHERE period = ? AND unit_code = ? AND criterion_code = ? "
                      "AND stage = 'self'", [period, unit, criterion]).fetchone()
    return None if row is None else row[0]


def appraise(con, period: str, unit: str, criterion: str, *, actor: Actor, accept: bool = False,
             value: float | None = None, reason: str | None = None, reject_evidence: bool = False) -> dict:
    """One review (exactly one of ``accept``, ``value`` + ``reason``, ``reject_evidence`` + ``reason``)."""
    chosen = [accept, value is not None, reject_evidence]
    if sum(chosen) != 1:
        raise StoreError("Chọn đúng một cách thẩm định: --accept, --value V --reason …, "
                         "hoặc --reject-evidence --reason …")
    reason = (reason or "").strip() or None
    if (value is not None or reject_evidence) and not reason:
        raise StoreError("Điều chỉnh điểm hoặc loại minh chứng phải ghi lý do (--reason)")
    lifecycle.ensure_schema(con)
    fw = periods.framework_for_period(con, period)
    if criterion not in fw.criteria:
        raise StoreError(f"Bộ tiêu chí của kỳ {period} không có tiêu chí '{criterion}'")
    decision = "accept" if accept else "value" if value is not None else "reject_evidence"
    with store.write(con, actor, "appraise", action=f"appraisal.{decision}",
                     target=f"{period}/{unit}/{criterion}", guard=lifecycle.guard(period, "appraised", [unit])) as w:
        own = _self_value(con, period, unit, criterion)
        if decision in ("accept", "reject_evidence") and own is None:
            raise StoreError(f"Đơn vị {unit} chưa tự chấm tiêu chí {criterion}: hãy ghi điểm thẩm định "
                             "(--value V --reason …)")
        new = own if decision != "value" else float(value)
        batch_id = None
        if decision == "value":
            buf = io.StringIO()
            pd.DataFrame([{"unit_code": unit, "period": period, "criterion_code": criterion, "score": new,
                           "stage": "appraised", "note": reason}]).to_csv(buf, index=False)
            parsed = ingest.read_for_import(con, buf.getvalue().encode("utf-8"), "tham-dinh.csv", period=period,
                                            stage="appraised")
            if not parsed.ok:
                raise StoreError("; ".join(p.reason for p in parsed.problems))
            rows = batches._normalise_rows(parsed.rows)
        else:
            rows = batches._normalise_rows(pd.DataFrame([{
                "unit_code": unit, "period": period, "criterion_code": criterion, "stage": "appraised",
                "value": new, "evidence": None, "note": reason}]))
        res = batches._insert_batch(con, rows, w, actor=actor, filename=None, content_hash=None,
                                    comment=DECISIONS[decision])
        batch_id = res.batch_id
        w.action = f"appraisal.{decision}"          # the review is audited even when the value is unchanged
        con.execute(
            "INSERT INTO appraisal_reviews (review_id, period, unit_code, criterion_code, decision, self_value, value, "
            "reason, reviewer, reviewed_at, batch_id) VALUES (nextval('appraisal_review_seq'), ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?)", [period, unit, criterion, decision, own, new, reason, actor.username, store.now(), batch_id])
        w.after = {"decision": decision, "self_value": own, "value": new, "reason": reason}
    return {"decision": decision, "self_value": own, "value": new, "reason": reason}


def reviews(con, period: str, unit: str, *, actor: Actor | None = None) -> pd.DataFrame:
    """The latest review of each criterion of a unit (what the unit sees: every change and its reason)."""
    if actor is not None and not actor.sees_unit(unit):
        raise StoreError(f"Tài khoản '{actor.username}' chỉ xem được kết quả thẩm định của đơn vị mình")
    if not lifecycle._has_schema(con):
        return pd.DataFrame(columns=REVIEW_COLUMNS + ["changed", "decision_label"])
    df = con.execute(
        f"""SELECT {', '.join('r.' + c for c in REVIEW_COLUMNS)} FROM appraisal_reviews r
            WHERE r.period = ? AND r.unit_code = ? AND r.review_id = (
                SELECT max(r2.review_id) FROM appraisal_reviews r2 WHERE r2.period = r.period
                   AND r2.unit_code = r.unit_code AND r2.criterion_code = r.criterion_code)
            ORDER BY r.criterion_code""", [period, unit]).df()
    df["changed"] = [not (isinstance(a, float) and isinstance(b, float) and (a == b or (math.isnan(a) and math.isnan(b))))
                     or d == "reject_evidence" for a, b, d in zip(df["self_value"], df["value"], df["decision"])]
    df["decision_label"] = df["decision"].map(DECISIONS)
    return df


def minutes_frame(con, period: str, unit: str) -> pd.DataFrame:
    """The minutes sheet (biên bản thẩm định) of one unit: every criterion, self-score, appraised
    score, the decision and its reason."""
    fw = periods.framework_for_period(con, period)
    cur = batches.select_current(con, "current_scores", period=period, unit_code=unit)
    rev = reviews(con, period, unit).set_index("criterion_code") if lifecycle._has_schema(con) else pd.DataFrame()
    rows = []
    for c in fw.criteria.values():
        own = cur[(cur["criterion_code"] == c.code) & (cur["stage"] == "self")]["value"]
        appr = cur[(cur["criterion_code"] == c.code) & (cur["stage"] == "appraised")]["value"]
        r = rev.loc[c.code] if c.code in rev.index else None
        rows.append({"Mã tiêu chí": c.code, "Tiêu chí": c.name, "Điểm tối đa": c.max_points,
                     "Điểm tự chấm": own.iloc[0] if len(own) else None,
                     "Điểm thẩm định": appr.iloc[0] if len(appr) else None,
                     "Kết luận": DECISIONS[r["decision"]] if r is not None else "",
                     "Lý do": (r["reason"] or "") if r is not None else "",
                     "Người thẩm định": r["reviewer"] if r is not None else ""})
    return pd.DataFrame(rows)


def minutes_xlsx(con, period: str, unit: str) -> bytes:
    """The per-unit minutes sheet as XLSX (formula-safe, like every export)."""
    return export.to_xlsx_bytes(minutes_frame(con, period, unit), sheet=f"Biên bản {unit}"[:31])
