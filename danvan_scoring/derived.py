"""Criteria derived from the "Dân vận khéo" model registry.

A framework criterion may declare ``derived: <metric>`` (see ``criteria.DERIVED_METRICS``);
``derived_scores`` computes its values from the registry, ``with_derived`` puts them in place
of typed-in values before scoring, and ``refuse_derived`` lets the score reader refuse
typed-in points for such a criterion. The score reader (``ingest``) imports this module, the
registry never imports the reader: there is no ingest ↔ models cycle.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

import numpy as np
import pandas as pd

from . import batches as batch_store
from . import periods as period_store
from .criteria import DERIVED_METRICS, Framework
from .frames import isin
from .registry import current_models, targets
from .rubric import ACTIVE, RECOGNISED, default_fields
from .scoring import points_of
from .uploads import Problem


def derived_refusal(criterion, fw: Framework) -> str:
    """Why a typed-in value for a derived criterion is refused (one sentence, Vietnamese)."""
    return (f"tiêu chí {criterion.code} ({criterion.name}) được tính tự động từ sổ mô hình \"Dân vận khéo\" "
            f"({DERIVED_METRICS[criterion.derived][1]}) trong bộ tiêu chí {fw.key}, không nhập điểm tay; hãy xóa "
            "dòng/cột này và nhập danh sách mô hình (danvan import TỆP --kind models)")


def refuse_derived(rows: pd.DataFrame, fw: Framework | Callable[[str], Any] | Mapping[str, Any],
                   column: str | None = None) -> list[Problem]:
    """Problems for typed-in values of criteria the framework derives from the registry.

    ``rows`` are score rows (unit_code, period, criterion_code[, _row]); ``fw`` is the
    framework, or a callable / mapping period → framework (anything else for a period is
    skipped). ``_row``, when present, is the row as shown in Excel.
    """
    if rows is None or len(rows) == 0:
        return []
    cache: dict[str, Framework | None] = {}

    def framework(p: str) -> Framework | None:
        if isinstance(fw, Framework):
            return fw
        if p not in cache:
            try:
                got = fw(p) if callable(fw) else fw.get(p)
            except Exception:
                got = None
            cache[p] = got if isinstance(got, Framework) else None
        return cache[p]

    # fast path (a national file has a million rows): only rows naming a derived criterion matter
    present = pd.unique(rows["period"]) if "period" in rows.columns else [""]
    derived: set[str] = set()
    for p in present:
        f = framework(str(p))
        if f is not None:
            derived |= {c.code for c in f.criteria.values() if c.derived}
    if not derived:
        return []
    hit = rows["criterion_code"].isin(derived).to_numpy()
    if not hit.any():
        return []
    rows = rows[hit]
    periods = rows["period"].astype(str).to_numpy() if "period" in rows.columns else np.full(len(rows), "")
    codes = rows["criterion_code"].astype(str).to_numpy()
    rownums = rows["_row"].to_numpy() if "_row" in rows.columns else np.full(len(rows), None, dtype=object)
    values = rows["value"].to_numpy() if "value" in rows.columns else None
    out: list[Problem] = []
    pairs = pd.DataFrame({"p": periods, "c": codes}).drop_duplicates()
    for p, c in pairs.itertuples(index=False):
        f = framework(p)
        if f is None:
            continue
        crit = f.criteria.get(c)
        if crit is None or not crit.derived:
            continue
        reason = derived_refusal(crit, f)
        for i in np.flatnonzero((periods == p) & (codes == c)):
            r = rownums[i]
            # long layout: the offending cell is the criterion code; wide: the typed number
            shown = c if column is not None or values is None or pd.isna(values[i]) else f"{float(values[i]):g}"
            out.append(Problem(None if r is None or pd.isna(r) else int(r), column or c, shown, reason))
    return out


# --------------------------------------------------------------------------- derived criteria
def _metrics(con, period: str, units: Iterable[str] | None = None, m: pd.DataFrame | None = None) -> pd.DataFrame:
    m = current_models(con, period) if m is None else m
    if units is None:
        typed = {r[0] for r in con.execute(
            "SELECT DISTINCT unit_code FROM current_scores WHERE period = ?", [period]).fetchall()}
        units = sorted(typed | set(m["unit_code"]))
    units = list(dict.fromkeys(units))
    fl = default_fields()
    m = m[isin(m["unit_code"], units)]
    active = m[m["status"].isin(ACTIVE)]
    rec = m[m["status"].isin(RECOGNISED)]
    out = pd.DataFrame({"unit_code": units})
    out["models_total"] = out["unit_code"].map(m.groupby("unit_code").size()).fillna(0).astype(int)
    out["models_active"] = out["unit_code"].map(active.groupby("unit_code").size()).fillna(0).astype(int)
    out["models_recognised"] = out["unit_code"].map(rec.groupby("unit_code").size()).fillna(0).astype(int)
    per_field = active.groupby(["unit_code", "field"]).size().unstack(fill_value=0) if len(active) else \
        pd.DataFrame(index=pd.Index([], name="unit_code"))
    for f in fl.codes:
        col = per_field[f] if f in per_field.columns else pd.Series(dtype="int64")
        out[f"n_{f}"] = out["unit_code"].map(col).fillna(0).astype(int)
    field_cols = [f"n_{f}" for f in fl.codes]
    out["fields_covered"] = (out[field_cols] > 0).sum(axis=1).astype(int)
    zero = out[field_cols].to_numpy() == 0
    labels = [fl.labels[f] for f in fl.codes]
    out["fields_missing"] = [", ".join(lab for lab, z in zip(labels, row) if z) for row in zero]
    # registered against the per-field target: each field counts at most its target
    t = targets(con, period, units).pivot(index="unit_code", columns="field", values="target")
    t = t.reindex(index=units, columns=fl.codes).fillna(0.0)
    counts = out.set_index("unit_code")[field_cols].set_axis(fl.codes, axis=1).astype(float)
    capped = np.minimum(counts.to_numpy(), t.to_numpy()).sum(axis=1)
    tsum = t.to_numpy().sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(tsum > 0, 100.0 * capped / tsum, 100.0)
    out["target_total"] = tsum
    out["models_registered_ratio"] = ratio
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(out["models_total"] > 0, 100.0 * out["models_recognised"] / out["models_total"], 0.0)
    out["share_recognised"] = share
    scored = rec[rec["rubric_total"].notna()]
    mean = scored.groupby("unit_code")["rubric_total"].mean()
    out["mean_rubric_recognised"] = out["unit_code"].map(mean).fillna(0.0).astype(float)
    bonus = m[(m["status"] == "replicated") | ((m["status"] == "recognised") & m["level"].isin(["province",
                                                                                                 "central"]))]
    out["replicated_bonus"] = out["unit_code"].map(bonus.groupby("unit_code").size()).fillna(0).astype(float)
    return out


def _sources(m: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The models each metric is computed from."""
    if metric in ("models_registered_ratio", "fields_covered"):
        return m[m["status"].isin(ACTIVE)]
    if metric == "share_recognised":
        return m
    if metric == "mean_rubric_recognised":
        return m[m["status"].isin(RECOGNISED) & m["rubric_total"].notna()]
    if metric == "replicated_bonus":
        return m[(m["status"] == "replicated") | ((m["status"] == "recognised") & m["level"].isin(["province",
                                                                                                    "central"]))]
    raise KeyError(metric)


_METRIC_NOTES = {
    "models_registered_ratio": "Tính từ sổ mô hình: {active} mô hình đang thực hiện, chỉ tiêu {target:g} (mỗi lĩnh "
                               "vực tính tối đa bằng chỉ tiêu) → {value:g}%",
    "fields_covered": "Tính từ sổ mô hình: {value:g}/6 lĩnh vực có mô hình",
    "share_recognised": "Tính từ sổ mô hình: {rec}/{total} mô hình được công nhận hoặc nhân rộng → {value:g}%",
    "mean_rubric_recognised": "Tính từ sổ mô hình: điểm chất lượng bình quân {value:g}/100 của {n} mô hình "
                              "được công nhận đã chấm",
    "replicated_bonus": "Tính từ sổ mô hình: {value:g} mô hình được nhân rộng hoặc được cấp tỉnh, Trung ương "
                        "công nhận",
}


def _id_list(ids: list[str], limit: int = 30) -> str | None:
    if not ids:
        return None
    text = ", ".join(ids[:limit])
    return f"Sổ mô hình: {text}" + (f" … (+{len(ids) - limit})" if len(ids) > limit else "")


def derived_criteria(fw: Framework) -> dict[str, str]:
    """criterion code → metric, for the criteria of ``fw`` computed from the registry."""
    return {c.code: c.derived for c in fw.criteria.values() if c.derived}


def derived_scores(con, period: str, fw: Framework | None = None,
                   units: Iterable[str] | None = None, *, detail: bool = True,
                   models: pd.DataFrame | None = None) -> pd.DataFrame:
    """Values of the framework's derived criteria, computed from the registry.

    Columns as ``batch_store.current_scores`` (unit_code, period, criterion_code, stage, value,
    evidence, note): one row per unit × derived criterion × stage (the same value for the
    self and the appraised stage: neither is typed in). ``evidence`` lists the model ids the
    value came from; ``note`` says how it was computed (both None when ``detail`` is False, the
    fast path scoring uses). Units without models get 0.
    """
    fw = fw or period_store.framework_for_period(con, period)
    derived = derived_criteria(fw)
    cols = batch_store.SCORE_COLUMNS
    if not derived:
        return pd.DataFrame(columns=cols)
    m = current_models(con, period) if models is None else models   # models: the period's, read once by a caller
    met = _metrics(con, period, units, m)
    if met.empty:
        return pd.DataFrame(columns=cols)
    m = m[isin(m["unit_code"], set(met["unit_code"]))]
    frames = []
    unit_list = met["unit_code"].astype(str).tolist()
    for code, metric in derived.items():
        if detail:
            src = _sources(m, metric).sort_values(["unit_code", "model_id"])
            ids: dict[str, list[str]] = {}
            for u, mid in zip(src["unit_code"].tolist(), src["model_id"].tolist()):
                ids.setdefault(u, []).append(mid)
            evid = [_id_list(ids.get(u, [])) for u in unit_list]
            template = _METRIC_NOTES[metric]
            notes = [template.format(value=float(v), active=int(a), target=float(t), rec=int(r), total=int(n),
                                     n=len(ids.get(u, [])))
                     for u, v, a, t, r, n in zip(unit_list, met[metric].to_numpy(),
                                                 met["models_active"].to_numpy(), met["target_total"].to_numpy(),
                                                 met["models_recognised"].to_numpy(),
                                                 met["models_total"].to_numpy())]
        else:
            evid = notes = None
        base = pd.DataFrame({"unit_code": unit_list, "period": period, "criterion_code": code,
                             "value": met[metric].astype("float64").to_numpy(), "evidence": evid, "note": notes})
        for stage in ("appraised", "self"):
            frames.append(base.assign(stage=stage))
    out = pd.concat(frames, ignore_index=True)[cols]
    out["evidence"] = out["evidence"].astype(object)
    return out


def with_derived(con, period: str, fw: Framework, scores: pd.DataFrame) -> pd.DataFrame:
    """``scores`` with every derived criterion's rows replaced by values from the registry.

    Derived rows are added for each (unit, stage) that has typed-in scores, so a unit that has
    not scored itself still has no self stage, and one not yet appraised still shows as such.
    Unchanged when the framework has no derived criterion (the cheap path for v1 periods).
    """
    derived = derived_criteria(fw)
    if not derived:
        return scores
    typed = scores[~scores["criterion_code"].isin(list(derived))]
    if typed.empty:
        return typed
    pairs = typed[["unit_code", "stage"]].drop_duplicates()
    d = derived_scores(con, period, fw, sorted(pd.unique(pairs["unit_code"]).tolist()), detail=False)
    d = d.merge(pairs.astype({"unit_code": object, "stage": object}), on=["unit_code", "stage"], how="inner")
    if d.empty:
        return typed
    d = d.reindex(columns=list(scores.columns))
    if "batch_id" in d.columns:
        d["batch_id"] = pd.NA
    return pd.concat([typed, d], ignore_index=True)


def derived_breakdown(con, period: str, unit_code: str, fw: Framework | None = None, *,
                      models: pd.DataFrame | None = None) -> pd.DataFrame:
    """For a unit's profile: each derived criterion, its value, points, and the models behind it.
    ``models``: the period's ``current_models`` when the caller holds them (the dashboard's cache)."""
    fw = fw or period_store.framework_for_period(con, period)
    d = derived_scores(con, period, fw, [unit_code], models=models)
    d = d[d["stage"] == "appraised"].reset_index(drop=True)
    if d.empty:
        return pd.DataFrame(columns=["criterion_code", "name", "metric", "value", "points", "max_points",
                                     "note", "models"])
    d["points"] = points_of(d["value"], d["criterion_code"], fw)
    d["name"] = d["criterion_code"].map(lambda c: fw.criteria[c].name)
    d["metric"] = d["criterion_code"].map(lambda c: fw.criteria[c].derived)
    d["max_points"] = d["criterion_code"].map(lambda c: fw.criteria[c].max_points)
    m = current_models(con, period, unit_code) if models is None else models[models["unit_code"] == unit_code]
    d["models"] = [sorted(_sources(m, met)["model_id"].tolist()) for met in d["metric"]]
    return d[["criterion_code", "name", "metric", "value", "points", "max_points", "note", "models"]]


def models_summary_by_unit(con, period: str, units: Iterable[str] | None = None) -> pd.DataFrame:
    """One row per unit: models in total, active, recognised, per-field counts (``n_<field>``, active
    models), fields covered, mean rubric of recognised models, and the derived metric values.

    Units without any model get zeros (those given in ``units``, else every unit with a score or a
    model in the period). ``fields_missing`` lists the fields with no active model — the ranking
    filter "units with no model in a field" is ``summary[summary[f"n_{field}"] == 0]``.
    """
    return _metrics(con, period, units)
