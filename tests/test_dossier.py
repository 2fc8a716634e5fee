"""A unit's dossier: its own self-scores by the upload rules, what is missing, the progress view."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from cycle_support import ADMIN, LEADER, STAFF, two_units, unit_actor

from danvan_scoring import dossier, lifecycle
from danvan_scoring.errors import StoreError
from danvan_scoring.permissions import PermissionDenied

BOTH_BACKENDS = True  # tests/conftest.py: each test that uses a database runs on DuckDB and PostgreSQL

P = "2025"


@pytest.fixture
def con(empty_con):
    lifecycle.advance(empty_con, P, actor=ADMIN, deadline=date.today() + timedelta(days=3))
    return empty_con


def test_each_write_as_the_wrong_unit_is_refused_and_writes_nothing(con):
    u, v = two_units(con)
    wrong = unit_actor(v)
    for call in (lambda: dossier.set_self_scores(con, P, u, {"A3": 2}, actor=wrong),
                 lambda: lifecycle.submit(con, P, u, actor=wrong)):
        with pytest.raises(PermissionDenied, match=u):
            call()
    with pytest.raises(PermissionDenied):
        dossier.set_self_scores(con, P, u, {"A3": 2}, actor=LEADER)
    assert dossier.progress(con, P).set_index("unit_code").loc[u, "status"] == "not_started"
    with pytest.raises(StoreError, match="hồ sơ của đơn vị"):
        dossier.dossier(con, P, u, actor=wrong)                    # nor read it


def test_self_scores_follow_the_kind_and_na_rules(con):
    u, _ = two_units(con)
    me = unit_actor(u)
    with pytest.raises(StoreError, match="đạt"):
        dossier.set_self_scores(con, P, u, {"A1": 3}, actor=me)
    with pytest.raises(StoreError, match="không phát sinh"):
        dossier.set_self_scores(con, P, u, {"A3": None}, actor=me)   # A3 does not allow N/A
    dossier.set_self_scores(con, P, u, {"A1": 1, "A3": 3.5}, actor=me)
    d = dossier.dossier(con, P, u, actor=me).set_index("criterion_code")
    assert d.loc["A3", "self_value"] == 3.5 and "tối đa 4 điểm" in d.loc["A3", "rule"]
    assert "minh chứng" in d.loc["A1", "missing"]
    assert d.loc["E1", "appraiser_only"] and "cấp trên" in d.loc["E1", "rule"]


def test_progress_counts_by_province_and_block_and_marks_late(con):
    u, v = two_units(con)
    dossier.set_self_scores(con, P, u, {"A3": 1}, actor=STAFF)
    dossier.set_self_scores(con, P, v, {"A3": 1}, actor=unit_actor(v))
    lifecycle.submit(con, P, v, actor=unit_actor(v))
    prog = dossier.progress(con, P)
    assert len(prog) == 3321
    by = prog.set_index("unit_code")
    assert (by.loc[u, "status"], by.loc[v, "status"]) == ("in_progress", "submitted")
    assert not prog["late"].any()
    summary = dossier.progress_summary(prog)
    assert summary["units"].sum() == 3321 and summary["submitted"].sum() == 1
    lifecycle.reopen(con, P, "self_assessment", actor=ADMIN, reason="hết hạn",
                     deadline=date.today() - timedelta(days=1))
    late = dossier.progress(con, P)
    assert late["late"].sum() == 3320 and not late.set_index("unit_code").loc[v, "late"]
    assert dossier.progress_summary(late, "block")["late"].sum() == 3320
