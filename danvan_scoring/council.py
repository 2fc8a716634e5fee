"""Council weighting: every member's weights, their spread, consensus, adoption by the chair.

A council member submits a profile for a period either as weights (a WeightProfile) or
by distributing 100 points over the groups (:func:`weights.from_budget`). Each
submission is saved as the next version of the member's profile
``hoi-dong-<period>-<username>`` (``weight_profiles.member`` set) and recorded in
``council_submissions``; a member's latest submission counts.

Weights are compared as shares: a group's share is its weight / Σ group weights × 100;
a criterion's share is its weight / Σ weights of its group. The consensus profiles take
the median (or mean) of the members' shares, renormalise group shares to 100 and give
each criterion its median (mean) share of its group's framework points, so a consensus
of budget submissions keeps the framework's criterion points.

The chair (admin, or a council member marked chair) adopts one candidate as the
official profile of the period (:func:`adopt`). Every write is in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import lifecycle, periods, store
from .criteria import Framework
from .permissions import Actor
from .weights import WeightProfile, from_budget, load_profile_id, mark_official, official_profile, save_profile

METHOD_LABELS = {"weights": "Nhập trọng số", "budget": "Phân bổ 100 điểm"}
CONSENSUS = {"median": ("trung-vi", "trung vị"), "mean": ("trung-binh", "trung bình")}


def member_profile_name(period: str, username: str) -> str:
    return f"hoi-dong-{period}-{username}"[:64]


def consensus_profile_name(period: str, how: str) -> str:
    return f"dong-thuan-{CONSENSUS[how][0]}-{period}"


# --------------------------------------------------------------------------- submit
def submit(con, period: str, *, actor: Actor, profile: WeightProfile | None = None,
           points: dict[str, float] | None = None, comment: str | None = None) -> WeightProfile:
    """Record a council member's weights for a period (exactly one of ``profile``, ``points``):
    the profile, the submission and their audit entries in one transaction."""
    with store.write(con, actor, "weights", action="council.submit", target=period,
                     guard=lifecycle.guard(period, "council")) as w:
        if (profile is None) == (points is None):
            raise store.StoreError("Hãy gửi hoặc bộ trọng số, hoặc cách phân bổ 100 điểm cho các nhóm (một trong hai)")
        fw = periods.framework_for_period(con, period)
        method, prof = _member_profile(fw, period, actor, profile, points, comment)
        saved = save_profile(con, prof, fw, actor=actor)
        sid = con.execute("SELECT nextval('submission_seq')").fetchone()[0]
        con.execute("INSERT INTO council_submissions VALUES (?, ?, ?, ?, ?, ?)",
                    [sid, period, actor.username, saved.profile_id, method, store.now()])
        w.after = {"submission_id": int(sid), "profile": saved.label, "method": method, "groups": saved.groups}
    return saved


def _member_profile(fw: Framework, period: str, actor: Actor, profile: WeightProfile | None,
                    points: dict[str, float] | None, comment: str | None) -> tuple[str, WeightProfile]:
    """(method, the member's profile to save) from a submitted profile or a 100-point budget."""
    name = member_profile_name(period, actor.username)
    if points is not None:
        unknown = set(points) - {g.code for g in fw.scored_groups}
        if unknown:
            raise store.StoreError(f"Nhóm không thuộc bộ tiêu chí: {', '.join(sorted(unknown))}")
        full = {g.code: float(points.get(g.code, 0.0)) for g in fw.scored_groups}
        return "budget", from_budget(fw, full, name=name, member=actor.username,
                                     comment=comment or f"Phân bổ 100 điểm của {actor.username} cho kỳ {period}")
    if (profile.framework_code, profile.framework_version) != (fw.code, fw.version):
        raise store.StoreError(f"Bộ trọng số '{profile.label}' dùng bộ tiêu chí khác với kỳ {period}")
    return "weights", profile.model_copy(update={
        "name": name, "member": actor.username, "version": None, "profile_id": None,
        "comment": comment or profile.comment or f"Trọng số của {actor.username} cho kỳ {period}"})


# --------------------------------------------------------------------------- read
def _latest(con, period: str) -> pd.DataFrame:
    return con.execute(
        """SELECT submission_id, member, profile_id, method, submitted_at FROM (
               SELECT *, row_number() OVER (PARTITION BY member ORDER BY submitted_at DESC, submission_id DESC) rn
               FROM council_submissions WHERE period = ?) AS latest WHERE rn = 1 ORDER BY member""", [period]).df()


def member_profiles(con, period: str) -> dict[str, WeightProfile]:
    """Each member's latest submitted profile, by username."""
    return {r.member: load_profile_id(con, int(r.profile_id)) for r in _latest(con, period).itertuples()}


def group_shares(profile: WeightProfile, fw: Framework) -> dict[str, float]:
    total = sum(profile.groups.get(g.code, 0.0) for g in fw.scored_groups)
    return {g.code: 100.0 * profile.groups.get(g.code, 0.0) / total for g in fw.scored_groups}


def criterion_shares(profile: WeightProfile, fw: Framework) -> dict[str, float]:
    """Each ordinary criterion's share of its group (0…1; 0 when the group's weights are all 0)."""
    out = {}
    for g in fw.scored_groups:
        crits = [c.code for c in g.criteria if c.ordinary]
        s = sum(profile.criteria.get(c, 0.0) for c in crits)
        for c in crits:
            out[c] = profile.criteria.get(c, 0.0) / s if s > 0 else 0.0
    return out


def submissions(con, period: str) -> pd.DataFrame:
    """One row per member (latest submission): member, display name, method, when, profile,
    then ``share_<group>`` — the group's share of 100 — for every scored group."""
    fw = periods.framework_for_period(con, period)
    latest = _latest(con, period)
    cols = ["member", "display_name", "method", "method_label", "submitted_at", "profile_id", "profile"] + \
        [f"share_{g.code}" for g in fw.scored_groups]
    if latest.empty:
        return pd.DataFrame(columns=cols)
    names = dict(con.execute("SELECT username, display_name FROM users").fetchall())
    rows = []
    for r in latest.itertuples():
        p = load_profile_id(con, int(r.profile_id))
        row = {"member": r.member, "display_name": names.get(r.member, r.member), "method": r.method,
               "method_label": METHOD_LABELS.get(r.method, r.method), "submitted_at": r.submitted_at,
               "profile_id": int(r.profile_id), "profile": p.label}
        row.update({f"share_{g}": v for g, v in group_shares(p, fw).items()})
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)


def submission_weights(con, period: str) -> pd.DataFrame:
    """Long form, every level: member, level (group/criterion), code, group, weight, share."""
    fw = periods.framework_for_period(con, period)
    rows = []
    for member, p in member_profiles(con, period).items():
        gs, cs = group_shares(p, fw), criterion_shares(p, fw)
        for g in fw.scored_groups:
            rows.append({"member": member, "level": "group", "code": g.code, "group": g.code,
                         "weight": p.groups.get(g.code, 0.0), "share": gs[g.code]})
            for c in g.criteria:
                if c.ordinary:
                    rows.append({"member": member, "level": "criterion", "code": c.code, "group": g.code,
                                 "weight": p.criteria.get(c.code, 0.0), "share": cs[c.code]})
    return pd.DataFrame(rows, columns=["member", "level", "code", "group", "weight", "share"])


def spread(con, period: str) -> pd.DataFrame:
    """Per group: how far the members' shares (of 100) differ — min, max, mean, median, std."""
    fw = periods.framework_for_period(con, period)
    sub = submissions(con, period)
    rows = []
    for g in fw.scored_groups:
        x = sub[f"share_{g.code}"].astype(float).to_numpy() if len(sub) else np.array([])
        rows.append({"group": g.code, "group_name": g.name, "members": len(x),
                     "min": x.min() if len(x) else np.nan, "max": x.max() if len(x) else np.nan,
                     "range": (x.max() - x.min()) if len(x) else np.nan,
                     "mean": x.mean() if len(x) else np.nan, "median": np.median(x) if len(x) else np.nan,
                     "std": x.std(ddof=1) if len(x) > 1 else (0.0 if len(x) else np.nan)})
    return pd.DataFrame(rows)


def consensus_profile(con, period: str, how: str = "median") -> WeightProfile:
    """The median (or mean) of the members' shares as an unsaved profile."""
    if how not in CONSENSUS:
        raise store.StoreError(f"Cách lấy đồng thuận '{how}' không hợp lệ; chỉ nhận: {', '.join(CONSENSUS)}")
    fw = periods.framework_for_period(con, period)
    profs = member_profiles(con, period)
    if not profs:
        raise store.StoreError(f"Chưa có thành viên hội đồng nào gửi trọng số cho kỳ {period}")
    stat = np.median if how == "median" else np.mean
    gs = [group_shares(p, fw) for p in profs.values()]
    cs = [criterion_shares(p, fw) for p in profs.values()]
    groups = {g.code: float(stat([s[g.code] for s in gs])) for g in fw.scored_groups}
    tot = sum(groups.values())
    groups = {k: round(100.0 * v / tot, 9) for k, v in groups.items()}
    criteria = {}
    for g in fw.scored_groups:
        crits = [c for c in g.criteria if c.ordinary]
        raw = {c.code: float(stat([s[c.code] for s in cs])) for c in crits}
        s = sum(raw.values())
        for c in crits:
            criteria[c.code] = round(g.ordinary_max * raw[c.code] / s, 9) if s > 0 else c.max_points
    members = ", ".join(sorted(profs))
    return WeightProfile(name=consensus_profile_name(period, how), framework_code=fw.code,
                         framework_version=fw.version, groups=groups, criteria=criteria,
                         comment=f"Đồng thuận ({CONSENSUS[how][1]}) của {len(profs)} thành viên hội đồng: {members}")


def save_consensus(con, period: str, how: str = "median", *, actor: Actor) -> WeightProfile:
    with store.write(con, actor, "weights", action="council.consensus", target=period,
                     guard=lifecycle.guard(period, "council")) as w:
        fw = periods.framework_for_period(con, period)
        saved = save_profile(con, consensus_profile(con, period, how), fw, actor=actor)
        w.after = {"profile": saved.label, "how": how, "groups": saved.groups}
    return saved


@dataclass(frozen=True)
class Candidate:
    key: str               # "chinh_thuc", a member's username, "trung_vi", "trung_binh"
    label: str             # Vietnamese, for a column header
    kind: str              # official | member | median | mean
    profile: WeightProfile


def candidates(con, period: str) -> list[Candidate]:
    """The profiles a chair can choose from: the current official one, each member's, the consensus."""
    off = official_profile(con, period)
    out = [Candidate("chinh_thuc", f"Chính thức: {off.label}", "official", off)]
    profs = member_profiles(con, period)
    names = dict(con.execute("SELECT username, display_name FROM users").fetchall())
    for member, p in profs.items():
        out.append(Candidate(member, f"{names.get(member) or member}", "member", p))
    if profs:
        for how in CONSENSUS:
            out.append(Candidate(CONSENSUS[how][0].replace("-", "_"), f"Đồng thuận ({CONSENSUS[how][1]})", how,
                                 consensus_profile(con, period, how)))
    return out


def rankings(con, period: str) -> pd.DataFrame:
    """Rank of every unit under each candidate profile: unit_code, unit_name, then
    ``rank_<key>`` and ``total_<key>`` per candidate (see :func:`candidates`; the labels are
    in ``frame.attrs['labels']``). Ordered by the official rank."""
    from .results import period_results, period_scores

    scores = period_scores(con, period)
    cands = candidates(con, period)
    base = None
    for c in cands:
        r = period_results(con, period, c.profile, with_previous=False, scores=scores)
        part = r[["unit_code", "unit_name", "rank", "total"]].rename(
            columns={"rank": f"rank_{c.key}", "total": f"total_{c.key}"})
        base = part if base is None else base.merge(part.drop(columns="unit_name"), on="unit_code", how="outer")
    out = base.assign(_k=base["rank_chinh_thuc"].astype("float64").fillna(np.inf)) \
        .sort_values(["_k", "unit_code"], kind="mergesort").drop(columns="_k").reset_index(drop=True)
    out.attrs["labels"] = {c.key: c.label for c in cands}
    return out


# --------------------------------------------------------------------------- adopt
def adopt(con, period: str, profile: WeightProfile | str, *, actor: Actor, note: str | None = None) -> WeightProfile:
    """The chair makes a profile (or a candidate key) the official profile of the period.

    An unsaved profile (a consensus) is saved first. Only admin or a chair may adopt.
    """
    with store.write(con, actor, "publish", action="council.adopt", target=period,
                     guard=lifecycle.guard(period, "official")) as w:
        kind = "profile"
        if isinstance(profile, str):
            match = [c for c in candidates(con, period) if c.key == profile]
            if not match:
                raise store.StoreError(f"Không có phương án trọng số '{profile}' cho kỳ {period}")
            kind, profile = match[0].kind, match[0].profile
        if profile.profile_id is None:
            fw = periods.framework_for_period(con, period)
            profile = save_profile(con, profile, fw, actor=actor)
        w.before = {"profile": official_profile(con, period).label}
        mark_official(con, period, profile, actor=actor, reason=note)
        w.after = {"profile": profile.label, "profile_id": profile.profile_id, "source": kind, "note": note}
    return profile
