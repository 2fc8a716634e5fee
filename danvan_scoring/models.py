"""The "Dân vận khéo" model registry: models and exemplars as first-class data, and the
criteria derived from them.

A model (mô hình) or exemplar (điển hình) belongs to one unit and one period (the period it
is registered for: the cycle is register at the start of the year, check, recognise,
replicate, review at the end). It has a field (``data/models/fields.yaml``), a kind
(collective or individual), a status (registered → in progress → recognised → replicated,
or dropped), the level that recognised it, evidence, and the appraiser's rubric scores
(``data/models/rubric.yaml``).

Storage mirrors scores: every import, status change or rubric scoring is a batch in the
shared ``batches`` table (kind ``'models'``); ``model_entries`` is append-only and the view
``current_models`` holds the newest entry of each (period, model_id) whose batch is not
undone, so ``batches.undo_batch`` brings back exactly what a batch superseded and a model's
status history is the list of its entries.

A framework criterion may declare ``derived: <metric>`` (see ``criteria.DERIVED_METRICS``);
``derived_scores`` computes its values from the registry, ``with_derived`` puts them in place
of typed-in values before scoring, and ``refuse_derived`` lets the score reader refuse
typed-in points for such a criterion.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from . import batches, ingest, store
from . import periods as period_store
from . import units as unit_store
from .criteria import DERIVED_METRICS, Framework, nfc
from .ingest import ImportResult, ParsedUpload, Problem, UploadRejected, fold
from .messages import validate_file
from .paths import DATA_DIR

MODELS_DIR = DATA_DIR / "models"
RUBRIC_FILE = MODELS_DIR / "rubric.yaml"
FIELDS_FILE = MODELS_DIR / "fields.yaml"
BATCH_KIND = "models"

# --------------------------------------------------------------------------- vocabularies
STATUSES = ("registered", "in_progress", "recognised", "replicated", "dropped")
STATUS_LABELS = {
    "registered": "Đã đăng ký",
    "in_progress": "Đang thực hiện",
    "recognised": "Được công nhận",
    "replicated": "Được nhân rộng",
    "dropped": "Dừng, không đạt",
}
RECOGNISED = ("recognised", "replicated")  # statuses that count as recognised
ACTIVE = ("registered", "in_progress", "recognised", "replicated")  # not dropped
LEVELS = ("commune", "province", "central")
LEVEL_LABELS = {"commune": "Cấp xã", "province": "Cấp tỉnh", "central": "Trung ương"}
KINDS = ("collective", "individual")
KIND_LABELS = {"collective": "Tập thể (mô hình)", "individual": "Cá nhân (điển hình)"}

_STATUS_WORDS = {
    "registered": "registered", "dang ky": "registered", "da dang ky": "registered", "moi dang ky": "registered",
    "dk": "registered",
    "in progress": "in_progress", "in_progress": "in_progress", "dang thuc hien": "in_progress",
    "dang xay dung": "in_progress", "dang trien khai": "in_progress", "thuc hien": "in_progress",
    "recognised": "recognised", "recognized": "recognised", "cong nhan": "recognised",
    "duoc cong nhan": "recognised", "da cong nhan": "recognised", "dat": "recognised",
    "replicated": "replicated", "nhan rong": "replicated", "duoc nhan rong": "replicated",
    "da nhan rong": "replicated",
    "dropped": "dropped", "dung": "dropped", "dung thuc hien": "dropped", "khong dat": "dropped",
    "huy": "dropped", "da huy": "dropped", "khong duy tri": "dropped",
}
_LEVEL_WORDS = {
    "commune": "commune", "xa": "commune", "cap xa": "commune", "phuong": "commune", "cap phuong": "commune",
    "co so": "commune", "cap co so": "commune", "dac khu": "commune", "don vi": "commune",
    "province": "province", "tinh": "province", "cap tinh": "province", "thanh pho": "province",
    "central": "central", "trung uong": "central", "tw": "central", "cap trung uong": "central",
    "toan quoc": "central", "quoc gia": "central",
}
_KIND_WORDS = {
    "collective": "collective", "tap the": "collective", "tt": "collective", "mo hinh": "collective",
    "mo hinh tap the": "collective",
    "individual": "individual", "ca nhan": "individual", "cn": "individual", "dien hinh": "individual",
    "dien hinh ca nhan": "individual", "guong dien hinh": "individual",
}
# statuses a model may move to from each status (set_status); the import may set any status
TRANSITIONS = {
    "registered": {"in_progress", "recognised", "dropped"},
    "in_progress": {"registered", "recognised", "dropped"},
    "recognised": {"replicated", "in_progress", "dropped"},
    "replicated": {"recognised", "dropped"},
    "dropped": {"registered", "in_progress"},
}


class ModelsError(store.StoreError):
    """A registry problem (bad rubric or fields file, unknown model, refused status change)."""


# --------------------------------------------------------------------------- rubric & fields (data files)
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RubricItem(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    name: str = Field(min_length=1)
    name_en: str = ""
    max_points: float = Field(gt=0)
    hint: str = ""

    @property
    def header(self) -> str:
        return f"{self.name} ({self.max_points:g})"


class Rubric(_Strict):
    code: str = Field(min_length=1)
    version: int = Field(ge=1)
    name: str = Field(min_length=1)
    total: float = Field(gt=0)
    items: list[RubricItem] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self):
        seen: set[str] = set()
        for it in self.items:
            if it.code in seen:
                raise ValueError(f"mã mục '{it.code}' bị trùng")
            seen.add(it.code)
        names = [fold(it.name) for it in self.items]
        if len(set(names)) != len(names):
            raise ValueError("tên các mục của thang điểm bị trùng")
        s = sum(it.max_points for it in self.items)
        if abs(s - self.total) > 1e-9:
            raise ValueError(f"tổng điểm tối đa của các mục phải bằng total = {self.total:g}, hiện là {s:g}")
        return self

    def item(self, code: str) -> RubricItem:
        for it in self.items:
            if it.code == code:
                return it
        raise KeyError(code)


class ModelField(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    name: str = Field(min_length=1)
    name_en: str = ""
    default_target: float = Field(ge=0)
    aliases: list[str] = Field(default_factory=list)


class FieldList(_Strict):
    fields: list[ModelField] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self):
        seen: dict[str, str] = {}
        for f in self.fields:
            for word in [f.code, fold(f.name), *(fold(a) for a in f.aliases)]:
                if word in seen and seen[word] != f.code:
                    raise ValueError(f"cách viết '{word}' dùng cho cả lĩnh vực '{seen[word]}' và '{f.code}'")
                seen[word] = f.code
        return self

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.fields]

    @property
    def labels(self) -> dict[str, str]:
        return {f.code: f.name for f in self.fields}

    def lookup(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for f in self.fields:
            for word in [f.code, f.code.replace("_", " "), fold(f.name), *(fold(a) for a in f.aliases)]:
                out[word] = f.code
        return out


def _parse(model: type[BaseModel], data: Any, source: str):
    return validate_file(model, data, source, ModelsError, {"items": "mục", "fields": "lĩnh vực"})


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelsError(f"{Path(path).name}: không đọc được tệp ({exc})") from None
    except yaml.YAMLError as exc:
        raise ModelsError(f"{Path(path).name}: YAML không hợp lệ ({exc})") from None


def parse_rubric(data: Any, source: str = "thang điểm mô hình") -> Rubric:
    return _parse(Rubric, data, source)


def parse_fields(data: Any, source: str = "danh mục lĩnh vực") -> FieldList:
    return _parse(FieldList, data, source)


def load_rubric(path: str | Path = RUBRIC_FILE) -> Rubric:
    return parse_rubric(_read_yaml(Path(path)), Path(path).name)


def load_fields(path: str | Path = FIELDS_FILE) -> FieldList:
    return parse_fields(_read_yaml(Path(path)), Path(path).name)


@lru_cache(maxsize=1)
def default_rubric() -> Rubric:
    return load_rubric()


@lru_cache(maxsize=1)
def default_fields() -> FieldList:
    return load_fields()


def rubric_total(scores: Mapping[str, float] | None, rubric: Rubric | None = None) -> float | None:
    """Sum of the item scores (None when the model has not been scored)."""
    if not scores:
        return None
    rubric = rubric or default_rubric()
    return float(round(sum(float(scores[it.code]) for it in rubric.items if it.code in scores), 4))


def check_rubric_scores(scores: Mapping[str, Any], rubric: Rubric | None = None) -> dict[str, float]:
    """Validate one model's rubric scores (every item, each 0…max) → {item code: points}."""
    rubric = rubric or default_rubric()
    known = {it.code for it in rubric.items}
    extra = set(scores) - known
    if extra:
        raise ModelsError(f"thang điểm không có mục: {', '.join(sorted(extra))} (các mục: {', '.join(known)})")
    out: dict[str, float] = {}
    for it in rubric.items:
        if it.code not in scores or scores[it.code] is None:
            raise ModelsError(f"thiếu điểm mục '{it.name}' ({it.code})")
        try:
            v = float(scores[it.code])
        except (TypeError, ValueError):
            raise ModelsError(f"điểm mục '{it.name}' phải là số, nhận được {scores[it.code]!r}") from None
        if not math.isfinite(v) or v < 0 or v > it.max_points:
            raise ModelsError(f"điểm mục '{it.name}' phải từ 0 đến {it.max_points:g}, nhận được {v:g}")
        out[it.code] = v
    return out


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
    return batches.select_current(con, "current_models", period=period, periods_=periods_, unit_code=unit_code,
                                order_by="period, unit_code, model_id")


def list_models(con, period: str, unit_code: str | None = None, *, rubric: Rubric | None = None,
                with_items: bool = True) -> pd.DataFrame:
    """The models of a period (optionally one unit), with labels and one column per rubric item.

    Columns start with ``model_id, unit_code, name, field, kind, status, level, rubric_total``
    (codes, for machines), then the period, Vietnamese labels, evidence, note, rubric items.
    """
    rubric = rubric or default_rubric()
    m = current_models(con, period, unit_code)
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
        m = m[m["unit_code"].isin(list(unit_codes))]
    fl = default_fields()
    grid = pd.MultiIndex.from_product([fl.codes, list(STATUSES)], names=["field", "status"])
    c = m.groupby(["field", "status"]).size().reindex(grid, fill_value=0).rename("models").reset_index()
    c["field_name"] = c["field"].map(fl.labels)
    c["status_name"] = c["status"].map(STATUS_LABELS)
    return c


def models_summary_by_unit(con, period: str, units: Iterable[str] | None = None) -> pd.DataFrame:
    """One row per unit: models in total, active, recognised, per-field counts (``n_<field>``, active
    models), fields covered, mean rubric of recognised models, and the derived metric values.

    Units without any model get zeros (those given in ``units``, else every unit with a score or a
    model in the period). ``fields_missing`` lists the fields with no active model — the ranking
    filter "units with no model in a field" is ``summary[summary[f"n_{field}"] == 0]``.
    """
    return _metrics(con, period, units)


def best_models(con, period: str, n: int = 10, unit_codes: Iterable[str] | None = None) -> pd.DataFrame:
    """The highest-scored recognised (or replicated) models of the period."""
    m = list_models(con, period, with_items=False)
    if unit_codes is not None:
        m = m[m["unit_code"].isin(list(unit_codes))]
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


def set_targets(con, period: str, frame: pd.DataFrame, *, actor) -> int:
    """Set per-unit, per-field targets (columns unit_code, field, target) for a period."""
    from .permissions import require

    require(actor, "import")
    ensure_schema(con)
    fl = default_fields()
    f = frame[["unit_code", "field", "target"]].copy()
    bad_field = set(f["field"]) - set(fl.codes)
    if bad_field:
        raise ModelsError(f"Lĩnh vực không có: {', '.join(map(str, sorted(bad_field)))}; chỉ nhận: {', '.join(fl.codes)}")
    bad_unit = set(f["unit_code"]) - set(unit_store.unit_names(con))
    if bad_unit:
        raise ModelsError(f"Không có đơn vị mã: {', '.join(sorted(map(str, bad_unit))[:10])}")
    f["target"] = pd.to_numeric(f["target"], errors="coerce")
    if f["target"].isna().any() or (f["target"] < 0).any():
        raise ModelsError("Chỉ tiêu phải là số không âm")
    f["period"] = period
    f["set_by"] = actor.username
    f["set_at"] = store.now()
    f = f[["period", "unit_code", "field", "target", "set_by", "set_at"]]
    with store.write(con, actor, "import", action="models.targets", target=period, after={"rows": len(f)}):
        with store.registered(con, "_targets", f):
            con.execute("INSERT OR REPLACE INTO model_targets SELECT * FROM _targets")
    return len(f)


# --------------------------------------------------------------------------- derived criteria
def _metrics(con, period: str, units: Iterable[str] | None = None, m: pd.DataFrame | None = None) -> pd.DataFrame:
    m = current_models(con, period) if m is None else m
    if units is None:
        typed = {r[0] for r in con.execute(
            "SELECT DISTINCT unit_code FROM current_scores WHERE period = ?", [period]).fetchall()}
        units = sorted(typed | set(m["unit_code"]))
    units = list(dict.fromkeys(units))
    fl = default_fields()
    m = m[m["unit_code"].isin(units)]
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
DERIVED_NOTE_PREFIX = "Tính từ sổ mô hình"


def _id_list(ids: list[str], limit: int = 30) -> str | None:
    if not ids:
        return None
    text = ", ".join(ids[:limit])
    return f"Sổ mô hình: {text}" + (f" … (+{len(ids) - limit})" if len(ids) > limit else "")


def derived_criteria(fw: Framework) -> dict[str, str]:
    """criterion code → metric, for the criteria of ``fw`` computed from the registry."""
    return {c.code: c.derived for c in fw.criteria.values() if c.derived}


def derived_scores(con, period: str, fw: Framework | None = None,
                   units: Iterable[str] | None = None, *, detail: bool = True) -> pd.DataFrame:
    """Values of the framework's derived criteria, computed from the registry.

    Columns as ``batches.current_scores`` (unit_code, period, criterion_code, stage, value,
    evidence, note): one row per unit × derived criterion × stage (the same value for the
    self and the appraised stage: neither is typed in). ``evidence`` lists the model ids the
    value came from; ``note`` says how it was computed (both None when ``detail`` is False, the
    fast path scoring uses). Units without models get 0.
    """
    fw = fw or period_store.framework_for_period(con, period)
    derived = derived_criteria(fw)
    cols = batches.SCORE_COLUMNS
    if not derived:
        return pd.DataFrame(columns=cols)
    m = current_models(con, period)
    met = _metrics(con, period, units, m)
    if met.empty:
        return pd.DataFrame(columns=cols)
    m = m[m["unit_code"].isin(set(met["unit_code"]))]
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


def derived_breakdown(con, period: str, unit_code: str, fw: Framework | None = None) -> pd.DataFrame:
    """For a unit's profile: each derived criterion, its value, points, and the models behind it."""
    from .scoring import points_of

    fw = fw or period_store.framework_for_period(con, period)
    d = derived_scores(con, period, fw, [unit_code])
    d = d[d["stage"] == "appraised"].reset_index(drop=True)
    if d.empty:
        return pd.DataFrame(columns=["criterion_code", "name", "metric", "value", "points", "max_points",
                                     "note", "models"])
    d["points"] = points_of(d["value"], d["criterion_code"], fw)
    d["name"] = d["criterion_code"].map(lambda c: fw.criteria[c].name)
    d["metric"] = d["criterion_code"].map(lambda c: fw.criteria[c].derived)
    d["max_points"] = d["criterion_code"].map(lambda c: fw.criteria[c].max_points)
    m = current_models(con, period, unit_code)
    d["models"] = [sorted(_sources(m, met)["model_id"].tolist()) for met in d["metric"]]
    return d[["criterion_code", "name", "metric", "value", "points", "max_points", "note", "models"]]


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
    are stored. Same contract as ``batches.write_batch``."""
    from .permissions import require

    require(actor, "import")
    ensure_schema(con)
    rows = _normalise_entries(rows)
    with store.write(con, actor, "import", action=action) as tx:
        with store.registered(con, "_mrows", rows):
            con.execute(f"""CREATE OR REPLACE TEMP TABLE _mclassified AS
                SELECT i.*, CASE WHEN c.model_id IS NULL THEN 'new' WHEN {_SAME} THEN 'unchanged'
                                 ELSE 'changed' END AS change
                FROM _mrows i LEFT JOIN current_models c ON c.period = i.period AND c.model_id = i.model_id""")
        new, changed, unchanged = batches.classified_counts(con, "_mclassified", "change")
        if dry_run or new + changed == 0:
            tx.rollback()
            return ModelsBatch(None, new, changed, unchanged, skipped_duplicate=not dry_run)
        batch_id = batches.record_batch(con, BATCH_KIND, actor, filename, content_hash, (new, changed, unchanged),
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
    row["rubric"] = _rubric_json(rec["rubric"]) if rec["rubric"] else None
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
    from .permissions import require

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
    from .permissions import require

    require(actor, "import")
    rubric = rubric or default_rubric()
    try:
        clean = check_rubric_scores(scores, rubric)
    except ModelsError as exc:
        raise ModelsError(f"Mô hình '{model_id}': {exc}") from None
    return _update_one(con, period, model_id, {"rubric": _rubric_json(clean),
                                               "rubric_total": rubric_total(clean, rubric)},
                       actor=actor, action="models.rubric", comment="Chấm điểm chất lượng mô hình")


def _rubric_json(scores: Mapping[str, float] | None) -> str | None:
    if not scores:
        return None
    return json.dumps({k: float(v) for k, v in sorted(scores.items())}, sort_keys=True)


# --------------------------------------------------------------------------- upload: template
def template_frame(unit_codes: Mapping[str, str] | Iterable[str], period: str, *, rubric: Rubric | None = None,
                   example: bool = True) -> pd.DataFrame:
    """An upload template with Vietnamese headers; one example row per unit when ``example``."""
    rubric = rubric or default_rubric()
    names = dict(unit_codes) if isinstance(unit_codes, Mapping) else {u: "" for u in unit_codes}
    headers = TEMPLATE_HEADERS + [it.header for it in rubric.items]
    rows = []
    if example:
        for u in sorted(names):
            rows.append([None, u, names[u], period, None, None, "Tập thể", "Đã đăng ký", None, None, None]
                        + [None] * len(rubric.items))
    return pd.DataFrame(rows, columns=headers)


TEMPLATE_HEADERS = ["Mã mô hình", "Mã đơn vị", "Tên đơn vị", "Kỳ", "Tên mô hình", "Lĩnh vực", "Loại",
                    "Trạng thái", "Cấp công nhận", "Minh chứng", "Ghi chú"]
TEMPLATE_HELP = [
    ("Mã mô hình", "để trống khi đăng ký mới (hệ thống tự cấp mã theo đơn vị, kỳ và tên); ghi mã để cập nhật"),
    ("Mã đơn vị", "mã 5 chữ số của xã, phường, đặc khu (bắt buộc)"),
    ("Kỳ", "ví dụ 2025 (bắt buộc, trừ khi chọn kỳ khi nhập)"),
    ("Tên mô hình", "bắt buộc"),
    ("Lĩnh vực", "Kinh tế; Văn hóa - xã hội; Quốc phòng - an ninh; Xây dựng Đảng; Chính quyền; Đoàn thể"),
    ("Loại", "Tập thể (mô hình) hoặc Cá nhân (điển hình); trống = Tập thể"),
    ("Trạng thái", "Đã đăng ký; Đang thực hiện; Được công nhận; Được nhân rộng; Dừng; trống = Đã đăng ký"),
    ("Cấp công nhận", "Cấp xã; Cấp tỉnh; Trung ương — bắt buộc khi được công nhận hoặc nhân rộng"),
    ("Điểm chất lượng", "các cột thang điểm: để trống cả 6 cột nếu chưa chấm, hoặc điền đủ 6 cột"),
]


def write_template(df: pd.DataFrame, path_or_buffer, fmt: str = "csv") -> None:
    """Write the template as CSV (UTF-8 with BOM) or XLSX (codes as text), formulas neutralised."""
    ingest.write_template(df, path_or_buffer, fmt)


# --------------------------------------------------------------------------- upload: reading
_BASE = ingest._HEADER_SYNONYMS
_MODEL_HEADERS: dict[str, list[str]] = {
    "model_id": ["ma mo hinh", "model id", "model", "ma mh", "so hieu mo hinh", "id mo hinh", "ma so mo hinh"],
    "unit_code": [s for s in _BASE["unit_code"] if s not in ("ma", "code", "ma so")],
    "unit_name": [s for s in _BASE["unit_name"] if s != "ten"],
    "period": _BASE["period"] + ["ky dang ky", "nam dang ky"],
    "name": ["ten mo hinh", "ten mo hinh dien hinh", "ten dien hinh", "mo hinh", "mo hinh dien hinh", "name",
             "model name", "ten", "noi dung mo hinh"],
    "field": ["linh vuc", "field", "linh vuc mo hinh"],
    "kind": ["loai", "loai mo hinh", "kind", "tap the ca nhan", "hinh thuc", "loai hinh"],
    "status": ["trang thai", "status", "tinh trang", "ket qua danh gia"],
    "level": ["cap cong nhan", "level", "cap", "cap cong nhan mo hinh", "noi cong nhan"],
    "evidence": _BASE["evidence"],
    "note": _BASE["note"],
    "rubric_total": ["tong diem", "tong diem chat luong", "diem chat luong", "rubric total", "tong"],
}
MODEL_FIELD_LABELS = {
    "model_id": "mã mô hình", "unit_code": "mã đơn vị", "period": "kỳ", "name": "tên mô hình",
    "field": "lĩnh vực", "kind": "loại", "status": "trạng thái", "level": "cấp công nhận",
}
_REQUIRED = ("unit_code", "name", "field")
_NAME_MAX = 300


def _header_lookup(rubric: Rubric) -> dict[str, str]:
    out = {syn: fld for fld, syns in _MODEL_HEADERS.items() for syn in syns}
    for it in rubric.items:
        for word in (it.code, f"rubric {it.code}", fold(it.name), fold(it.header), f"diem {fold(it.name)}",
                     fold(it.name_en) if it.name_en else None):
            if word:
                out[word] = f"rubric:{it.code}"
    return out


def _find_header(rows: list[list[str]], lookup: dict[str, str]) -> int | None:
    for i, cells in enumerate(rows[: ingest.HEADER_SCAN_ROWS + 1]):
        found = {lookup.get(fold(c)) for c in cells if c and str(c).strip()}
        found.discard(None)
        if "unit_code" in found and len(found & {"name", "field", "model_id", "status"}) >= 1:
            return i
    return None


def _read_grid(data: bytes, sheet: str | None, lookup: dict[str, str], info: dict):
    """The file as a header + string columns + Excel row numbers, reusing ingest's decoding
    (UTF-8/UTF-16/Windows-1258, mojibake and binary checks) and its CSV/XLSX parsers."""
    kind = ingest._sniff(data)
    if kind == "text":
        text, encoding, problem = ingest._decode(data)
        info["encoding"] = encoding
        if problem:
            return [Problem(None, None, None, problem)]
        if "\x00" in text[:100_000] or ingest._binary_share(text[:4096]) > 0.1:
            return [Problem(None, None, None, ingest._NOT_TABULAR)]
        bad = ingest._mojibake(text)
        if bad:
            return [Problem(None, None, bad, "tệp có chữ bị lỗi mã hóa (mojibake, ví dụ 'Ä‘' thay cho 'đ'); "
                            "hãy lấy lại tệp gốc hoặc lưu lại dạng 'CSV UTF-8'")]
        text = nfc(text)
        head_lines = text[:1_000_000].splitlines(keepends=True)[: ingest.HEADER_SCAN_ROWS + 1]
        best = None
        for d in ("\t", ";", ","):
            cells = [ingest._split(line, d) for line in head_lines]
            idx = _find_header(cells, lookup)
            if idx is not None:
                width = len(cells[idx])
                if best is None or width > best[2]:
                    best = (d, idx, width, cells[idx])
        if best is None:
            return [_no_header(head_lines)]
        d, idx, width, header = best
        info.update(delimiter=d, header_row=idx + 1)
        body = text[sum(len(line) for line in head_lines[:idx]):]
        # ingest's pyarrow reader takes UTF-8 bytes; its exact fallback takes text
        parsed = ingest._parse_fast(body.encode("utf-8"), d, width, idx + 1) or \
            ingest._parse_slow(body, d, width, idx + 1)
        columns, rownum, problems = parsed
        return [nfc(c) for c in header], columns, rownum, problems, d != ","
    if kind != "xlsx":
        return [Problem(None, None, None, kind)]
    import io
    import zipfile

    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except zipfile.BadZipFile:
        return [Problem(None, None, None, "tệp XLSX bị hỏng (không giải nén được); hãy mở bằng Excel và lưu lại")]
    except Exception:
        return [Problem(None, None, None, "không phải tệp XLSX hợp lệ; hãy lưu danh sách dạng .xlsx hoặc CSV UTF-8")]
    try:
        names = wb.sheetnames
        if sheet is not None:
            match = [n for n in names if fold(n) == fold(sheet)]
            if not match:
                return [Problem(None, None, sheet, "không có trang tính (sheet) này; các trang có trong tệp: "
                                + ", ".join(f"'{n}'" for n in names))]
            ws = wb[match[0]]
        else:
            ws = wb.worksheets[0]
        info["sheet"] = ws.title
        rows = [[ingest._cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    while rows and not any(c is not None for c in rows[-1]):
        rows.pop()
    idx = _find_header([[c or "" for c in r] for r in rows[: ingest.HEADER_SCAN_ROWS + 1]], lookup)
    if idx is None:
        return [_no_header(["\t".join(c or "" for c in r) for r in rows[:3]], sep="\t")]
    info["header_row"] = idx + 1
    header = [nfc(c or "") for c in rows[idx]]
    width = max(len(header), max((len(r) for r in rows[idx + 1:]), default=0))
    header += [""] * (width - len(header))
    body = rows[idx + 1:]
    cols = [ingest._strings([nfc(r[j]) if j < len(r) and r[j] is not None else None for r in body])
            for j in range(width)]
    return header, cols, np.arange(idx + 2, idx + 2 + len(body), dtype=np.int64), [], True


def _no_header(lines: list[str], sep: str | None = None) -> Problem:
    first = next((ln for ln in lines if ln.strip()), "")
    shown = first.strip()[:120]
    return Problem(None, None, None,
                   "không tìm thấy dòng tiêu đề của danh sách mô hình (cần cột 'Mã đơn vị' và ít nhất một trong "
                   f"'Tên mô hình', 'Lĩnh vực', 'Mã mô hình', 'Trạng thái') trong {ingest.HEADER_SCAN_ROWS} dòng đầu"
                   + (f"; dòng đầu tiên có: {shown}" if shown else "")
                   + ". Hãy dùng mẫu danh sách mô hình: " + ", ".join(TEMPLATE_HEADERS[:8]) + ", …")


def auto_model_id(unit_code: str, period: str, name: str) -> str:
    """A stable id for a model registered without one: the same unit, period and name give the same id."""
    h = hashlib.sha1(f"{unit_code}|{period}|{fold(name)}".encode()).hexdigest()[:6].upper()
    return f"MH-{unit_code}-{period}-{h}"


_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,63}$")


def read_models_upload(data: bytes, filename: str, *, unit_codes: Mapping[str, str],
                       owners: Mapping[str, str] | None = None, period: str | None = None,
                       sheet: str | None = None, max_bytes: int = ingest.MAX_BYTES,
                       rubric: Rubric | None = None, fields: FieldList | None = None,
                       known_periods: Iterable[str] | None = None) -> ParsedUpload:
    """Read and validate a model list without touching a database; never raises for bad input.

    ``owners``: model_id → unit_code of models already in the registry (a model cannot change unit).
    The valid rows (columns of ``model_entries``) are in ``rows``; every problem names its row and column.
    """
    try:
        content_hash = hashlib.sha256(data).hexdigest()
    except TypeError:
        data, content_hash = b"", hashlib.sha256(b"").hexdigest()
    info: dict[str, Any] = {}
    try:
        return _read_models(data, content_hash, unit_codes, owners or {}, period, sheet, max_bytes,
                            rubric or default_rubric(), fields or default_fields(),
                            None if known_periods is None else set(known_periods), info)
    except MemoryError:
        reason = "tệp quá lớn để đọc trong bộ nhớ hiện có; hãy chia nhỏ tệp"
    except Exception as exc:  # no traceback for a user
        reason = f"lỗi không mong đợi khi đọc tệp ({type(exc).__name__}); hãy gửi tệp này cho quản trị viên"
    return _models_rejected(content_hash, [Problem(None, None, None, reason)], info)


def _empty_entries() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="float64" if c == "rubric_total" else object)
                         for c in ENTRY_COLUMNS})


def _models_rejected(content_hash: str, problems: list[Problem], info: dict) -> ParsedUpload:
    keep = {k: v for k, v in info.items() if k in ("encoding", "delimiter", "sheet", "header_row")}
    return ParsedUpload(_empty_entries(), problems, [], "models", content_hash, problem_count=len(problems), **keep)


def _read_models(data, content_hash, unit_codes, owners, period_arg, sheet, max_bytes, rubric, fields,
                 known_periods, info) -> ParsedUpload:
    if len(data) > max_bytes:
        return _models_rejected(content_hash, [Problem(None, None, None, f"tệp quá lớn ({ingest._mb(len(data))}); "
                                                       f"giới hạn là {ingest._mb(max_bytes)}")], info)
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        return _models_rejected(content_hash, [Problem(None, None, None, "tệp trống, không có dữ liệu")], info)
    if period_arg is not None and ingest._period_of(period_arg) is None:
        return _models_rejected(content_hash, [Problem(None, None, period_arg, ingest._PERIOD_BAD)], info)
    lookup = _header_lookup(rubric)
    grid = _read_grid(data, sheet, lookup, info)
    if isinstance(grid, list):
        return _models_rejected(content_hash, grid, info)
    header, columns, rownum, parse_problems, decimal_comma = grid
    problems = ingest._Problems()
    for p in parse_problems:
        problems.add(p)

    # --- header roles
    roles: dict[str, int] = {}
    ignored: list[str] = []
    for j, cell in enumerate(header):
        name = (cell or "").strip()
        if not name:
            continue
        role = lookup.get(fold(name))
        if role is None:
            ignored.append(name)
            continue
        if role in roles:
            problems.add(Problem(None, name, None, f"cột '{name}' và cột '{header[roles[role]].strip()}' cùng là "
                                 f"{MODEL_FIELD_LABELS.get(role, role)}; hãy giữ lại một cột"))
            continue
        roles[role] = j
    if "unit_name" in roles:
        pass  # shown to people, not stored
    missing = [MODEL_FIELD_LABELS[f] for f in _REQUIRED if f not in roles]
    if "period" not in roles and period_arg is None:
        missing.append("kỳ (hoặc chọn kỳ khi nhập: --period 2025)")
    if missing:
        problems.add(Problem(None, None, None, "thiếu cột bắt buộc: " + ", ".join(missing)))
    rubric_cols = {it.code: roles.get(f"rubric:{it.code}") for it in rubric.items}
    if any(v is not None for v in rubric_cols.values()):
        absent = [it.header for it in rubric.items if rubric_cols[it.code] is None]
        if absent:
            problems.add(Problem(None, None, None, "thiếu cột điểm chất lượng: " + "; ".join(f"'{a}'" for a in absent)
                                 + " (điền đủ các mục của thang điểm)"))
    if problems.any:
        return _finish(content_hash, _empty_entries(), problems, ignored, info)

    def cell(role: str, i: int) -> str | None:
        j = roles.get(role)
        if j is None:
            return None
        v = columns[j].iloc[i]
        if v is None or (isinstance(v, float) and math.isnan(v)) or pd.isna(v):
            return None
        s = str(v).strip()
        return s or None

    def hdr(role: str) -> str:
        return header[roles[role]].strip() if role in roles else MODEL_FIELD_LABELS.get(role, role)

    field_lookup = fields.lookup()
    field_names = "; ".join(f.name for f in fields.fields)
    out_rows: list[dict] = []
    seen: dict[tuple[str, str], tuple[int, dict]] = {}
    n = len(rownum)
    data_rows = 0
    for i in range(n):
        r = int(rownum[i])
        if all(columns[j].iloc[i] is None or pd.isna(columns[j].iloc[i]) for j in range(len(columns))):
            continue
        data_rows += 1
        bad = False

        def err(role: str | None, value, reason: str):
            nonlocal bad
            bad = True
            problems.add(Problem(r, hdr(role) if role else None, value, reason))

        raw_unit = cell("unit_code", i)
        unit = None
        if raw_unit is None:
            err("unit_code", None, "thiếu mã đơn vị")
        else:
            unit = ingest._unit_of(raw_unit)[0]
            if unit is None or unit not in unit_codes:
                err("unit_code", raw_unit, f"không có đơn vị mã '{unit or raw_unit}' trong danh sách đơn vị")
                unit = None
        raw_period = cell("period", i)
        per = ingest._period_of(raw_period) if raw_period is not None else (
            ingest._period_of(period_arg) if period_arg else None)
        if raw_period is None and per is None:
            err("period", None, "không có kỳ: điền cột Kỳ hoặc chọn kỳ khi nhập")
        elif per is None:
            err("period", raw_period, ingest._PERIOD_BAD)
        elif known_periods is not None and per not in known_periods:
            err("period", raw_period or per, f"chưa có kỳ đánh giá '{per}' trong cơ sở dữ liệu; các kỳ hiện có: "
                + (", ".join(sorted(known_periods)) or "(chưa có)"))
        name = cell("name", i)
        if name is None:
            err("name", None, "thiếu tên mô hình")
        elif len(name) > _NAME_MAX:
            err("name", name, f"tên mô hình dài quá {_NAME_MAX} ký tự")
        raw_field = cell("field", i)
        fld = field_lookup.get(fold(raw_field)) if raw_field is not None else None
        if raw_field is None:
            err("field", None, f"thiếu lĩnh vực; chỉ nhận: {field_names}")
        elif fld is None:
            err("field", raw_field, f"lĩnh vực không hợp lệ; chỉ nhận: {field_names}")
        raw_kind = cell("kind", i)
        kind = "collective" if raw_kind is None else _KIND_WORDS.get(fold(raw_kind))
        if kind is None:
            err("kind", raw_kind, "loại không hợp lệ; chỉ nhận: Tập thể (mô hình) hoặc Cá nhân (điển hình)")
        raw_status = cell("status", i)
        status = "registered" if raw_status is None else _STATUS_WORDS.get(fold(raw_status))
        if status is None:
            err("status", raw_status, "trạng thái không hợp lệ; chỉ nhận: "
                + "; ".join(STATUS_LABELS[s] for s in STATUSES))
        raw_level = cell("level", i)
        level = None if raw_level is None else _LEVEL_WORDS.get(fold(raw_level))
        if raw_level is not None and level is None:
            err("level", raw_level, "cấp công nhận không hợp lệ; chỉ nhận: Cấp xã; Cấp tỉnh; Trung ương")
        elif status in RECOGNISED and level is None and raw_level is None:
            err("level", None, f"mô hình '{STATUS_LABELS[status]}' phải ghi cấp công nhận (Cấp xã, Cấp tỉnh, "
                "Trung ương)")
        elif status in ("registered", "in_progress", "dropped") and level is not None:
            err("level", raw_level, f"mô hình '{STATUS_LABELS[status]}' chưa được công nhận nên không có cấp "
                "công nhận; hãy để trống hoặc sửa trạng thái")
        # rubric: all items or none
        scores: dict[str, float] = {}
        present = {code: cell(f"rubric:{code}", i) for code, j in rubric_cols.items() if j is not None}
        filled = {k: v for k, v in present.items() if v is not None}
        if filled and len(filled) < len(rubric.items):
            empty = [rubric.item(k).header for k in present if present[k] is None]
            err(f"rubric:{next(k for k in present if present[k] is None)}", None,
                "điểm chất lượng phải điền đủ các mục hoặc để trống tất cả; còn thiếu: " + "; ".join(empty))
        for code, raw in filled.items():
            it = rubric.item(code)
            v, word = ingest._number_of(raw, decimal_comma)
            if v is None or word:
                err(f"rubric:{code}", raw, f"điểm mục '{it.name}' phải là số")
            elif v < 0 or v > it.max_points:
                err(f"rubric:{code}", raw, f"điểm mục '{it.name}' phải từ 0 đến {it.max_points:g}")
            else:
                scores[code] = v
        total = rubric_total(scores, rubric) if len(scores) == len(rubric.items) else None
        raw_total = cell("rubric_total", i)
        if raw_total is not None:
            tv, word = ingest._number_of(raw_total, decimal_comma)
            if tv is None or word:
                err("rubric_total", raw_total, "tổng điểm phải là số")
            elif not filled:
                err("rubric_total", raw_total, "có tổng điểm nhưng không có điểm từng mục; hãy điền các cột "
                    "của thang điểm (" + "; ".join(it.header for it in rubric.items) + ")")
            elif total is not None and abs(tv - total) > 0.01:
                err("rubric_total", raw_total, f"tổng điểm không khớp tổng các mục ({total:g})")
        # model id
        raw_id = cell("model_id", i)
        if raw_id is not None:
            mid = raw_id
            if not _ID_RE.match(mid):
                err("model_id", raw_id, "mã mô hình chỉ gồm chữ không dấu, số và - _ . / (tối đa 64 ký tự)")
        else:
            mid = auto_model_id(unit, per, name) if unit and per and name else None
        if mid and unit and owners.get(mid) not in (None, unit):
            err("model_id", mid, f"mã mô hình '{mid}' đã thuộc đơn vị {owners[mid]}; mỗi mô hình thuộc một đơn vị")
        if bad:
            continue
        row = {"period": per, "model_id": mid, "unit_code": unit, "name": nfc(name), "field": fld, "kind": kind,
               "status": status, "level": level, "evidence": cell("evidence", i), "note": cell("note", i),
               "rubric": _rubric_json(scores) if total is not None else None, "rubric_total": total}
        key = (per, mid)
        if key in seen:
            first_r, first = seen[key]
            if first == row:
                continue
            problems.add(Problem(r, hdr("model_id") if "model_id" in roles else None, mid,
                                 f"trùng mô hình với dòng {first_r} (cùng mã/đơn vị, kỳ {per}"
                                 + ("" if raw_id else ", tên") + ") nhưng khác nội dung; hãy giữ lại một dòng"))
            continue
        seen[key] = (r, row)
        out_rows.append(row)
    if data_rows == 0 and not problems.any:
        problems.add(Problem(None, None, None, "tệp chỉ có dòng tiêu đề, không có mô hình nào"))
    rows = pd.DataFrame(out_rows, columns=ENTRY_COLUMNS) if out_rows else _empty_entries()
    return _finish(content_hash, rows, problems, ignored, info)


def _finish(content_hash, rows, problems, ignored, info) -> ParsedUpload:
    keep = {k: v for k, v in info.items() if k in ("encoding", "delimiter", "sheet", "header_row")}
    return ParsedUpload(rows, problems.listed(), ignored, "models", content_hash, problem_count=problems.total,
                        **keep)


def import_models_file(con, data: bytes, filename: str, *, actor, period: str | None = None,
                       stage: str | None = None, sheet: str | None = None, dry_run: bool = False,
                       max_bytes: int = ingest.MAX_BYTES,
                       progress: Callable[[float, str], None] | None = None) -> ImportResult:
    """Validate a whole model list, then write it as one batch (one transaction), or write nothing.

    Same contract as ``ingest.import_file``: raises ``ingest.UploadRejected`` with every problem;
    ``stage`` is accepted for the shared signature and ignored (the registry has no stages).
    """
    from .permissions import require

    require(actor, "import")

    def tell(fraction: float, message: str) -> None:
        if progress is not None:
            progress(fraction, message)

    tell(0.0, "Đang đọc tệp")
    ensure_schema(con)
    owners = dict(con.execute("SELECT DISTINCT model_id, unit_code FROM current_models").fetchall())
    parsed = read_models_upload(data, filename, unit_codes=unit_store.unit_names(con), owners=owners, period=period,
                                sheet=sheet, max_bytes=max_bytes, known_periods=period_store.periods(con))
    if not parsed.ok:
        raise UploadRejected(parsed.problems, parsed)
    tell(0.6, f"Đã kiểm tra {len(parsed.rows)} mô hình; đang ghi")
    res = ingest.explain_write_errors(write_models_batch, con, parsed.rows, actor=actor, filename=filename,
                                      content_hash=parsed.content_hash, dry_run=dry_run)
    tell(1.0, "Xong")
    return ImportResult(res.batch_id, res.new, res.changed, res.unchanged, res.skipped_duplicate, dry_run,
                        len(parsed.rows), parsed)


# --------------------------------------------------------------------------- demo registry
DEMO_NOTE = "Dữ liệu minh họa (tổng hợp ngẫu nhiên)"
_DEMO_NAMES = {
    "economy": ["Dân vận khéo trong chuyển đổi cơ cấu cây trồng, vật nuôi", "Hiến đất mở đường giao thông nông thôn",
                "Liên kết sản xuất, tiêu thụ nông sản sạch", "Dồn điền đổi thửa, xây dựng cánh đồng lớn",
                "Hỗ trợ hộ nghèo thoát nghèo bền vững", "Tổ hợp tác nuôi trồng thủy sản",
                "Vườn mẫu nông thôn mới", "Sản phẩm OCOP từ làng nghề truyền thống",
                "Chợ phiên nông sản an toàn", "Vốn vay xoay vòng giúp nhau làm kinh tế"],
    "culture_society": ["Thôn xanh - sạch - đẹp", "Phân loại rác thải tại nguồn", "Bữa cơm nghĩa tình",
                        "Tủ sách cộng đồng", "Câu lạc bộ dưỡng sinh người cao tuổi", "Nhà văn hóa thông minh",
                        "Đường hoa tự quản", "Khuyến học, khuyến tài dòng họ", "Tiệc cưới văn minh, tiết kiệm"],
    "defence_security": ["Camera an ninh cộng đồng", "Tổ tự quản an ninh trật tự",
                         "Khu dân cư không có tội phạm và tệ nạn xã hội", "Dòng họ tự quản về an ninh trật tự",
                         "Ngư dân bám biển giữ chủ quyền"],
    "party_building": ["Chi bộ bốn tốt", "Đảng viên phụ trách hộ gia đình", "Sinh hoạt chi bộ chuyên đề gắn với dân",
                       "Cấp ủy lắng nghe dân nói"],
    "government": ["Bộ phận một cửa thân thiện", "Cán bộ đi từng ngõ, gõ từng nhà",
                   "Đối thoại trực tiếp với Nhân dân hằng quý", "Chính quyền số gần dân",
                   "Giải quyết đơn thư ngay tại cơ sở"],
    "mass_organisations": ["Phụ nữ tiết kiệm giúp nhau", "Nông dân giúp nhau làm kinh tế", "Thanh niên tình nguyện",
                           "Cựu chiến binh giúp nhau giảm nghèo", "Mái ấm Công đoàn", "Mặt trận cùng dân xây nhà"],
}
_DEMO_PEOPLE = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", "Hoàng Văn Em", "Võ Thị Hoa",
                "Đặng Văn Hùng", "Bùi Thị Lan", "Đỗ Văn Minh", "Hồ Thị Nga", "Ngô Văn Phúc", "Dương Thị Quỳnh"]
# Can Lộc 2015 (441 models), except Party building which the demo leaves almost empty (Kiên Giang:
# Party agencies registered only 10% of models)
_DEMO_FIELD_P = {"economy": 197, "culture_society": 92, "defence_security": 39, "party_building": 4,
                 "government": 34, "mass_organisations": 39}


def demo_registry(unit_codes: list[str], unit_types: Mapping[str, str], periods: list[str],
                  seed: int = 2025, rubric: Rubric | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(registered, final) registry rows: what was registered at the start of each period and the
    state at its year-end review. Deterministic under ``seed``."""
    rubric = rubric or default_rubric()
    rng = np.random.default_rng(seed + 77)
    fcodes = list(_DEMO_FIELD_P)
    fp = np.array([_DEMO_FIELD_P[f] for f in fcodes], dtype=float)
    fp /= fp.sum()
    n = len(unit_codes)
    style = rng.choice(["many_weak", "few_strong", "typical", "none"], size=n, p=[0.2, 0.15, 0.62, 0.03])
    quality = rng.normal(0, 1, n)
    reg, fin = [], []
    maxes = np.array([it.max_points for it in rubric.items])
    for t, period in enumerate(periods):
        for ui, unit in enumerate(unit_codes):
            st = style[ui]
            if st == "none":
                continue
            count = {"many_weak": rng.integers(9, 17), "few_strong": rng.integers(2, 5),
                     "typical": rng.integers(4, 9)}[st]
            base_q = {"many_weak": 0.45, "few_strong": 0.85, "typical": 0.66}[st] + 0.05 * quality[ui] + 0.02 * t
            p_rec = {"many_weak": 0.25, "few_strong": 0.85, "typical": 0.5}[st]
            p_drop = {"many_weak": 0.25, "few_strong": 0.03, "typical": 0.1}[st]
            place = "tổ dân phố" if unit_types.get(unit) == "phuong" else "thôn"
            used: set[str] = set()
            for k in range(int(count)):
                f = fcodes[rng.choice(len(fcodes), p=fp)]
                individual = rng.random() < 0.15
                if individual:
                    name = f"Điển hình: {_DEMO_PEOPLE[rng.integers(len(_DEMO_PEOPLE))]} — {_DEMO_NAMES[f][rng.integers(len(_DEMO_NAMES[f]))].lower()}"
                else:
                    name = f"{_DEMO_NAMES[f][rng.integers(len(_DEMO_NAMES[f]))]} ở {place} {rng.integers(1, 15)}"
                if name in used:
                    name = f"{name} (mô hình {k + 1})"
                used.add(name)
                mid = f"MH-{unit}-{period}-{k + 1:02d}"
                u = rng.random()
                if u < p_drop:
                    status = "dropped"
                elif u < p_drop + p_rec:
                    status = "replicated" if rng.random() < (0.35 if st == "few_strong" else 0.08) else "recognised"
                else:
                    status = "in_progress" if rng.random() < 0.7 else "registered"
                level = None
                if status in RECOGNISED:
                    lv = rng.random()
                    level = "central" if lv < (0.06 if st == "few_strong" else 0.01) else \
                        "province" if lv < (0.4 if st == "few_strong" else 0.1) else "commune"
                scores = None
                if status in RECOGNISED or (status == "in_progress" and rng.random() < 0.3):
                    q = np.clip(base_q + rng.normal(0, 0.08, len(maxes)), 0.15, 1.0)
                    scores = {it.code: float(np.round(q[j] * it.max_points * 2) / 2)
                              for j, it in enumerate(rubric.items)}
                common = {"period": period, "model_id": mid, "unit_code": unit, "name": name, "field": f,
                          "kind": "individual" if individual else "collective", "note": DEMO_NOTE}
                reg.append({**common, "status": "registered", "level": None, "evidence": None, "rubric": None,
                            "rubric_total": None})
                fin.append({**common, "status": status, "level": level,
                            "evidence": f"minh-chung/mo-hinh/{period}/{mid}.pdf" if status in RECOGNISED else None,
                            "rubric": _rubric_json(scores), "rubric_total": rubric_total(scores, rubric)})
    return pd.DataFrame(reg, columns=ENTRY_COLUMNS), pd.DataFrame(fin, columns=ENTRY_COLUMNS)


def generate_demo_models(con, seed: int = 2025, periods: list[str] | None = None,
                         provinces: list[str] | None = None) -> dict:
    """Fill a synthetic registry for the demo units (idempotent for the same seed): some communes
    with many weak models, some with few strong ones, Party building almost empty. Two batches,
    so the model cards have a status history: registration, then the year-end review."""
    from .permissions import CLI_ACTOR

    ensure_schema(con)
    if provinces is None:
        meta = store.get_meta(con, "demo_provinces")
        provinces = meta.split(",") if meta else ["42", "91"]
    periods = periods or period_store.periods(con)
    u = unit_store.units(con)
    u = u[u["province_code"].isin(provinces)]
    reg, fin = demo_registry(u["unit_code"].tolist(), dict(zip(u["unit_code"], u["unit_type"])), periods, seed)
    a = write_models_batch(con, reg, actor=CLI_ACTOR, filename=f"demo-mo-hinh-dang-ky(seed={seed})",
                           content_hash=f"demo-models-reg-{seed}", synthetic=True,
                           comment=DEMO_NOTE + ": đăng ký đầu kỳ")
    if a.skipped_duplicate:  # already filled: leave later changes alone
        return {"models": len(fin), "batches": [], "new": 0}
    b = write_models_batch(con, fin, actor=CLI_ACTOR, filename=f"demo-mo-hinh-tong-ket(seed={seed})",
                           content_hash=f"demo-models-review-{seed}", synthetic=True,
                           comment=DEMO_NOTE + ": tổng kết cuối kỳ")
    return {"models": len(fin), "batches": [a.batch_id, b.batch_id], "new": a.new}
