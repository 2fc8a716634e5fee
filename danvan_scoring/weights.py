"""Weight profiles: named, versioned weights per group and per criterion.

The default profile gives each criterion its framework points and each group the sum
of its points, so under it a total is just the sum of points. One profile per period
can be marked official; marking is appended, never overwritten.
"""

from __future__ import annotations

import math

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from . import lifecycle, periods, store
from .criteria import Framework
from .permissions import CLI_ACTOR, Actor

DEFAULT_PROFILE = store.DEFAULT_PROFILE_NAME   # "mac-dinh"


class WeightProfile(BaseModel):
    """The contract for a weight profile crossing a boundary (form, file, database)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    version: int | None = None
    framework_code: str
    framework_version: int
    groups: dict[str, float]
    criteria: dict[str, float]
    comment: str | None = None
    member: str | None = None  # the council member who submitted it, for council weighting
    profile_id: int | None = None

    @field_validator("groups", "criteria")
    @classmethod
    def _non_negative(cls, v: dict[str, float]):
        for code, w in v.items():
            if w is None or not math.isfinite(w) or w < 0:
                raise ValueError(f"trọng số của '{code}' phải là số không âm, nhận được {w!r}")
        return v

    @model_validator(mode="after")
    def _some_weight(self):
        if sum(self.groups.values()) <= 0:
            raise ValueError("tổng trọng số các nhóm phải lớn hơn 0")
        return self

    def check_against(self, fw: Framework) -> None:
        """Every scored group and ordinary criterion of the framework has a weight, nothing else."""
        groups = {g.code for g in fw.scored_groups}
        crits = {c.code for g in fw.scored_groups for c in g.criteria if c.ordinary}
        missing = (groups - set(self.groups)) | (crits - set(self.criteria))
        extra = (set(self.groups) - groups) | (set(self.criteria) - crits)
        if missing:
            raise store.StoreError(f"Bộ trọng số '{self.name}' thiếu trọng số cho: {', '.join(sorted(missing))}")
        if extra:
            raise store.StoreError(f"Bộ trọng số '{self.name}' có mã không thuộc bộ tiêu chí: {', '.join(sorted(extra))}")
        for g in fw.scored_groups:
            if self.groups[g.code] > 0 and sum(self.criteria[c.code] for c in g.criteria if c.ordinary) <= 0:
                raise store.StoreError(f"Nhóm {g.code} có trọng số nhưng mọi tiêu chí của nhóm đều bằng 0")

    @property
    def label(self) -> str:
        return f"{self.name} (v{self.version})" if self.version else self.name


def default_profile(fw: Framework) -> WeightProfile:
    return WeightProfile(
        name=DEFAULT_PROFILE, framework_code=fw.code, framework_version=fw.version,
        groups={g.code: g.ordinary_max for g in fw.scored_groups},
        criteria={c.code: c.max_points for g in fw.scored_groups for c in g.criteria if c.ordinary},
        comment="Mặc định: mỗi tiêu chí mang đúng số điểm của bộ tiêu chí",
    )


def from_budget(fw: Framework, points: dict[str, float], *, name: str, member: str | None = None,
                comment: str | None = None) -> WeightProfile:
    """A council member distributes 100 points over the groups; criteria keep framework proportions."""
    total = sum(points.values())
    if abs(total - 100) > 1e-6:
        raise store.StoreError(f"Tổng điểm phân bổ phải bằng 100, hiện là {total:g}")
    base = default_profile(fw)
    return base.model_copy(update={"name": name, "groups": dict(points), "member": member, "comment": comment})


# --------------------------------------------------------------------------- persistence
def save_profile(con, profile: WeightProfile, fw: Framework, *, actor: Actor) -> WeightProfile:
    """Save as the next version of its name; returns the stored profile."""
    with store.write(con, actor, "weights", action="weights.save") as w:
        profile.check_against(fw)
        version = con.execute("SELECT coalesce(max(version), 0) + 1 FROM weight_profiles WHERE name = ?",
                              [profile.name]).fetchone()[0]
        pid = con.execute("SELECT nextval('profile_seq')").fetchone()[0]
        con.execute("INSERT INTO weight_profiles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [pid, profile.name, version, fw.code, fw.version, profile.comment, actor.username,
                     store.now(), profile.member])
        rows = [(pid, "group", k, float(v)) for k, v in profile.groups.items()] + \
               [(pid, "criterion", k, float(v)) for k, v in profile.criteria.items()]
        con.executemany("INSERT INTO profile_weights VALUES (?, ?, ?, ?)", rows)
        before = None
        if version > 1:
            prev = load_profile(con, profile.name, version - 1)
            before = {"groups": prev.groups, "criteria": prev.criteria}
        w.target, w.before = f"{profile.name}@v{version}", before
        w.after = {"groups": profile.groups, "criteria": profile.criteria, "comment": profile.comment,
                   "member": profile.member}
    return profile.model_copy(update={"version": int(version), "profile_id": int(pid)})


def ensure_default_profile(con, fw: Framework) -> None:
    """Create the default profile for a framework once (init is idempotent)."""
    with store.write(con, CLI_ACTOR, "weights", action=None):
        if con.execute("SELECT 1 FROM weight_profiles WHERE name = ? AND framework_code = ? "
                       "AND framework_version = ?", [DEFAULT_PROFILE, fw.code, fw.version]).fetchone():
            return
        save_profile(con, default_profile(fw), fw, actor=CLI_ACTOR)


def _from_row(con, row) -> WeightProfile:
    pid, name, version, fcode, fver, comment, member = row
    w = con.execute("SELECT level, code, weight FROM profile_weights WHERE profile_id = ?", [pid]).fetchall()
    return WeightProfile(name=name, version=version, framework_code=fcode, framework_version=fver,
                         groups={c: x for lvl, c, x in w if lvl == "group"},
                         criteria={c: x for lvl, c, x in w if lvl == "criterion"},
                         comment=comment, member=member, profile_id=pid)


_COLS = "profile_id, name, version, framework_code, framework_version, comment, member"


def load_profile(con, name: str, version: int | None = None) -> WeightProfile:
    if version is None:
        row = con.execute(f"SELECT {_COLS} FROM weight_profiles WHERE name = ? ORDER BY version DESC LIMIT 1",
                          [name]).fetchone()
    else:
        row = con.execute(f"SELECT {_COLS} FROM weight_profiles WHERE name = ? AND version = ?",
                          [name, version]).fetchone()
    if row is None:
        names = ", ".join(list_profiles(con)["name"].unique()) or "(chưa có)"
        raise store.StoreError(f"Không có bộ trọng số '{name}'. Hiện có: {names}")
    return _from_row(con, row)


def load_profile_id(con, profile_id: int) -> WeightProfile:
    row = con.execute(f"SELECT {_COLS} FROM weight_profiles WHERE profile_id = ?", [profile_id]).fetchone()
    if row is None:
        raise store.StoreError(f"Không có bộ trọng số số {profile_id}")
    return _from_row(con, row)


def list_profiles(con, fw: Framework | None = None) -> pd.DataFrame:
    sql = ("SELECT profile_id, name, version, framework_code, framework_version, comment, member, created_by, "
           "created_at FROM weight_profiles")
    params: list = []
    if fw is not None:
        sql += " WHERE framework_code = ? AND framework_version = ?"
        params = [fw.code, fw.version]
    return con.execute(sql + " ORDER BY name, version", params).df()


def official_profile(con, period: str) -> WeightProfile:
    """The profile marked official for the period, else the latest default profile of its framework."""
    row = con.execute("SELECT profile_id FROM official_profiles WHERE period = ? ORDER BY marked_at DESC, "
                      "rowid DESC LIMIT 1", [period]).fetchone()
    if row:
        return load_profile_id(con, row[0])
    fw = periods.framework_for_period(con, period)
    row = con.execute(f"SELECT {_COLS} FROM weight_profiles WHERE name = ? AND framework_code = ? AND "
                      "framework_version = ? ORDER BY version DESC LIMIT 1",
                      [DEFAULT_PROFILE, fw.code, fw.version]).fetchone()
    return _from_row(con, row) if row else default_profile(fw)


def mark_official(con, period: str, profile: WeightProfile, *, actor: Actor, reason: str | None = None) -> None:
    """Make ``profile`` the official one of the period. Once the period reached appraisal the
    weights are fixed: only the chair (or admin) may change them, with a ``reason`` that is kept
    for the notice on the ranking page (``lifecycle.official_changes``)."""
    with store.write(con, actor, "publish", action="weights.official", target=period,
                     after={"profile": profile.label, "reason": reason},
                     guard=lifecycle.guard(period, "official")) as w:
        fw = periods.framework_for_period(con, period)
        if (profile.framework_code, profile.framework_version) != (fw.code, fw.version):
            raise store.StoreError(f"Bộ trọng số '{profile.label}' dùng bộ tiêu chí khác với kỳ {period}")
        if profile.profile_id is None:
            raise store.StoreError("Hãy lưu bộ trọng số trước khi chọn làm chính thức")
        w.before = {"profile": official_profile(con, period).label}
        lifecycle.record_official_change(con, period, profile.profile_id, reason, actor)
        con.execute("INSERT INTO official_profiles VALUES (?, ?, ?, ?)",
                    [period, profile.profile_id, actor.username, store.now()])


def resolve_profile(con, period: str, name: str | None) -> WeightProfile:
    """``--profile NAME`` (its latest version, or NAME@vN), else the period's official profile."""
    if not name:
        return official_profile(con, period)
    if "@v" in name:
        base, _, ver = name.rpartition("@v")
        if ver.isdigit():
            return load_profile(con, base, int(ver))
    return load_profile(con, name)
