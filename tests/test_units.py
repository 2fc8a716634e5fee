"""Units: the official list and the units added by hand (agencies)."""

import pytest

from danvan_scoring import blocks, permissions, store, units
from danvan_scoring.permissions import CLI_ACTOR, Actor

BOTH_BACKENDS = True  # tests/conftest.py: each test that uses a database runs on DuckDB and PostgreSQL


def test_official_units_loaded(empty_con):
    u = units.units(empty_con)
    assert len(u) == 3321
    assert u["unit_code"].str.fullmatch(r"\d{5}").all()
    assert u["unit_type"].value_counts().to_dict() == {"xa": 2621, "phuong": 687, "dac_khu": 13}
    assert len(units.provinces(empty_con)) == 34
    assert u.set_index("unit_code").loc["00004", "name"] == "Phường Ba Đình"


def test_add_agency_unit(empty_con):
    units.add_unit(empty_con, "CQ001", "Ban Tuyên giáo và Dân vận Tỉnh ủy", "co_quan", "42", actor=CLI_ACTOR)
    u = units.units(empty_con, "42")
    assert "CQ001" in set(u["unit_code"])
    with pytest.raises(store.StoreError, match="đã tồn tại"):
        units.add_unit(empty_con, "CQ001", "x", "co_quan", "42", actor=CLI_ACTOR)


def test_agency_joins_its_province_block_in_every_period(empty_con):
    units.add_unit(empty_con, "CQ002", "Ban Dân vận", "co_quan", "42", actor=CLI_ACTOR)
    b = blocks.unit_blocks(empty_con, "2025").set_index("unit_code")
    assert b.loc["CQ002", "block_code"] == "42-CQ"


def test_a_refused_or_invalid_unit_writes_nothing(empty_con):
    n = len(units.units(empty_con))
    with pytest.raises(permissions.PermissionDenied, match="thêm đơn vị"):
        units.add_unit(empty_con, "CQ003", "x", "co_quan", "42", actor=Actor("canbo", "staff"))
    with pytest.raises(store.StoreError, match="Không có tỉnh"):
        units.add_unit(empty_con, "CQ003", "x", "co_quan", "99", actor=CLI_ACTOR)
    with pytest.raises(store.StoreError, match="Loại đơn vị"):
        units.add_unit(empty_con, "CQ003", "x", "lang", "42", actor=CLI_ACTOR)
    assert len(units.units(empty_con)) == n
    assert set(store.audit_log(empty_con, 1)["action"]) == {"denied:unit.add"}


def test_loading_the_official_list_again_adds_nothing(empty_con):
    v = store.data_version(empty_con)
    assert units.load_into(empty_con) == 0
    assert store.data_version(empty_con) == v
