"""The "Dân vận khéo" model registry's vocabulary and data files: statuses, levels and kinds
(with the Vietnamese words accepted for them), the quality rubric (``data/models/rubric.yaml``)
and the fields (``data/models/fields.yaml``).
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, Field, model_validator

from . import store
from .messages import read_yaml, validate_file
from .paths import DATA_DIR
from .text import fold

MODELS_DIR = DATA_DIR / "models"
RUBRIC_FILE = MODELS_DIR / "rubric.yaml"
FIELDS_FILE = MODELS_DIR / "fields.yaml"

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

STATUS_WORDS = {
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
LEVEL_WORDS = {
    "commune": "commune", "xa": "commune", "cap xa": "commune", "phuong": "commune", "cap phuong": "commune",
    "co so": "commune", "cap co so": "commune", "dac khu": "commune", "don vi": "commune",
    "province": "province", "tinh": "province", "cap tinh": "province", "thanh pho": "province",
    "central": "central", "trung uong": "central", "tw": "central", "cap trung uong": "central",
    "toan quoc": "central", "quoc gia": "central",
}
KIND_WORDS = {
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
    return read_yaml(path, ModelsError)


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


def rubric_json(scores: Mapping[str, float] | None) -> str | None:
    if not scores:
        return None
    return json.dumps({k: float(v) for k, v in sorted(scores.items())}, sort_keys=True)
