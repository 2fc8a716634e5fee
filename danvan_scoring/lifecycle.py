"""The period's lifecycle: self-assessment → appraisal → provisional → objections → decided → locked.

A period outside the cycle is ``open`` (what ``init`` and ``period add`` create): every write is
allowed exactly as before the cycle existed. Once a period enters the cycle, each write of the
library passes :func:`guard` (through ``store.write(..., guard=...)``), which refuses a write the
state does not allow with one Vietnamese line naming the state and the way out; the refusal is
logged like a permission refusal and nothing is written.

State changes are append-only rows of ``period_transitions`` (the latest counts); a unit's
submission of its dossier is a row of ``dossier_submissions``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable

import numpy as np
import pandas as pd

from . import store
from .errors import StateRefused, StoreError
from .permissions import Actor

STATES = ("open", "self_assessment", "appraisal", "provisional", "objections", "decided", "locked")
CYCLE = STATES[1:]
STATE_LABELS = {
    "open": "Mở (ngoài chu trình đánh giá)",
    "self_assessment": "Tự đánh giá",
    "appraisal": "Thẩm định",
    "provisional": "Công bố kết quả tạm thời",
    "objections": "Tiếp nhận kiến nghị",
    "decided": "Hội đồng đã quyết định",
    "locked": "Đã khóa",
}

# What a write does, as the lifecycle sees it (every write of the library names one).
ACTIVITIES = {
    "self": "ghi điểm tự chấm",
    "evidence": "thêm minh chứng",
    "evidence_remove": "gỡ minh chứng",
    "submit": "nộp hồ sơ tự đánh giá",
    "appraised": "ghi điểm thẩm định",
    "models": "ghi danh sách mô hình",
    "blocks": "sửa khối thi đua",
    "official": "chọn bộ trọng số chính thức",
    "council": "gửi phương án trọng số của thành viên Hội đồng",
    "awards": "ghi kết quả biểu quyết khen thưởng",
    "publish": "công bố kết quả",
    "objection": "gửi kiến nghị",
    "objection_resolve": "giải quyết kiến nghị",
}

_ALL_OPEN = frozenset(ACTIVITIES) - {"submit", "objection", "objection_resolve"}
ALLOWS: dict[str, frozenset[str]] = {
    "open": _ALL_OPEN,
    "self_assessment": frozenset({"self", "evidence", "evidence_remove", "submit", "models", "blocks",
                                  "official", "council"}),
    "appraisal": frozenset({"appraised", "models", "official", "council"}),
    "provisional": frozenset({"publish", "official", "council"}),
    "objections": frozenset({"objection", "objection_resolve", "appraised", "publish", "awards",
                             "official", "council"}),
    "decided": frozenset({"publish"}),
    "locked": frozenset(),
}
# where each activity belongs, for the way out of a refusal
_HOME = {"self": "self_assessment", "evidence": "self_assessment", "evidence_remove": "self_assessment",
         "submit": "self_assessment", "appraised": "appraisal", "models": "self_assessment",
         "blocks": "self_assessment", "council": "appraisal", "awards": "objections", "publish": "provisional",
         "objection": "objections", "objection_resolve": "objections",
         "official": "self_assessment"}
FIXED_WEIGHTS_FROM = "appraisal"
# the last state that takes a unit's data (self scores and evidence, then the appraisal); past it a
# unit still missing required data is not eligible (awards.status_of), before it only incomplete
INPUT_UNTIL = "appraisal"


def _has_schema(con) -> bool:
    return "objections_v1" in store.applied_migrations(con)


def ensure_schema(con) -> None:
    """Apply the cycle's migrations if this database does not have them yet."""
    if not _has_schema(con):
        store.migrate(con)


def today() -> date:
    return store.now().date()


# --------------------------------------------------------------------------- reading the state
@dataclass(frozen=True)
class PeriodState:
    period: str
    state: str
    deadline: date | None
    changed_at: datetime | None
    changed_by: str | None

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def past_deadline(self) -> bool:
        return self.deadline is not None and today() > self.deadline

    def days_left(self) -> int | None:
        return None if self.deadline is None else (self.deadline - today()).days

    def allows(self, activity: str) -> bool:
        return activity in ALLOWS[self.state]

    def describe(self) -> str:
        out = f"Kỳ {self.period}: giai đoạn '{self.label}' ({self.state})"
        if self.deadline is not None:
            left = self.days_left()
            when = f"còn {left} ngày" if left >= 0 else f"đã quá hạn {-left} ngày"
            out += f", hạn {self.deadline:%d/%m/%Y} ({when})"
        return out


def state(con, period: str) -> PeriodState:
    """The period's current state (``open`` when it never entered the cycle)."""
    if not con.execute("SELECT 1 FROM periods WHERE period = ?", [period]).fetchone():
        raise StoreError(f"Không có kỳ đánh giá '{period}'")
    if not _has_schema(con):
        return PeriodState(period, "open", None, None, None)
    row = con.execute(
        "SELECT to_state, deadline, changed_at, changed_by FROM period_transitions WHERE period = ? "
        "ORDER BY transition_id DESC LIMIT 1", [period]).fetchone()
    if row is None:
        return PeriodState(period, "open", None, None, None)
    return PeriodState(period, row[0], row[1], row[2], row[3])


def history(con, period: str) -> pd.DataFrame:
    """Every state change of the period, oldest first."""
    cols = ["transition_id", "from_state", "to_state", "deadline", "reason", "changed_by", "changed_at"]
    if not _has_schema(con):
        return pd.DataFrame(columns=cols)
    return con.execute(f"SELECT {', '.join(cols)} FROM period_transitions WHERE period = ? "
                       "ORDER BY transition_id", [period]).df()


def reopenings(con, period: str) -> pd.DataFrame:
    """The times the period was moved back, with the reason (shown on every results page)."""
    h = history(con, period)
    if h.empty:
        return h
    back = [STATES.index(t) <= STATES.index(f) for f, t in zip(h["from_state"], h["to_state"])]
    return h[pd.Series(back, index=h.index)].reset_index(drop=True)


def submitted_units(con, period: str) -> pd.DataFrame:
    cols = ["unit_code", "submitted_by", "submitted_at"]
    if not _has_schema(con):
        return pd.DataFrame(columns=cols)
    return con.execute(f"SELECT {', '.join(cols)} FROM dossier_submissions WHERE period = ? ORDER BY unit_code",
                       [period]).df()


def submission(con, period: str, unit: str) -> tuple[str, datetime] | None:
    if not _has_schema(con):
        return None
    row = con.execute("SELECT submitted_by, submitted_at FROM dossier_submissions WHERE period = ? AND "
                      "unit_code = ?", [period, unit]).fetchone()
    return (row[0], row[1]) if row else None


def reappraisal_units(con, period: str) -> set[str]:
    """Units whose objection was accepted: appraisal reopens for them alone in ``objections``."""
    if not _has_schema(con):
        return set()
    return {r[0] for r in con.execute("SELECT DISTINCT unit_code FROM objections WHERE period = ? AND "
                                      "status = 'accepted'", [period]).fetchall()}


def open_objections(con, period: str) -> int:
    if not _has_schema(con):
        return 0
    return int(con.execute("SELECT count(*) FROM objections WHERE period = ? AND status = 'open'",
                           [period]).fetchone()[0])


# --------------------------------------------------------------------------- the rule
def _way_out(st: PeriodState, activity: str) -> str:
    p = st.period
    if st.state == "locked":
        return (f"kỳ đã khóa, không ghi được gì; nếu thật cần sửa, Chủ tịch Hội đồng hoặc quản trị mở lại: "
                f"danvan period reopen {p} --to decided --reason \"…\"")
    home = _HOME.get(activity, "open")
    if STATES.index(home) > STATES.index(st.state) and st.state != "open":
        return f"chờ kỳ chuyển sang giai đoạn '{STATE_LABELS[home]}' (danvan period advance {p})"
    if st.state == "open":
        return f"đưa kỳ vào chu trình đánh giá: danvan period advance {p}"
    return (f"Chủ tịch Hội đồng hoặc quản trị mở lại giai đoạn '{STATE_LABELS[home]}': "
            f"danvan period reopen {p} --to {home} --reason \"…\"")


def refusal(con, period: str, activity: str, units: Iterable[str] | None = None, *,
            actor: Actor | None = None, current: PeriodState | None = None) -> str | None:
    """Why ``activity`` on ``period`` (for ``units``) is refused now, in one Vietnamese line; None
    when it is allowed. The pages disable a control with this same text. ``current``: the period's
    state when the caller has just read it. ``units`` do not matter while the period is ``open``."""
    st = current or state(con, period)
    what = ACTIVITIES[activity]
    head = f"Không thể {what}: kỳ {period} đang ở giai đoạn '{st.label}' ({st.state})"
    if not st.allows(activity):
        return f"{head}; {_way_out(st, activity)}."
    units = sorted(set(units or ()))
    if st.state == "open":
        return None
    if activity in ("self", "evidence", "evidence_remove", "submit"):
        if st.past_deadline:
            return (f"{head} và đã quá hạn nộp hồ sơ ({st.deadline:%d/%m/%Y}); Chủ tịch Hội đồng hoặc quản "
                    f"trị gia hạn: danvan period reopen {period} --to self_assessment --deadline YYYY-MM-DD "
                    f"--reason \"…\".")
        filed = set(submitted_units(con, period)["unit_code"]) if units else set()
        done = [u for u in units if u in filed]
        if done:
            return (f"Không thể {what}: đơn vị {', '.join(done[:5])} đã nộp hồ sơ kỳ {period}, hồ sơ đã "
                    f"được khóa; muốn sửa, đơn vị gửi kiến nghị khi kỳ sang giai đoạn "
                    f"'{STATE_LABELS['objections']}'.")
    if activity == "appraised" and st.state == "objections":
        reopen = reappraisal_units(con, period)
        others = [u for u in units if u not in reopen]
        if others or not units:
            who = ", ".join(others[:5]) or "(không nêu đơn vị)"
            return (f"{head}: chỉ được {what} cho đơn vị có kiến nghị đã được chấp nhận, không cho {who}; "
                    f"giải quyết kiến nghị trước: danvan objection resolve ID --accept --text \"…\".")
    if activity == "official" and STATES.index(st.state) >= STATES.index(FIXED_WEIGHTS_FROM):
        if actor is not None and not (actor.role == "admin" or (actor.role == "council" and actor.is_chair)):
            return (f"{head}: bộ trọng số chính thức đã cố định từ giai đoạn thẩm định; chỉ Chủ tịch Hội đồng "
                    "(hoặc quản trị) được đổi, kèm lý do.")
    return None


def check(con, period: str, activity: str, units: Iterable[str] | None = None, *,
          actor: Actor | None = None, current: PeriodState | None = None) -> None:
    """Raise StateRefused unless the period's state allows ``activity`` (for ``units``)."""
    why = refusal(con, period, activity, units, actor=actor, current=current)
    if why:
        raise StateRefused(why)


def guard(period: str, activity: str, units: Iterable[str] | None = None):
    """The ``guard=`` of ``store.write`` for a write on one period (and ``units``)."""
    def _check(con, actor):
        check(con, period, activity, units, actor=actor)
    return _check


STAGE_ACTIVITY = {"self": "self", "appraised": "appraised"}


def rows_guard(keys: pd.DataFrame, activity: str | None = None):
    """The ``guard=`` of a write of many rows (score or model batches, an undo): ``keys`` has
    ``period``, ``unit_code`` and, for scores, ``stage`` (self → self-scores, appraised → appraisal);
    otherwise every row is ``activity``. A period the database does not know is left to the
    write's own checks.

    A national file has a million rows: the (period, stage) pairs come from integer codes, and the
    units of a pair are listed only when the period's state makes them matter (past ``open``)."""
    pcodes, periods = pd.factorize(keys["period"].astype(str), sort=True)
    if activity is None:
        scodes, stages = pd.factorize(keys["stage"].astype(str), sort=True)
    else:
        scodes, stages = np.zeros(len(keys), dtype=np.intp), [activity]
    pair = pcodes * len(stages) + scodes
    present = np.flatnonzero(np.bincount(pair, minlength=len(periods) * len(stages)))

    codes = keys["unit_code"].astype(str)

    def _check(con, actor):
        known = {r[0] for r in con.execute("SELECT period FROM periods").fetchall()}
        for code in present:
            p, s = periods[code // len(stages)], stages[code % len(stages)]
            if p not in known:
                continue
            current = state(con, p)
            units = () if current.state == "open" else codes[pair == code].unique()
            check(con, p, activity or STAGE_ACTIVITY.get(str(s), "self"), units, actor=actor, current=current)
    return _check


def weights_fixed(con, period: str) -> bool:
    """The official profile is fixed once the period reached appraisal (changing it needs the chair)."""
    return STATES.index(state(con, period).state) >= STATES.index(FIXED_WEIGHTS_FROM)


def official_changes(con, period: str) -> pd.DataFrame:
    """Changes of the official profile after it was fixed (a notice on the ranking page)."""
    cols = ["profile_id", "state", "reason", "changed_by", "changed_at"]
    if not _has_schema(con):
        return pd.DataFrame(columns=cols)
    return con.execute(f"SELECT {', '.join(cols)} FROM official_changes WHERE period = ? ORDER BY changed_at",
                       [period]).df()


def record_official_change(con, period: str, profile_id: int, reason: str | None, actor: Actor) -> None:
    """Inside the write that changes the official profile: once the weights are fixed a reason is
    required and the change is kept for the notice."""
    if not weights_fixed(con, period):
        return
    if not (reason or "").strip():
        raise StateRefused(f"Kỳ {period} đã qua giai đoạn thẩm định: bộ trọng số chính thức đã cố định; "
                           "muốn đổi, Chủ tịch Hội đồng phải ghi lý do.")
    con.execute("INSERT INTO official_changes (period, profile_id, state, reason, changed_by, changed_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [period, profile_id, state(con, period).state, reason.strip(), actor.username, store.now()])


# --------------------------------------------------------------------------- moving the period
def _deadline(value) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise StoreError(f"Hạn '{value}' không hợp lệ; dùng dạng YYYY-MM-DD, ví dụ 2026-03-31") from None


def _move(con, period: str, *, actor: Actor, action: str, deadline, reason: str | None,
          target_of) -> PeriodState:
    """One state change: ``target_of(current state)`` names the state entered or raises StateRefused."""
    ensure_schema(con)
    dl = _deadline(deadline)
    state(con, period)                       # an unknown period is told before any write
    chosen: list[str] = []

    def check_move(con, actor) -> None:      # a refused move is logged like any refused write
        chosen.append(target_of(state(con, period)))

    with store.write(con, actor, "lifecycle", action=action, target=period, guard=check_move) as w:
        st = state(con, period)
        to = chosen[-1]
        con.execute("INSERT INTO period_transitions (transition_id, period, from_state, to_state, deadline, "
                    "reason, changed_by, changed_at) VALUES (nextval('period_transition_seq'), ?, ?, ?, ?, ?, ?, ?)",
                    [period, st.state, to, dl, reason, actor.username, store.now()])
        w.before = {"state": st.state, "deadline": st.deadline}
        w.after = {"state": to, "deadline": dl, "reason": reason}
    return state(con, period)


def advance(con, period: str, *, actor: Actor, deadline=None) -> PeriodState:
    """Move the period one step forward (``--deadline``: the deadline of the state it enters)."""
    def target_of(st: PeriodState) -> str:
        if st.state == "locked":
            raise StateRefused(f"Kỳ {period} đã khóa (locked), không còn giai đoạn nào sau; mở lại: "
                               f"danvan period reopen {period} --to decided --reason \"…\"")
        if st.state == "objections" and open_objections(con, period):
            n = open_objections(con, period)
            raise StateRefused(f"Không thể chuyển kỳ {period} sang giai đoạn '{STATE_LABELS['decided']}': còn "
                               f"{n} kiến nghị chưa giải quyết; xem: danvan objection list --period {period}")
        return STATES[STATES.index(st.state) + 1]

    return _move(con, period, actor=actor, action="period.advance", deadline=deadline, reason=None,
                 target_of=target_of)


def reopen(con, period: str, to: str, *, actor: Actor, reason: str, deadline=None) -> PeriodState:
    """Move the period back to ``to`` (or keep its state with a new deadline), with a reason."""
    if to not in STATES:
        raise StoreError(f"Giai đoạn '{to}' không hợp lệ; chọn một trong: {', '.join(STATES)}")
    if not (reason or "").strip():
        raise StoreError("Mở lại kỳ cần ghi lý do (--reason)")

    def target_of(st: PeriodState) -> str:
        if STATES.index(to) > STATES.index(st.state):
            raise StateRefused(f"Kỳ {period} đang ở giai đoạn '{st.label}': mở lại chỉ lùi về giai đoạn trước; "
                               f"để tiến tới, dùng: danvan period advance {period}")
        return to

    return _move(con, period, actor=actor, action="period.reopen", deadline=deadline,
                 reason=reason.strip(), target_of=target_of)


def submit(con, period: str, unit: str, *, actor: Actor) -> datetime:
    """The unit files its dossier: its self-assessment and evidence are frozen from now on."""
    ensure_schema(con)
    if not con.execute("SELECT 1 FROM units WHERE unit_code = ?", [unit]).fetchone():
        raise StoreError(f"Không có đơn vị '{unit}'")
    with store.write(con, actor, "dossier", action="dossier.submit", target=f"{period}/{unit}", unit=unit,
                     guard=guard(period, "submit", [unit])):
        at = store.now()
        con.execute("INSERT INTO dossier_submissions (period, unit_code, submitted_by, submitted_at) "
                    "VALUES (?, ?, ?, ?)", [period, unit, actor.username, at])
    return at


def submit_many(con, period: str, units: list[str], *, actor: Actor) -> int:
    """Several units' dossiers filed at once (staff filing for units, the demo), one write."""
    ensure_schema(con)
    with store.write(con, actor, "dossier", action="dossier.submit_many", target=period,
                     guard=guard(period, "submit", units)):
        at = store.now()
        with store.registered(con, "_sub_units", pd.DataFrame({"unit_code": list(units)})):
            con.execute("INSERT INTO dossier_submissions (period, unit_code, submitted_by, submitted_at) "
                        "SELECT ?, unit_code, ?, ? FROM _sub_units", [period, actor.username, at])
    return len(units)


def submission_deadline(con, period: str):
    """The self-assessment deadline: that of the latest move into self_assessment (None: none set)."""
    if not _has_schema(con):
        return None
    row = con.execute("SELECT deadline FROM period_transitions WHERE period = ? AND to_state = 'self_assessment' "
                      "ORDER BY transition_id DESC LIMIT 1", [period]).fetchone()
    return row[0] if row else None


def submissions_closed(con, period: str) -> bool:
    """Past the self-assessment deadline, or the period moved beyond self-assessment: a unit that
    has not submitted by now is late."""
    st = state(con, period)
    if st.state == "open":
        return False
    if STATES.index(st.state) > STATES.index("self_assessment"):
        return True
    dl = submission_deadline(con, period)
    return dl is not None and today() > dl


def input_closed(con, period: str) -> bool:
    """The period is past its input stages (self-assessment and appraisal): what is still missing
    now makes a unit "không đủ điều kiện xếp loại", not "chưa đủ dữ liệu". A period outside the
    cycle ("open", every legacy period) is never closed."""
    return STATES.index(state(con, period).state) > STATES.index(INPUT_UNTIL)
