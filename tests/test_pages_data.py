"""pages/data.py: one cache key for every cached read of the dashboard.

Every ``@st.cache_data`` / ``@st.cache_resource`` read in pages/ that takes the cursor is shaped
``_name(path, v, …, _con)`` and is called through ``common.cached`` (or from another cached read),
so a write moves every key the same way; the key helper passes the database path and the right
version.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE_FILES = sorted((ROOT / "pages").glob("*.py")) + [ROOT / "app.py"]


def _cached_defs(tree: ast.Module):
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for d in node.decorator_list:
                target = d.func if isinstance(d, ast.Call) else d
                if isinstance(target, ast.Attribute) and target.attr in ("cache_data", "cache_resource"):
                    yield node


def _cursor_reads():
    for f in PAGE_FILES:
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for fn in _cached_defs(tree):
            names = [a.arg for a in fn.args.args]
            if "_con" in names:
                yield f, fn, names


def test_there_are_cached_reads_to_check():
    assert len(list(_cursor_reads())) >= 30


@pytest.mark.parametrize("where", [f"{f.name}:{fn.name}" for f, fn, _ in _cursor_reads()])
def test_every_cached_read_is_keyed_path_version_first_cursor_last(where):
    got = {f"{f.name}:{fn.name}": names for f, fn, names in _cursor_reads()}[where]
    assert got[:2] == ["path", "v"], f"{where}: starts with {got[:2]}, not (path, v)"
    assert got[-1] == "_con", f"{where}: the cursor must be the last (unhashed) argument"


def test_cached_reads_are_called_only_through_the_key_helper_or_other_cached_reads():
    """Outside a cached read, a call ``_name(...)`` of a cached read would build its own key."""
    bad = []
    for f in PAGE_FILES:
        tree = ast.parse(f.read_text(encoding="utf-8"))
        cached_names = {fn.name for fn in _cached_defs(tree)}
        inside = {id(n) for fn in _cached_defs(tree) for n in ast.walk(fn)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in cached_names
                    and id(node) not in inside and node.func.id not in ("_bar_top", "_connection")):
                bad.append(f"{f.name}:{node.lineno} {node.func.id}")
    assert not bad, bad


def test_the_key_helper_passes_path_version_args_and_cursor(monkeypatch):
    from pages import data

    monkeypatch.setattr(data, "db_path", lambda: "/x/danvan.duckdb")
    monkeypatch.setattr(data, "version", lambda: 7)
    monkeypatch.setattr(data, "write_version", lambda: 9)
    cursor = object()
    monkeypatch.setattr(data, "db", lambda: cursor)
    seen = []
    assert data.cached(lambda *a: seen.append(a) or "ok", "2025", "x") == "ok"
    data.cached(lambda *a: seen.append(a), "2025", writes=True)
    assert seen == [("/x/danvan.duckdb", 7, "2025", "x", cursor), ("/x/danvan.duckdb", 9, "2025", cursor)]


def _shared_reads_script():
    """Run by AppTest: the shared (st.cache_resource) per-unit reads against the plain cached ones."""
    import os
    import sys

    sys.path.insert(0, os.environ["DANVAN_TEST_ROOT"])
    import streamlit as st

    from pages import data

    data.open_run()
    period = data.periods_with_data()[-1]
    res = data.period_table(period)
    unc = data.uncertainty(period)
    st.text(f"labels equal: {data.period_unit_labels(period) == data.unit_labels(res)}")
    ranked = unc["unit_code"].astype(str).tolist()
    same = []
    for unit in ranked[:5] + ranked[-5:]:
        got = data.uncertainty_row(period, unit)
        want = unc[unc["unit_code"] == unit].iloc[0]
        same.append(got.reset_index(drop=True).equals(want.reset_index(drop=True)) and got["unit_code"] == unit)
        got["rank_p05"] = -1   # a copy: the shared table is not changed
    st.text(f"rows equal: {all(same)} of {len(same)}")
    st.text(f"shared untouched: {data.uncertainty_row(period, ranked[0])['rank_p05'] != -1}")
    unranked = sorted(set(res["unit_code"].astype(str)) - set(ranked))
    st.text(f"unranked: {data.uncertainty_row(period, unranked[0]) if unranked else 'none'}")
    # the shared frames are handed out as copies: a page changing its table changes nothing shared
    for name, read in (("period table", data.period_table), ("ranking table", data.ranking_table)):
        mine = read(period)
        first = mine["unit_name"].iloc[0]
        mine["total"] = -1.0
        mine.loc[mine.index[0], "unit_name"] = "đã sửa"
        del mine["rank"]
        again = read(period)
        st.text(f"{name} untouched: {bool((again['total'] != -1).all()) and again['unit_name'].iloc[0] == first}"
                f" {'rank' in again.columns}")
    # a unit's criteria are a slice of the period's breakdown: the same rows criterion_breakdown gives
    # for that unit's own scores (not a neighbour's), handed out as a copy
    import pandas as pd

    from danvan_scoring import insights

    def same(a, b) -> bool:
        try:
            pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)
        except AssertionError:
            return False
        return True

    sc, fw, prof = data.scores(period), data.framework(period), data.official(period)
    codes = res["unit_code"].astype(str).tolist()
    ok = []
    for unit in codes[:3] + codes[len(codes) // 2:len(codes) // 2 + 2] + codes[-3:]:
        bd, pos = data.unit_breakdown(period, unit)
        want = insights.criterion_breakdown(sc[sc["unit_code"] == unit], fw, prof)
        ok.append(pos >= 0 and set(bd["unit_code"]) == {unit} and same(bd.drop(columns="unit_code"), want))
        bd["obtained"] = -1.0
    st.text(f"breakdown equal: {all(ok)} of {len(ok)}")
    again, _ = data.unit_breakdown(period, codes[0])
    st.text(f"breakdown untouched: {bool((again['obtained'] != -1).all())}")
    bd, pos = data.unit_breakdown(period, "99999")
    st.text(f"unknown unit: {pos} {len(bd) == len(fw.criteria)} {bool(bd['missing'].all())}")
    # the filter bar's choices, built once per shared table: what filter_choices gives for the table
    for name, shared, table in (("period", data.period_choices(period), data.period_table(period)),
                                ("ranking", data.ranking_choices(period), data.ranking_table(period))):
        fresh = data.filter_choices(table)
        st.text(f"{name} choices equal: {shared.province_names == fresh.province_names} "
                f"{shared.provinces == fresh.provinces == sorted(set(table['province_code'].dropna()))} "
                f"{same(shared.blocks, fresh.blocks)} {shared.unit_types == set(table['unit_type'].dropna())} "
                f"{len(shared.blocks) == table['block'].nunique() > 0}")


def test_shared_reads_match_the_period_tables_and_hand_out_copies(demo_db, monkeypatch):
    """period_unit_labels and uncertainty_row (shared across sessions, built once a data version)
    give what unit_labels(period_table) and a row of uncertainty() give; uncertainty_row,
    period_table and ranking_table hand out copies (a change to one reaches nothing shared)."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DANVAN_DB", str(demo_db))
    monkeypatch.setenv("DANVAN_TEST_ROOT", str(ROOT))
    at = AppTest.from_function(_shared_reads_script, default_timeout=120).run()
    assert not at.exception, at.exception
    texts = [t.value for t in at.text]
    assert texts[:3] == ["labels equal: True", "rows equal: True of 10", "shared untouched: True"]
    assert texts[3] in ("unranked: None", "unranked: none")
    assert texts[4:6] == ["period table untouched: True True", "ranking table untouched: True True"]
    assert texts[6:9] == ["breakdown equal: True of 8", "breakdown untouched: True", "unknown unit: -1 True True"]
    assert texts[9:] == ["period choices equal: True True True True True", "ranking choices equal: True True True True True"]
