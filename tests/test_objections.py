"""Objections: filed only in the objections state, by the unit itself; resolved by the council."""

from __future__ import annotations

import pytest
from cycle_support import ADMIN, COUNCIL, LEADER, STAFF, two_units, unit_actor

from danvan_scoring import lifecycle, objections
from danvan_scoring.errors import StateRefused, StoreError
from danvan_scoring.permissions import PermissionDenied

BOTH_BACKENDS = True  # tests/conftest.py: each test that uses a database runs on DuckDB and PostgreSQL

P = "2025"


@pytest.fixture
def con(empty_con):
    for _ in range(4):
        lifecycle.advance(empty_con, P, actor=ADMIN)
    assert lifecycle.state(empty_con, P).state == "objections"
    return empty_con


def test_a_unit_files_its_own_objection_only(con):
    u, v = two_units(con)
    with pytest.raises(PermissionDenied):
        objections.add(con, P, u, "không phải của tôi", actor=unit_actor(v))
    with pytest.raises(PermissionDenied):
        objections.add(con, P, u, "x", actor=STAFF)
    oid = objections.add(con, P, u, "Điểm B2 chưa tính biên bản", actor=unit_actor(u), criterion="B2")
    assert objections.list_objections(con, P, actor=unit_actor(v)).empty
    mine = objections.list_objections(con, P, actor=unit_actor(u))
    assert mine["objection_id"].tolist() == [oid] and mine["status"].tolist() == ["open"]


def test_resolve_once_by_the_council_with_an_answer(con):
    u, _ = two_units(con)
    oid = objections.add(con, P, u, "x", actor=unit_actor(u))
    with pytest.raises(PermissionDenied):
        objections.resolve(con, oid, accept=True, text="ok", actor=LEADER)
    with pytest.raises(StoreError, match="trả lời"):
        objections.resolve(con, oid, accept=True, text=" ", actor=COUNCIL)
    objections.resolve(con, oid, accept=False, text="Không có căn cứ", actor=COUNCIL)
    with pytest.raises(StoreError, match="đã được giải quyết"):
        objections.resolve(con, oid, accept=True, text="ok", actor=COUNCIL)
    assert lifecycle.reappraisal_units(con, P) == set()


def test_no_objection_outside_the_window(con):
    u, _ = two_units(con)
    lifecycle.advance(con, P, actor=ADMIN)
    with pytest.raises(StateRefused, match="Hội đồng đã quyết định"):
        objections.add(con, P, u, "muộn", actor=unit_actor(u))
