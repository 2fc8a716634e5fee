"""Award proposals of a period and the council's votes on them: the I/O edge of awards.

* :func:`period_proposals` — the results table of the period (:func:`results.period_results`)
  with each unit's recognised models, run through the pure :func:`proposals.propose`.
* :func:`record_vote` — the council records the result of a vote on one proposal as counts
  (for / against / abstain; a secret ballot is kept as counts only). Append-only table
  ``award_votes`` (migration ``award_votes_v1``); the latest vote per (period, unit, award)
  counts. It passes when the votes for are more than the award's ``vote_threshold`` of all
  votes cast. A refused vote (a negative count, no such proposal) writes nothing.
* :func:`decided` — the proposals whose latest vote passed (what the decision awards).
"""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import derived, lifecycle, periods, store
from .award_catalogue import Catalogue, load_catalogue
from .errors import StoreError
from .messages import vi_error
from .proposals import ALL_COLUMNS, COLUMNS, propose
from .results import period_results
from .weights import WeightProfile, official_profile

MIGRATION = "award_votes_v1"
VOTE_COLUMNS = ["votes_for", "votes_against", "votes_abstain", "threshold", "passed", "recorded_by", "recorded_at"]


class VoteRefused(StoreError):
    """A vote that cannot be recorded; nothing was written."""


Count = Annotated[int, Field(ge=0, strict=True)]


class Vote(BaseModel):
    """One vote result on one proposal, as the council records it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    period: str
    unit_code: str
    award_code: str
    votes_for: Count
    votes_against: Count
    votes_abstain: Count

    @property
    def cast(self) -> int:
        return self.votes_for + self.votes_against + self.votes_abstain

    def passes(self, threshold: float) -> bool:
        return self.cast > 0 and self.votes_for > threshold * self.cast


_FIELD_LABELS = {"votes_for": "số phiếu đồng ý", "votes_against": "số phiếu không đồng ý",
                 "votes_abstain": "số phiếu không biểu quyết", "period": "kỳ", "unit_code": "mã đơn vị",
                 "award_code": "mã hình thức khen thưởng"}


def parse_vote(**fields) -> Vote:
    try:
        return Vote(**fields)
    except ValidationError as exc:
        raise VoteRefused("Không ghi kết quả biểu quyết: " + "; ".join(
            f"{_FIELD_LABELS.get(str(e['loc'][0]), e['loc'][0])} {vi_error(e)}" for e in exc.errors())
            + ". Không có gì được ghi.") from None


# --------------------------------------------------------------------------- proposals
def with_models(con, period: str, res: pd.DataFrame) -> pd.DataFrame:
    """``res`` with each unit's number of recognised (or replicated) models of the period."""
    m = derived.models_summary_by_unit(con, period, res["unit_code"].tolist())[["unit_code", "models_recognised"]]
    out = res.drop(columns=[c for c in ("models_recognised",) if c in res.columns]).merge(m, on="unit_code", how="left")
    out["models_recognised"] = out["models_recognised"].fillna(0).astype(int)
    return out


def period_proposals(con, period: str, profile: WeightProfile | None = None, catalogue: Catalogue | None = None,
                     *, res: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every (unit, award) the catalogue considers for the period, ``outcome`` proposed or cut.

    ``res``, when given, is the period's :func:`results.period_results` table (a page has it cached)."""
    catalogue = catalogue or load_catalogue()
    fw = periods.framework_for_period(con, period)
    if res is None:
        res = period_results(con, period, profile or official_profile(con, period), with_previous=False)
    return propose(with_models(con, period, res), catalogue, [t.code for t in fw.tiers])


# --------------------------------------------------------------------------- votes
def _has_table(con) -> bool:
    return MIGRATION in store.applied_migrations(con)


def votes(con, period: str) -> pd.DataFrame:
    """The latest vote per (unit, award) of the period."""
    cols = ["unit_code", "award_code"] + VOTE_COLUMNS
    if not _has_table(con):
        return pd.DataFrame(columns=cols)
    try:
        return con.execute(
            "SELECT unit_code, award_code, votes_for, votes_against, votes_abstain, threshold, passed, recorded_by, "
            "recorded_at FROM (SELECT *, row_number() OVER (PARTITION BY unit_code, award_code "
            "ORDER BY vote_id DESC) AS rn FROM award_votes WHERE period = ?) AS latest WHERE rn = 1 "
            "ORDER BY unit_code, award_code", [period]).df()
    except store.MissingTable:
        return pd.DataFrame(columns=cols)


def record_vote(con, period: str, unit_code: str, award_code: str, votes_for: int, votes_against: int,
                votes_abstain: int, *, actor, profile: WeightProfile | None = None,
                catalogue: Catalogue | None = None, proposals: pd.DataFrame | None = None) -> dict:
    """Record the council's vote on one proposal; returns the vote with ``passed`` and ``threshold``.

    Refused (VoteRefused, in Vietnamese, nothing written): a count that is not a whole number ≥ 0,
    no vote cast, or no such proposal in the period (an unknown unit or award, a unit the
    catalogue does not propose for it, or one a cap cut)."""
    vote = parse_vote(period=period, unit_code=str(unit_code).strip(), award_code=str(award_code).strip(),
                      votes_for=votes_for, votes_against=votes_against, votes_abstain=votes_abstain)
    if vote.cast == 0:
        raise VoteRefused("Không ghi kết quả biểu quyết: tổng số phiếu bằng 0. Không có gì được ghi.")
    catalogue = catalogue or load_catalogue()
    if period not in periods.periods(con):
        raise VoteRefused(f"Không ghi kết quả biểu quyết: không có kỳ đánh giá '{period}'. Không có gì được ghi.")
    award = _award_or_refuse(catalogue, vote.award_code)
    if proposals is None:
        proposals = period_proposals(con, period, profile, catalogue)
    rows = proposals[(proposals["unit_code"] == vote.unit_code) & (proposals["award_code"] == vote.award_code)]
    if rows.empty or not (rows["outcome"] == "proposed").any():
        why = ("bị cắt do chỉ tiêu: " + str(rows["reason"].iloc[0])) if not rows.empty else "không có trong danh sách đề nghị"
        raise VoteRefused(f"Không ghi kết quả biểu quyết: đơn vị '{vote.unit_code}' {why} cho hình thức "
                          f"'{award.name}' kỳ {period}. Không có gì được ghi.")
    passed = vote.passes(award.vote_threshold)
    after = vote.model_dump() | {"threshold": award.vote_threshold, "passed": passed}
    if not _has_table(con):
        store.migrate(con)
    with store.write(con, actor, "awards", action="awards.vote",
                     target=f"{period}/{vote.unit_code}/{vote.award_code}", after=after,
                     guard=lifecycle.guard(period, "awards")):
        con.execute(
            "INSERT INTO award_votes VALUES (nextval('award_vote_seq'), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            [period, vote.unit_code, vote.award_code, vote.votes_for, vote.votes_against, vote.votes_abstain,
             award.vote_threshold, passed, profile.label if profile else None, actor.username, store.now()])
    return after


def _award_or_refuse(catalogue: Catalogue, code: str):
    try:
        return catalogue.award(code)
    except StoreError as exc:
        raise VoteRefused(f"Không ghi kết quả biểu quyết: {exc}. Không có gì được ghi.") from None


def with_votes(con, period: str, proposals: pd.DataFrame) -> pd.DataFrame:
    """``proposals`` with the latest vote of each (``passed`` False where none was recorded yet)."""
    v = votes(con, period)
    out = proposals.merge(v, on=["unit_code", "award_code"], how="left")
    out["voted"] = out["votes_for"].notna()
    out["passed"] = out["passed"].astype("boolean").fillna(False).astype(bool)
    return out


def decided(con, period: str, profile: WeightProfile | None = None, catalogue: Catalogue | None = None,
            *, proposals: pd.DataFrame | None = None) -> pd.DataFrame:
    """The proposals of the period whose latest vote passed, in the proposal order (COLUMNS first)."""
    if proposals is None:
        proposals = period_proposals(con, period, profile, catalogue)
    p = with_votes(con, period, proposals[proposals["outcome"] == "proposed"])
    p = p[p["passed"]]
    return p[COLUMNS + [c for c in p.columns if c not in COLUMNS]].reset_index(drop=True)


__all__ = ["ALL_COLUMNS", "COLUMNS", "Vote", "VoteRefused", "decided", "period_proposals", "record_vote", "votes",
           "with_votes"]
