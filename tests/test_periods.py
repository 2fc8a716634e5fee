"""Periods and the framework versions they use."""

import pytest

from danvan_scoring import ingest, periods, permissions, store
from danvan_scoring.permissions import Actor

BOTH_BACKENDS = True  # tests/conftest.py: each test that uses a database runs on DuckDB and PostgreSQL


def test_periods_and_previous(empty_con):
    fw = periods.framework_for_period(empty_con, "2025")
    for p in ("2024", "2023", "2025-H1", "2026-H1"):
        periods.add_period(empty_con, p, fw)
    assert periods.periods(empty_con) == ["2023", "2024", "2025-H1", "2025", "2026-H1"]
    assert periods.previous_period(empty_con, "2025") == "2024"
    assert periods.previous_period(empty_con, "2026-H1") == "2025-H1"
    assert periods.previous_period(empty_con, "2023") is None
    with pytest.raises(store.StoreError, match="không hợp lệ"):
        periods.add_period(empty_con, "năm nay", fw)


def test_framework_version_conflict(empty_con):
    fw = periods.framework_for_period(empty_con, "2025")
    changed = fw.model_copy(update={"name": "khác"})
    with pytest.raises(store.StoreError, match="tăng số phiên bản"):
        periods.save_framework(empty_con, changed)


def test_one_period_rule_for_the_store_and_the_reader():
    from danvan_scoring import values

    assert values.PERIOD_RE is periods.PERIOD_RE and not hasattr(ingest, "PERIOD_RE")
    assert periods.period_sort_key("2025-H1") < periods.period_sort_key("2025-Q3") < periods.period_sort_key("2025")


def test_add_period_is_one_audited_write_and_idempotent(empty_con):
    fw = periods.framework_for_period(empty_con, "2025")
    n = store.data_version(empty_con)
    periods.add_period(empty_con, "2026", fw)
    log = store.audit_log(empty_con, 1).iloc[0]
    assert (log["action"], log["target"]) == ("period.add", "2026")
    v = store.data_version(empty_con)
    assert v > n
    periods.add_period(empty_con, "2026", fw)          # again: nothing written, nothing audited
    assert store.data_version(empty_con) == v


def test_add_period_refused_or_failing_writes_nothing(empty_con):
    fw = periods.framework_for_period(empty_con, "2025")
    with pytest.raises(permissions.PermissionDenied, match="khởi tạo cơ sở dữ liệu"):
        periods.add_period(empty_con, "2027", fw, actor=Actor("canbo", "staff"))
    changed = fw.model_copy(update={"name": "khác"})   # same version, other content: the framework step fails
    with pytest.raises(store.StoreError, match="tăng số phiên bản"):
        periods.add_period(empty_con, "2027", changed)
    assert "2027" not in periods.periods(empty_con)
