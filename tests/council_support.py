"""Shared by the council and publish tests: the demo accounts as actors, three submissions."""

from __future__ import annotations

from danvan_scoring import council, periods, weights
from danvan_scoring.permissions import Actor

PERIOD = "2025"
CHAIR = Actor("hoidong", "council", True)          # the demo council account is the chair
MEMBER2 = Actor("tv2", "council")
MEMBER3 = Actor("tv3", "council")
ADMIN = Actor("quantri", "admin")
LEADER = Actor("lanhdao", "leader")
STAFF = Actor("canbo", "staff")


def three_submissions(con):
    """Three members submit different weights for PERIOD; returns the period's framework."""
    fw = periods.framework_for_period(con, PERIOD)
    council.submit(con, PERIOD, actor=CHAIR, points={"A": 30, "B": 20, "C": 20, "D": 20, "E": 10})
    council.submit(con, PERIOD, actor=MEMBER2, points={"A": 10, "B": 30, "C": 30, "D": 20, "E": 10})
    p = weights.default_profile(fw)
    p = p.model_copy(update={"groups": {**p.groups, "E": 40.0}, "criteria": {**p.criteria, "A1": 10.0}})
    council.submit(con, PERIOD, actor=MEMBER3, profile=p)
    return fw
