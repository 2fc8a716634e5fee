"""The 2025 crosswalk: legacy units, old → new shares, and results mapped onto the new units."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from danvan_scoring import crosswalk, units

BOTH_BACKENDS = True  # tests/conftest.py: each test that uses a database runs on DuckDB and PostgreSQL

DANVAN = str(Path(sys.executable).with_name("danvan"))


@pytest.fixture(scope="module")
def tables():
    return crosswalk.package_tables()


def test_every_legacy_code_maps_to_a_stored_new_unit(tables):
    lu, cw = tables
    assert len(lu) == 10040 and lu["legacy_code"].is_unique
    assert set(cw["legacy_code"]) == set(lu["legacy_code"])
    _, new = units.official_units()
    assert set(cw["unit_code"]) <= set(new["unit_code"])
    assert set(cw["unit_code"]) == set(new["unit_code"])  # every new unit has at least one predecessor
    assert list(cw.columns) == crosswalk.COLUMNS


def test_shares_of_each_legacy_unit_sum_to_one(tables):
    _, cw = tables
    sums = cw.groupby("legacy_code")["share"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0, atol=1e-9)
    assert ((cw["share"] >= 0) & (cw["share"] <= 1)).all()
    assert set(cw["share_method"]) <= set(crosswalk.SHARE_METHODS)
    whole = cw[cw["share_method"] == "whole"]
    assert (whole["share"] == 1).all() and whole["legacy_code"].is_unique
    split = cw[cw["share_method"] != "whole"]
    assert (split.groupby("legacy_code").size() >= 2).all()
    # an equal split is exactly equal
    eq = split[split["share_method"] == "equal"]
    n = eq.groupby("legacy_code")["share"].transform("size")
    np.testing.assert_allclose(eq["share"], 1 / n)


def test_known_wards(tables):
    lu, cw = tables
    # Phường Trúc Bạch (Ba Đình, Hà Nội) went whole into the new Phường Ba Đình (00004)
    row = cw[cw["legacy_code"] == "00004"]
    assert row[["legacy_name", "legacy_district", "legacy_province", "unit_code", "share"]].values.tolist() == [
        ["Phường Trúc Bạch", "Quận Ba Đình", "Thành phố Hà Nội", "00004", 1.0]]
    # the island districts without communes carry an 'H' + district code
    assert lu.loc[lu["legacy_code"] == "H755", "name"].tolist() == ["Huyện Côn Đảo"]
    assert len(cw[cw["legacy_code"] == "H755"]) == 1


def test_split_share_uses_the_geometry_else_equal():
    """A synthetic split: one old ward's box lies over the first candidate's square only."""
    legacy = pd.DataFrame({
        "provinceKey": ["p", "p"], "districtKey": ["d", "d"], "wardKey": ["a", "b"], "wardCode": ["00001", "00002"],
        "ward": ["Xã A", "Xã B"], "wardType": ["Xã", "Xã"], "district": ["Huyện D"] * 2, "districtCode": ["001"] * 2,
        "province": ["Tỉnh P"] * 2, "provinceCode": ["01"] * 2, "wardLat": [10.0, 10.0], "wardLon": [106.0, 106.0],
        "wardBounds": ["9.99,105.99 – 10.01,106.0", None]})
    new = pd.DataFrame({"provinceKey": ["p", "p"], "wardKey": ["x", "y"], "wardCode": ["00010", "00020"]})
    conv = {"DICT_PROVINCE_WARD_NO_DIVIDED": {"p": {}}, "DICT_PROVINCE_WARD_DIVIDED": {"p": {
        "p_d_a": [{"newWardKey": "x", "isDefaultNewWard": True, "newWardLat": 10.0, "newWardLon": 105.99,
                   "newWardAreaKm2": 4.0},
                  {"newWardKey": "y", "isDefaultNewWard": False, "newWardLat": 10.0, "newWardLon": 106.5,
                   "newWardAreaKm2": 4.0}],
        "p_d_b": [{"newWardKey": "x", "isDefaultNewWard": True, "newWardLat": 10.0, "newWardLon": 105.99,
                   "newWardAreaKm2": 4.0},
                  {"newWardKey": "y", "isDefaultNewWard": False, "newWardLat": 10.0, "newWardLon": 106.5,
                   "newWardAreaKm2": 4.0}]}}}
    _, cw = crosswalk.build(legacy, new, conv)
    got = {(r.legacy_code, r.unit_code): (round(r.share, 6), r.share_method) for r in cw.itertuples()}
    assert got == {("00001", "00010"): (1.0, "overlap"), ("00001", "00020"): (0.0, "overlap"),
                   ("00002", "00010"): (0.5, "equal"), ("00002", "00020"): (0.5, "equal")}


def test_periods_before_the_merger():
    assert [p for p in ["2023", "2024", "2025-H1", "2025-Q1", "2025-Q2", "2025-Q3", "2025", "2025-H2", "2026"]
            if crosswalk.is_pre_merger(p)] == ["2023", "2024", "2025-H1", "2025-Q1", "2025-Q2"]
    assert crosswalk.across_merger("2024", "2025") and crosswalk.across_merger("2025-Q2", "2025-Q3")
    assert not crosswalk.across_merger("2023", "2024") and not crosswalk.across_merger("2025", "2026")
    assert not crosswalk.across_merger(None, "2025")


def test_init_fills_the_crosswalk_once(empty_con):
    n = empty_con.execute("SELECT count(*) FROM crosswalk").fetchone()[0]
    assert n > 10040
    assert crosswalk.load_into(empty_con) == 0
    assert empty_con.execute("SELECT count(*) FROM crosswalk").fetchone()[0] == n
    assert empty_con.execute("SELECT count(*) FROM legacy_units").fetchone()[0] == 10040
    assert empty_con.execute("SELECT count(*) FROM audit_log WHERE action = 'crosswalk.load'").fetchone()[0] == 1


def test_old_only_names_the_codes_of_old_units_only(empty_con):
    legacy = crosswalk.legacy_units(empty_con)["legacy_code"]
    today = set(units_of(empty_con))
    old = next(c for c in legacy if c not in today)
    shared = next((c for c in legacy if c in today), None)   # a legacy code reused by a unit today
    new = next(iter(today))
    asked = [new, old, "nope", old] + ([shared] if shared else [])
    assert crosswalk.old_only(empty_con, asked) == [old]
    assert crosswalk.old_only(empty_con, []) == []


def units_of(con):
    return [r[0] for r in con.execute("SELECT unit_code FROM units").fetchall()]


def _run(*args):
    return subprocess.run([DANVAN, *args], capture_output=True, text=True, timeout=120)


def test_cli_crosswalk(empty_db):
    p = _run("crosswalk", "--unit", "00004", "--format", "csv", "--db", str(empty_db))
    assert p.returncode == 0, p.stderr
    df = pd.read_csv(io.StringIO(p.stdout), dtype={"legacy_code": str, "unit_code": str})
    assert list(df.columns) == crosswalk.COLUMNS
    assert set(df["unit_code"]) == {"00004"} and "00004" in set(df["legacy_code"])
    p = _run("crosswalk", "--legacy", "00007", "--db", str(empty_db))
    df = pd.read_csv(io.StringIO(p.stdout), dtype={"legacy_code": str, "unit_code": str})
    assert len(df) >= 2 and abs(df["share"].sum() - 1) < 1e-9
    p = _run("crosswalk", "--legacy", "99999", "--db", str(empty_db))
    assert p.returncode == 1 and "Bảng chuyển đổi không có đơn vị cũ '99999'" in p.stderr
    assert "Traceback" not in p.stderr


# --------------------------------------------------------------------------- uploads across the merger
def _legacy_only(con, n=3, split=False):
    """Legacy codes that are no new unit's code (most old communes), whole or split."""
    q = ("SELECT legacy_code FROM crosswalk WHERE legacy_code NOT IN (SELECT unit_code FROM units) "
         "GROUP BY legacy_code HAVING count(*) " + (">= 2" if split else "= 1") + " ORDER BY legacy_code LIMIT ?")
    return [r[0] for r in con.execute(q, [n]).fetchall()]


def test_a_2024_file_with_legacy_codes_imports_exactly_and_is_refused_for_2026(empty_con):
    from danvan_scoring import bootstrap
    from danvan_scoring.batches import current_scores
    from danvan_scoring.ingest import import_file
    from danvan_scoring.permissions import CLI_ACTOR
    from danvan_scoring.uploads import UploadRejected

    for p in ("2024", "2026"):
        bootstrap.ensure_period(empty_con, p)
    codes = _legacy_only(empty_con, 2) + _legacy_only(empty_con, 1, split=True)
    lines = ["unit_code,criterion_code,score"] + [f"{c},A3,{k + 1}.5" for k, c in enumerate(codes)]
    data = ("\n".join(lines) + "\n").encode()
    res = import_file(empty_con, data, "2024.csv", actor=CLI_ACTOR, period="2024")
    assert res.new == 3
    got = current_scores(empty_con, "2024").sort_values("unit_code")
    assert got[["unit_code", "criterion_code", "value"]].values.tolist() == [
        [c, "A3", k + 1.5] for k, c in enumerate(codes)]

    with pytest.raises(UploadRejected) as info:
        import_file(empty_con, data, "2024.csv", actor=CLI_ACTOR, period="2026")
    assert len(info.value.problems) == 3
    succ = crosswalk.successors(empty_con)
    for problem, code in zip(info.value.problems, codes):
        name, news = succ[code]
        assert f"mã '{code}' là đơn vị cũ '{name}' trước 01/07/2025" in problem.reason
        for new_code, new_name in news:  # every new unit it became, by code and name
            assert f"'{new_code}' ({new_name})" in problem.reason
    assert "đã được chia cho" in info.value.problems[2].reason
    assert current_scores(empty_con, "2026").empty


def test_a_legacy_name_gets_the_did_you_mean_help(empty_con):
    from danvan_scoring import bootstrap
    from danvan_scoring.ingest import import_file
    from danvan_scoring.permissions import CLI_ACTOR
    from danvan_scoring.uploads import UploadRejected

    bootstrap.ensure_period(empty_con, "2024")
    code = _legacy_only(empty_con, 1)[0]
    name = crosswalk.successors(empty_con)[code][0]
    data = f"unit_code,unit_name,criterion_code,score\n99999,{name},A1,2\n".encode()
    with pytest.raises(UploadRejected) as info:
        import_file(empty_con, data, "x.csv", actor=CLI_ACTOR, period="2024")
    assert f"có phải '{code}' ({name})?" in info.value.problems[0].reason


def test_model_list_takes_old_codes_only_before_the_merger():
    from danvan_scoring.model_upload import read_models_upload

    legacy = {"00007": ("Phường Cống Vị", [("00004", "Phường Ba Đình"), ("00008", "Phường Ngọc Hà")])}
    data = "unit_code,period,name,field\n00007,{p},Chi bộ bốn tốt,Đoàn thể\n".encode()
    old = read_models_upload(data.replace(b"{p}", b"2024"), "m.csv", unit_codes={"00004": "Phường Ba Đình"},
                             legacy=legacy)
    assert old.ok and old.rows["unit_code"].tolist() == ["00007"]
    new = read_models_upload(data.replace(b"{p}", b"2026"), "m.csv", unit_codes={"00004": "Phường Ba Đình"},
                             legacy=legacy)
    assert not new.ok
    assert ("đơn vị cũ 'Phường Cống Vị' trước 01/07/2025, đã được chia cho '00004' (Phường Ba Đình), "
            "'00008' (Phường Ngọc Hà)") in new.problems[0].reason


# --------------------------------------------------------------------------- history on the new map
def _three_into_one(con):
    """A new unit formed whole from exactly three old units (share 1 each)."""
    return con.execute(
        "SELECT unit_code, array_agg(legacy_code ORDER BY legacy_code) FROM crosswalk GROUP BY unit_code "
        "HAVING count(*) = 3 AND bool_and(share_method = 'whole') ORDER BY unit_code LIMIT 1").fetchone()


def test_map_to_new_is_the_share_weighted_mean():
    cw = pd.DataFrame({"legacy_code": ["a", "b", "c", "c"], "unit_code": ["N", "N", "N", "M"],
                       "share": [1.0, 1.0, 0.25, 0.75]})
    res = pd.DataFrame({"unit_code": ["a", "b", "c", "CQ1"], "total": [80.0, 60.0, 40.0, 55.0]})
    m = crosswalk.map_to_new(res, cw).set_index("unit_code")
    assert m.loc["N", "total"] == pytest.approx((80 + 60 + 0.25 * 40) / 2.25)
    assert m.loc["M", "total"] == 40.0
    assert (m.loc["N", "predecessors"], m.loc["N", "predecessor_codes"], m.loc["N", "estimated"]) == (3, "a, b, c", True)
    assert (m.loc["CQ1", "total"], m.loc["CQ1", "estimated"]) == (55.0, False)  # an agency passes through


@pytest.fixture
def merged(empty_con):
    """2024 scored on three old units that became one new unit (and its neighbours), 2025 on the new units."""
    from danvan_scoring import batches, bootstrap, demo, periods
    from danvan_scoring.permissions import CLI_ACTOR

    for p in ("2024", "2025"):
        bootstrap.ensure_period(empty_con, p)
    new_code, olds = _three_into_one(empty_con)
    fw = periods.framework_for_period(empty_con, "2025")
    others = _legacy_only(empty_con, 5)
    rows = pd.concat([demo.generate(fw, olds + others, ["2024"], seed=3),
                      demo.generate(fw, [new_code, "00004"], ["2025"], seed=4, periods_after=1)])
    # complete files (periods_after: no unit misses D1; every evidence present): the demo leaves a
    # few out on purpose, which would make a unit incomplete (no change shown) by the luck of the seed
    rows["evidence"] = rows["evidence"].fillna("minh-chung.pdf")
    batches.write_batch(empty_con, rows, actor=CLI_ACTOR, filename="t", content_hash="t")
    return empty_con, new_code, olds


def test_a_new_unit_from_three_old_ones_shows_their_mean_and_the_three(merged):
    from danvan_scoring import results

    con, new_code, olds = merged
    own = results.period_results(con, "2024").set_index("unit_code")
    assert set(olds) <= set(own.index)
    # the legacy units keep their own names, old province and district block
    lu = crosswalk.legacy_units(con).set_index("legacy_code")
    assert own.loc[olds[0], "unit_name"] == lu.loc[olds[0], "name"]
    assert own.loc[olds[0], "block"] == f"L{lu.loc[olds[0], 'province_code']}-{lu.loc[olds[0], 'district_code']}"
    ok = [c for c in olds if own.loc[c, "eligible"]]
    assert len(ok) == 3, "the synthetic scores should make all three eligible"
    mapped = results.mapped_results(con, "2024").set_index("unit_code")
    row = mapped.loc[new_code]
    assert row["total"] == pytest.approx(float(own.loc[olds, "total"].mean()))
    assert (row["estimated"], row["predecessors"], row["predecessor_codes"]) == (True, 3, ", ".join(olds))
    assert row["mark"] == "ước tính từ các đơn vị cũ"
    # the change since 2024 for the new unit goes through the crosswalk and is marked
    now = results.period_results(con, "2025").set_index("unit_code")
    assert now.loc[new_code, "total_prev"] == row["total"] and bool(now.loc[new_code, "prev_estimated"])
    assert now.loc[new_code, "delta_total"] == round(now.loc[new_code, "total"] - row["total"], 2)
    # the trend of the new unit: 2024 estimated from its predecessors, 2025 its own
    tr = results.trend(con, [new_code]).set_index("period")
    assert tr.loc["2024", "total"] == row["total"] and bool(tr.loc["2024", "estimated"])
    assert not bool(tr.loc["2025", "estimated"])
    # the profile page's predecessor list: the three with their own 2024 figures, marked
    pf = results.predecessor_figures(con, new_code)
    assert pf["legacy_code"].tolist() == olds and (pf["period"] == "2024").all()
    assert pf["total"].tolist() == own.loc[olds, "total"].tolist()
    assert (pf["mark"] == crosswalk.ESTIMATED_MARK).all() and (pf["share"] == 1).all()


def test_cli_rank_map_to_new(merged, empty_db, backend, tmp_path):
    con, new_code, olds = merged
    if backend == "duckdb":
        con.execute("CHECKPOINT")
    db = str(empty_db)
    con.close()
    p = _run("rank", "--period", "2024", "--map-to-new", "--db", db)
    assert p.returncode == 0, p.stderr
    df = pd.read_csv(io.StringIO(p.stdout), dtype={"unit_code": str})
    assert list(df.columns[:7]) == ["rank", "unit_code", "unit_name", "total", "tier", "block", "block_rank"]
    assert df["estimated"].all() and df.set_index("unit_code").loc[new_code, "predecessors"] == 3
    own = pd.read_csv(io.StringIO(_run("rank", "--period", "2024", "--db", db).stdout), dtype={"unit_code": str})
    assert set(olds) <= set(own["unit_code"]) and "estimated" not in own.columns
    p = _run("rank", "--period", "2025", "--map-to-new", "--db", db)
    assert p.returncode == 1 and "kết thúc sau 01/07/2025" in p.stderr and "Traceback" not in p.stderr
