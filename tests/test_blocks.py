"""Emulation blocks: the default rule and a council's own list."""

import pandas as pd
import pytest

from danvan_scoring import blocks, store, units
from danvan_scoring import units as unit_store
from danvan_scoring.results import period_results

BOTH_BACKENDS = True  # tests/conftest.py: each test that uses a database runs on DuckDB and PostgreSQL


def test_default_blocks_group_wards_and_cluster_communes(empty_con):
    u = units.units(empty_con)
    b, a = blocks.default_blocks(u)
    assert a["unit_code"].is_unique and len(a) == len(u)
    sizes = a.merge(u, on="unit_code").groupby("block_code").size()
    xa = sizes[sizes.index.str.contains("-X")]
    assert xa.max() <= 40 and xa.min() >= 10
    ha_tinh = b[b["province_code"] == "42"]
    assert "42-PH" in set(ha_tinh["block_code"])


def test_council_block_list_replaces_default(demo_con, tmp_path):
    from danvan_scoring.permissions import CLI_ACTOR

    u = units.units(demo_con, "42")
    f = tmp_path / "khoi.csv"
    pd.DataFrame({"unit_code": u["unit_code"].str.lstrip("0"),   # Excel stripped the zeros
                  "block_code": ["HT-A" if i % 2 else "HT-B" for i in range(len(u))],
                  "block_name": ["Cụm A" if i % 2 else "Cụm B" for i in range(len(u))]}).to_csv(f, index=False)
    bl, asg = blocks.read_assignments(f, units.units(demo_con))
    blocks.set_blocks(demo_con, "2025", bl, asg, actor=CLI_ACTOR)
    r = period_results(demo_con, "2025")
    ht = r[r["province_code"] == "42"]
    assert set(ht["block"]) == {"HT-A", "HT-B"}
    assert ht.loc[ht["eligible"], "block_rank"].min() == 1
    assert "blocks.set" in set(store.audit_log(demo_con)["action"])


def test_bad_block_list(empty_con, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("unit_code,block_code,block_name\n99999,X,Cụm\n00004,,Cụm\n", encoding="utf-8")
    with pytest.raises(ValueError) as exc:
        blocks.read_assignments(f, units.units(empty_con))
    assert "Dòng 2: không có đơn vị mã '99999'" in str(exc.value)
    assert "Dòng 3: thiếu mã khối" in str(exc.value)
    g = tmp_path / "cross.csv"
    g.write_text("unit_code,block_code,block_name\n00004,X,Cụm\n18073,X,Cụm\n", encoding="utf-8")
    with pytest.raises(ValueError, match="nhiều tỉnh"):
        blocks.read_assignments(g, unit_store.units(empty_con))


def test_default_blocks_are_marked_provisional_until_a_real_list_is_imported():
    import pandas as pd

    from danvan_scoring.blocks import default_blocks

    units = pd.DataFrame({"unit_code": ["1", "2"], "unit_type": ["xa", "phuong"], "province_code": ["42", "42"],
                          "lat": [18.0, 18.1]})
    blocks, _ = default_blocks(units)
    assert blocks["name"].str.endswith(" — khối tạm (tự động)").all()
