"""The criteria framework: groups, criteria, tiers and vetoes, read from ``data/criteria/``.

The YAML file is the contract; pydantic models validate it and name the offending
entry in Vietnamese when it is wrong, so a council editing the file sees what to fix.
"""

from __future__ import annotations

from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_serializer, model_validator

from .messages import read_yaml, validate_file
from .paths import CRITERIA_DIR, TIERS_DIR
from .text import nfc

Code = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,31}$")]


class Kind(str, Enum):
    points = "points"
    ratio = "ratio"
    pass_fail = "pass_fail"
    count = "count"
    bonus = "bonus"
    penalty = "penalty"


KIND_LABELS = {
    Kind.points: "Chấm điểm trực tiếp",
    Kind.ratio: "Tỷ lệ so với chỉ tiêu",
    Kind.pass_fail: "Đạt / không đạt",
    Kind.count: "Đếm số lần (có mức trần)",
    Kind.bonus: "Điểm cộng",
    Kind.penalty: "Điểm trừ",
}


# Metrics of the "Dân vận khéo" model registry (``models.py``) a criterion may be derived from,
# with the kind of criterion each one fits and what it measures.
DERIVED_METRICS: dict[str, tuple[Kind, str]] = {
    "models_registered_ratio": (Kind.ratio, "% mô hình đăng ký so với chỉ tiêu từng lĩnh vực"),
    "fields_covered": (Kind.count, "số lĩnh vực có mô hình"),
    "share_recognised": (Kind.ratio, "% mô hình được công nhận"),
    "mean_rubric_recognised": (Kind.ratio, "điểm chất lượng bình quân của mô hình được công nhận (thang 100)"),
    "replicated_bonus": (Kind.bonus, "số mô hình được nhân rộng hoặc được cấp tỉnh, Trung ương công nhận"),
}


class _Named(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("name", "name_en", mode="before", check_fields=False)
    @classmethod
    def _nfc(cls, v):
        return nfc(v) if isinstance(v, str) else v


class Criterion(_Named):
    code: Code
    name: str = Field(min_length=1)
    name_en: str = ""
    kind: Kind
    max_points: float = Field(gt=0)
    target: float | None = Field(default=None, gt=0)
    per_unit: float | None = Field(default=None, gt=0)
    required: bool | None = None
    evidence_required: bool = False
    appraiser_only: bool = False
    source: str = Field(min_length=1)
    # computed from the model registry instead of typed in (None = typed in, the usual case)
    derived: str | None = None
    # "không phát sinh" may be entered (nothing to count: no petitions, no complaints…); the
    # criterion then drops out of its group for that unit instead of scoring 0
    allow_na: bool = False

    @model_serializer(mode="wrap")
    def _omit_unset_derived(self, handler):
        # a framework stored before 'derived' / 'allow_na' existed must serialise exactly as before
        data = handler(self)
        if isinstance(data, dict):
            if data.get("derived") is None:
                data.pop("derived", None)
            if not data.get("allow_na"):
                data.pop("allow_na", None)
        return data

    @model_validator(mode="after")
    def _kind_fields(self):
        if self.derived is not None:
            spec = DERIVED_METRICS.get(self.derived)
            if spec is None:
                raise ValueError(
                    f"tiêu chí '{self.code}': chỉ số dẫn xuất '{self.derived}' không có; chỉ nhận: "
                    + ", ".join(DERIVED_METRICS))
            if self.kind is not spec[0]:
                raise ValueError(
                    f"tiêu chí '{self.code}': chỉ số dẫn xuất '{self.derived}' ({spec[1]}) cần loại "
                    f"'{spec[0].value}', không phải '{self.kind.value}'")
            if self.evidence_required:
                raise ValueError(
                    f"tiêu chí '{self.code}' được tính từ sổ mô hình nên không nhập minh chứng; "
                    "bỏ 'evidence_required'")
        if self.allow_na and (not self.ordinary or self.derived is not None):
            raise ValueError(f"tiêu chí '{self.code}': chỉ tiêu chí thường nhập tay mới được 'allow_na' "
                             "(không phát sinh); điểm cộng, điểm trừ và tiêu chí dẫn xuất thì không")
        if self.kind is Kind.ratio and self.target is None:
            raise ValueError("tiêu chí loại 'ratio' phải có 'target' (chỉ tiêu)")
        if self.kind is Kind.count and self.per_unit is None:
            raise ValueError("tiêu chí loại 'count' phải có 'per_unit' (điểm cho mỗi lần)")
        if self.kind not in (Kind.ratio,) and self.target is not None:
            raise ValueError("chỉ tiêu chí loại 'ratio' mới có 'target'")
        if self.kind is not Kind.count and self.per_unit is not None:
            raise ValueError("chỉ tiêu chí loại 'count' mới có 'per_unit'")
        return self

    @property
    def ordinary(self) -> bool:
        """Counts toward the 100 points (not a bonus, not a penalty)."""
        return self.kind not in (Kind.bonus, Kind.penalty)

    @property
    def is_required(self) -> bool:
        return self.ordinary if self.required is None else self.required

    @property
    def value_max(self) -> float | None:
        """Largest value an upload may carry for this criterion (None = no upper bound)."""
        if self.kind in (Kind.points, Kind.bonus, Kind.penalty):
            return self.max_points
        if self.kind is Kind.pass_fail:
            return 1.0
        return None  # ratio and count: any non-negative achieved value, capped when scored

    def value_hint(self) -> str:
        if self.kind is Kind.pass_fail:
            return "1 = đạt, 0 = không đạt"
        if self.kind is Kind.ratio:
            return f"giá trị đạt được so với chỉ tiêu {self.target:g}"
        if self.kind is Kind.count:
            return f"số lần; mỗi lần {self.per_unit:g} điểm, tối đa {self.max_points:g}"
        return f"điểm từ 0 đến {self.max_points:g}"


class Group(_Named):
    code: Code
    name: str = Field(min_length=1)
    name_en: str = ""
    criteria: list[Criterion] = Field(min_length=1)

    @property
    def ordinary_max(self) -> float:
        return sum(c.max_points for c in self.criteria if c.ordinary)


class TierCondition(_Named):
    """A criterion a unit must meet for a tier (QĐ 366: no member of the leadership disciplined…):
    its achievement (points ÷ max) at least ``min_achievement``; a criterion the unit marks
    "không phát sinh" counts as met."""

    criterion: Code
    min_achievement: float = Field(default=1.0, gt=0, le=1)

    @model_serializer(mode="wrap")
    def _omit_default(self, handler):
        data = handler(self)
        if isinstance(data, dict) and data.get("min_achievement") == 1.0:
            data.pop("min_achievement", None)
        return data


class ShareCap(_Named):
    """At most ``share`` of the ranked units of each ``scope`` (block or province) in a tier;
    the units beyond the cap by rank fall one tier (a tie at the cap falls whole)."""

    share: float = Field(gt=0, lt=1)
    scope: Literal["block", "province"] = "block"


class Tier(_Named):
    code: Code
    name: str = Field(min_length=1)
    name_en: str = ""
    min_total: float = Field(ge=0, le=100)
    conditions: list[TierCondition] = Field(default_factory=list)
    share_cap: ShareCap | None = None

    @model_serializer(mode="wrap")
    def _omit_unset(self, handler):
        # tiers written before conditions and caps existed serialise exactly as before
        data = handler(self)
        if isinstance(data, dict):
            if not data.get("conditions"):
                data.pop("conditions", None)
            if data.get("share_cap") is None:
                data.pop("share_cap", None)
        return data


class Veto(_Named):
    code: Code
    name: str = Field(min_length=1)
    name_en: str = ""
    criterion: Code
    cap_tier: Code
    # a disqualifying veto makes the unit "không đủ điều kiện xếp loại" (not ranked), instead of
    # capping its tier; either way the unit is left out of emulation awards
    disqualifies: bool = False

    @model_serializer(mode="wrap")
    def _omit_default(self, handler):
        data = handler(self)
        if isinstance(data, dict) and not data.get("disqualifies"):
            data.pop("disqualifies", None)
        return data


# A unit that is not ranked is either incomplete (data still missing: not a sanction) or not
# eligible (a condition the framework names, e.g. a disqualifying veto). The *_LABEL forms
# open a table cell or a card.
INCOMPLETE = "chưa đủ dữ liệu"
INCOMPLETE_LABEL = "Chưa đủ dữ liệu"
NOT_ELIGIBLE = "không đủ điều kiện xếp loại"
NOT_ELIGIBLE_LABEL = "Không đủ điều kiện xếp loại"


class Framework(_Named):
    code: Code
    version: int = Field(ge=1)
    name: str = Field(min_length=1)
    name_en: str = ""
    valid_from: str = ""
    # the tier scheme (data/tiers/<code>.yaml) the tiers were taken from; a stored framework
    # keeps the tiers themselves, so editing the scheme file never changes a past period
    tier_scheme: Code | None = None
    tiers: list[Tier] = Field(min_length=1)
    vetoes: list[Veto] = Field(default_factory=list)
    groups: list[Group] = Field(min_length=1)
    # How a tie for block leader is settled among award-eligible units with the same printed
    # total: a list of group codes (the higher group total wins, in that order; a tie left
    # after all of them stays open), or "council" (the council decides: always an open tie).
    # Not set: the scored groups in framework order.
    leader_tie_break: list[Code] | Literal["council"] | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, ignored_types=(cached_property,))

    @model_serializer(mode="wrap")
    def _omit_unset_rules(self, handler):
        # a framework stored before 'leader_tie_break' existed must serialise exactly as before
        data = handler(self)
        if isinstance(data, dict):
            for key in ("leader_tie_break", "tier_scheme"):
                if data.get(key) is None:
                    data.pop(key, None)
        return data

    @model_validator(mode="before")
    @classmethod
    def _tiers_from_scheme(cls, data):
        if isinstance(data, dict) and data.get("tier_scheme") and not data.get("tiers"):
            data = {**data, "tiers": [t.model_dump() for t in load_tier_scheme(data["tier_scheme"]).tiers]}
        return data

    @model_validator(mode="after")
    def _consistent(self):
        seen: set[str] = set()
        for g in self.groups:
            if g.code in seen:
                raise ValueError(f"mã nhóm '{g.code}' bị trùng")
            seen.add(g.code)
        seen_c: set[str] = set()
        for g in self.groups:
            for c in g.criteria:
                if c.code in seen_c or c.code in seen:
                    raise ValueError(f"mã tiêu chí '{c.code}' (nhóm {g.code}) bị trùng")
                seen_c.add(c.code)
        total = sum(c.max_points for g in self.groups for c in g.criteria if c.ordinary)
        if abs(total - 100) > 1e-9:
            raise ValueError(
                f"tổng điểm tối đa của các tiêu chí thường phải bằng 100, hiện là {total:g}"
            )
        mins = [t.min_total for t in self.tiers]
        if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
            raise ValueError("các mức xếp loại (tiers) phải xếp theo min_total giảm dần, không trùng")
        if mins[-1] != 0:
            raise ValueError(f"mức xếp loại cuối cùng '{self.tiers[-1].code}' phải có min_total = 0")
        tier_codes = {t.code for t in self.tiers}
        crit = {c.code: c for g in self.groups for c in g.criteria}
        for k, t in enumerate(self.tiers):
            if t.share_cap is not None and k != 0:
                raise ValueError(f"mức xếp loại '{t.code}': chỉ mức cao nhất mới có giới hạn tỷ lệ (share_cap)")
            if t.conditions and k == len(self.tiers) - 1:
                raise ValueError(f"mức xếp loại thấp nhất '{t.code}' không được có điều kiện")
            for cond in t.conditions:
                c = crit.get(cond.criterion)
                if c is None or not c.ordinary:
                    raise ValueError(f"mức xếp loại '{t.code}': điều kiện cần một tiêu chí thường có trong "
                                     f"bộ tiêu chí, không có '{cond.criterion}'")
        for v in self.vetoes:
            if v.criterion not in crit:
                raise ValueError(f"quy tắc loại trừ '{v.code}': không có tiêu chí '{v.criterion}'")
            if crit[v.criterion].kind is not Kind.pass_fail:
                raise ValueError(
                    f"quy tắc loại trừ '{v.code}': tiêu chí '{v.criterion}' phải là loại pass_fail"
                )
            if v.cap_tier not in tier_codes:
                raise ValueError(f"quy tắc loại trừ '{v.code}': không có mức xếp loại '{v.cap_tier}'")
            if crit[v.criterion].allow_na:
                raise ValueError(f"quy tắc loại trừ '{v.code}': tiêu chí '{v.criterion}' không được 'allow_na'")
        for g in self.groups:
            ordinary = [c for c in g.criteria if c.ordinary]
            if ordinary and all(c.allow_na for c in ordinary):
                raise ValueError(f"nhóm '{g.code}': mọi tiêu chí đều 'allow_na' thì cả nhóm có thể "
                                 "không phát sinh; cần ít nhất một tiêu chí luôn phải chấm")
        if isinstance(self.leader_tie_break, list):
            unknown = [g for g in self.leader_tie_break if g not in seen]
            if unknown:
                raise ValueError(f"leader_tie_break: không có nhóm {', '.join(unknown)}")
        return self

    # --- lookups -------------------------------------------------------------------------
    @property
    def key(self) -> str:
        return f"{self.code}@{self.version}"

    @cached_property
    def criteria(self) -> dict[str, Criterion]:
        return {c.code: c for g in self.groups for c in g.criteria}

    @cached_property
    def group_of(self) -> dict[str, str]:
        return {c.code: g.code for g in self.groups for c in g.criteria}

    @cached_property
    def scored_groups(self) -> list[Group]:
        """Groups that carry ordinary points (they have a sub-score column)."""
        return [g for g in self.groups if g.ordinary_max > 0]

    @property
    def tie_break_groups(self) -> list[str] | None:
        """Groups that settle a tie for block leader, in order; None: the council decides."""
        if self.leader_tie_break == "council":
            return None
        return list(self.leader_tie_break or [g.code for g in self.scored_groups])

    @cached_property
    def tier_names(self) -> dict[str, str]:
        return {t.code: t.name for t in self.tiers}

    def group(self, code: str) -> Group:
        for g in self.groups:
            if g.code == code:
                return g
        raise KeyError(code)


class FrameworkError(ValueError):
    """A criteria file that cannot be used; the message names the entry and the reason."""


_LABELS = {"groups": "nhóm", "criteria": "tiêu chí", "tiers": "mức xếp loại", "vetoes": "quy tắc loại trừ"}


class TierScheme(_Named):
    """A tier scheme file (``data/tiers/*.yaml``): bands, conditions and caps a framework names."""

    code: Code
    name: str = Field(min_length=1)
    name_en: str = ""
    source: str = Field(min_length=1)
    tiers: list[Tier] = Field(min_length=2)


def load_tier_scheme(code: str) -> TierScheme:
    path = TIERS_DIR / f"{code}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in TIERS_DIR.glob("*.yaml"))) or "không có"
        raise ValueError(f"không có thang xếp loại '{code}' (tệp {path.name}); hiện có: {known}")
    data = read_yaml(path, ValueError, "thang xếp loại")
    return validate_file(TierScheme, data, path.name, FrameworkError, {"tiers": "mức xếp loại"})


def parse_framework(data: object, source: str = "tệp tiêu chí") -> Framework:
    return validate_file(Framework, data, source, FrameworkError, _LABELS)


def load_framework(path: str | Path) -> Framework:
    path = Path(path)
    data = read_yaml(path, FrameworkError)
    return parse_framework(data, path.name)


# New periods get version 3 (QĐ 366 tiers, "không phát sinh", the directives' full coverage);
# a period keeps the framework it was created with, so v1/v2 periods score exactly as before.
DEFAULT_FRAMEWORK_FILE = CRITERIA_DIR / "dvk-2026.v3.yaml"
# the five-band framework of the first rounds (the demo's history is scored on it)
V2_FRAMEWORK_FILE = CRITERIA_DIR / "dvk-2025.v2.yaml"


def default_framework() -> Framework:
    return load_framework(DEFAULT_FRAMEWORK_FILE)
