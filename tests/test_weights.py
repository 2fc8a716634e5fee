"""Weight profiles: default = framework points, versions, official per period."""

import pytest
from pydantic import ValidationError

from danvan_scoring import periods, permissions, store, weights
from danvan_scoring.permissions import Actor
from danvan_scoring.results import period_results

BOTH_BACKENDS = True  # tests/conftest.py: each test that uses a database runs on DuckDB and PostgreSQL


def test_default_profile_is_framework_points(demo_con):
    fw = periods.framework_for_period(demo_con, "2025")
    p = weights.official_profile(demo_con, "2025")
    assert p.name == weights.DEFAULT_PROFILE
    assert p.criteria == {c.code: c.max_points for c in fw.criteria.values() if c.ordinary}
    assert sum(p.groups.values()) == 100


def test_save_versions_and_official(demo_con):
    fw = periods.framework_for_period(demo_con, "2025")
    council = Actor("hoidong", "council", True)
    base = weights.default_profile(fw)
    p = base.model_copy(update={"name": "uu-tien-dan-chu", "groups": {**base.groups, "B": 40}})
    s1 = weights.save_profile(demo_con, p, fw, actor=council)
    s2 = weights.save_profile(demo_con, p.model_copy(update={"comment": "v2"}), fw, actor=council)
    assert (s1.version, s2.version) == (1, 2)
    assert weights.load_profile(demo_con, "uu-tien-dan-chu").version == 2
    assert weights.resolve_profile(demo_con, "2025", "uu-tien-dan-chu@v1").version == 1
    before = period_results(demo_con, "2025")
    weights.mark_official(demo_con, "2025", s2, actor=council)
    assert weights.official_profile(demo_con, "2025").label == "uu-tien-dan-chu (v2)"
    after = period_results(demo_con, "2025")
    b = before.set_index("unit_code")["total"]
    a = after.set_index("unit_code")["total"].loc[b.index]
    assert (b - a).abs().max() > 0.1
    actions = set(store.audit_log(demo_con)["action"])
    assert {"weights.save", "weights.official"} <= actions


def test_leader_cannot_save_or_mark(demo_con):
    fw = periods.framework_for_period(demo_con, "2025")
    leader = Actor("lanhdao", "leader")
    with pytest.raises(permissions.PermissionDenied):
        weights.save_profile(demo_con, weights.default_profile(fw), fw, actor=leader)
    with pytest.raises(permissions.PermissionDenied):
        weights.mark_official(demo_con, "2025", weights.official_profile(demo_con, "2025"), actor=leader)
    plain_council = Actor("x", "council", False)
    with pytest.raises(permissions.PermissionDenied):
        weights.mark_official(demo_con, "2025", weights.official_profile(demo_con, "2025"), actor=plain_council)


def test_bad_profiles_rejected(demo_con):
    fw = periods.framework_for_period(demo_con, "2025")
    base = weights.default_profile(fw)
    with pytest.raises(ValidationError, match="không âm"):
        base.model_copy(update={}).model_validate({**base.model_dump(), "groups": {**base.groups, "A": -1}})
    missing = base.model_copy(update={"criteria": {k: v for k, v in base.criteria.items() if k != "A1"}})
    with pytest.raises(store.StoreError, match="thiếu trọng số cho: A1"):
        missing.check_against(fw)
    with pytest.raises(store.StoreError, match="không có bộ trọng số|Không có bộ trọng số"):
        weights.load_profile(demo_con, "khong-co")


def test_budget_allocation(demo_con):
    fw = periods.framework_for_period(demo_con, "2025")
    p = weights.from_budget(fw, {"A": 30, "B": 30, "C": 20, "D": 10, "E": 10}, name="tv1", member="hoidong")
    assert p.groups["A"] == 30 and p.member == "hoidong"
    with pytest.raises(store.StoreError, match="bằng 100"):
        weights.from_budget(fw, {"A": 50, "B": 30, "C": 0, "D": 0, "E": 0}, name="x")
