"""The award catalogue: which awards a province gives, to whom, how many, and the vote needed.

Read from ``data/awards/*.yaml`` (a province edits the file to its own regulation: names,
levels, eligibility, caps, vote thresholds). Pydantic models validate it and name the
offending entry in Vietnamese, like the criteria file. No condition or cap lives in code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .errors import StoreError
from .messages import read_yaml, validate_file
from .paths import DATA_DIR
from .text import nfc

AWARDS_DIR = DATA_DIR / "awards"
DEFAULT_CATALOGUE_FILE = AWARDS_DIR / "mac-dinh.yaml"

Code = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,31}$")]
SCOPE_LABELS = {"block": "khối", "province": "tỉnh"}


class CatalogueError(StoreError):
    """An award catalogue that cannot be used; the message names the entry and the reason."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cap(_Frozen):
    """At most ``count`` awards, or ``share`` of the ranked units, per block or per province."""

    per: Literal["block", "province"]
    count: int | None = Field(default=None, ge=0)
    share: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _one_of(self):
        if (self.count is None) == (self.share is None):
            raise ValueError("chỉ tiêu phải có đúng một trong hai: count (số lượng) hoặc share (tỷ lệ)")
        return self

    def limit(self, n_ranked: int) -> int:
        """How many awards the scope may receive, given its number of ranked units (share: rounded down)."""
        if self.count is not None:
            return self.count
        return int(self.share * n_ranked + 1e-9)

    def label(self) -> str:
        scope = SCOPE_LABELS[self.per]
        if self.count is not None:
            return f"tối đa {self.count} mỗi {scope}"
        return f"tối đa {self.share:.0%} số đơn vị đã xếp hạng của mỗi {scope}".replace(".", ",")


class Eligibility(_Frozen):
    award_eligible: bool = True
    # the lowest tier that qualifies, by its code; a list names alternatives for different tier
    # schemes ([tot, hoan_thanh_xuat_sac]: the first one the period's framework has is used), so
    # one catalogue serves periods on the five-band scheme and on QĐ 366
    min_tier: str | list[str] | None = None
    block_leader: bool = False
    min_total: float | None = Field(default=None, ge=0)
    min_models_recognised: int | None = Field(default=None, ge=0)

    def tier_in(self, tier_codes: list[str]) -> str | None:
        """The minimum tier among ``tier_codes`` (the first alternative present), None if none is."""
        if self.min_tier is None:
            return None
        options = [self.min_tier] if isinstance(self.min_tier, str) else self.min_tier
        return next((t for t in options if t in tier_codes), None)


class Award(_Frozen):
    code: Code
    name: str = Field(min_length=1)
    level: str = Field(min_length=1)
    issuer: str = ""
    family: Code
    rank: int = Field(ge=1)
    basis: str = ""
    eligibility: Eligibility = Eligibility()
    caps: list[Cap] = []
    vote_threshold: float = Field(default=0.5, ge=0, lt=1)

    @field_validator("name", "level", "issuer", "basis", mode="before")
    @classmethod
    def _nfc(cls, v):
        return nfc(v) if isinstance(v, str) else v


class Catalogue(_Frozen):
    code: Code
    name: str = Field(min_length=1)
    legal_basis: list[str] = []
    awards: list[Award] = Field(min_length=1)

    @field_validator("name", mode="before")
    @classmethod
    def _nfc(cls, v):
        return nfc(v) if isinstance(v, str) else v

    @field_validator("legal_basis", mode="before")
    @classmethod
    def _nfc_list(cls, v):
        return [nfc(x) if isinstance(x, str) else x for x in v] if isinstance(v, list) else v

    @model_validator(mode="after")
    def _unique(self):
        codes = [a.code for a in self.awards]
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup:
            raise ValueError(f"mã hình thức khen thưởng bị trùng: {', '.join(dup)}")
        seen: dict[tuple[str, int], str] = {}
        for a in self.awards:
            other = seen.setdefault((a.family, a.rank), a.code)
            if other != a.code:
                raise ValueError(f"'{other}' và '{a.code}' cùng family '{a.family}' và cùng rank {a.rank}: "
                                 "mỗi family phải xếp thứ bậc rõ ràng")
        return self

    def award(self, code: str) -> Award:
        for a in self.awards:
            if a.code == code:
                return a
        known = ", ".join(a.code for a in self.awards)
        raise CatalogueError(f"Không có hình thức khen thưởng mã '{code}' trong danh mục (có: {known})")

    def in_order(self) -> list[Award]:
        """Awards family by family (catalogue order of first appearance), highest (rank 1) first."""
        fam_order = {f: i for i, f in enumerate(dict.fromkeys(a.family for a in self.awards))}
        return sorted(self.awards, key=lambda a: (fam_order[a.family], a.rank))

    def check_tiers(self, tier_codes: list[str]) -> None:
        """Refuse a catalogue naming a tier the period's framework does not have."""
        for a in self.awards:
            t = a.eligibility.min_tier
            if t is not None and a.eligibility.tier_in(tier_codes) is None:
                named = "', '".join([t] if isinstance(t, str) else t)
                raise CatalogueError(f"Hình thức '{a.code}': min_tier '{named}' không có trong bộ tiêu chí của kỳ "
                                     f"(có: {', '.join(tier_codes)})")


_LABELS = {"awards": "hình thức", "caps": "chỉ tiêu", "eligibility": "điều kiện"}


def parse_catalogue(data: object, source: str = "danh mục khen thưởng") -> Catalogue:
    return validate_file(Catalogue, data, source, CatalogueError, _LABELS)


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    path = Path(path) if path else DEFAULT_CATALOGUE_FILE
    data = read_yaml(path, CatalogueError, "tệp danh mục khen thưởng")
    return parse_catalogue(data, path.name)
