"""Across the 1 July 2025 merger: the legacy units, the old → new crosswalk, and results mapped onto
the new units.

The ~10,000 communes before 1 July 2025 and the old → new mapping come from the MIT-licensed
``vietnamadminunits`` package (the same package ``units`` reads the new list from):
``data/dataset.db`` table ``admin_units_legacy`` and ``data/converter_2025.json``, whose
``DICT_PROVINCE_WARD_NO_DIVIDED`` lists, per new unit, the old wards that went into it whole,
and ``DICT_PROVINCE_WARD_DIVIDED`` lists, per old ward split between several new units, the
candidate new units with their centroid and area. The package does not say how much of a split
ward went where; its own converter places a point in a new unit by a square of that unit's area
around its centroid. ``share`` follows the same geometry: the overlap of the old ward's bounding
box (from the dataset) with each candidate's square, normalised to sum to 1
(``share_method = 'overlap'``); where the overlap is empty or the old ward has no bounds, an equal
split (``'equal'``); a ward that went whole has share 1 (``'whole'``).

Five island districts had no communes (Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa, Lý Sơn, Côn Đảo): their
legacy code is ``H`` + the 3-digit district code, since a bare 3-digit code would read as the
5-digit commune code it pads to.

The pure functions (``build``, ``is_pre_merger``, ``map_to_new``, ``map_previous``) take frames;
the rest reads or fills the store.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta

import numpy as np
import pandas as pd

from . import store
from .errors import StoreError
from .frames import isin
from .permissions import CLI_ACTOR, Actor
from .text import nfc

MERGER_DATE = date(2025, 7, 1)
ESTIMATED_MARK = "ước tính từ các đơn vị cũ"
COLUMNS = ["legacy_code", "legacy_name", "legacy_district", "legacy_province", "unit_code", "share", "share_method"]
SHARE_METHODS = {
    "whole": "cả đơn vị cũ nhập vào đơn vị mới",
    "overlap": "đơn vị cũ bị chia: tỷ lệ ước theo phần giao giữa khung bao của đơn vị cũ và hình vuông cùng "
               "diện tích quanh tâm đơn vị mới (dữ liệu của gói vietnamadminunits)",
    "equal": "đơn vị cũ bị chia, không đủ dữ liệu hình học: chia đều cho các đơn vị mới",
}
LEGACY_TYPES = {"Xã": "xa", "Phường": "phuong", "Thị trấn": "thi_tran", "Huyện": "huyen"}
LEGACY_TYPE_LABELS = {"xa": "Xã", "phuong": "Phường", "thi_tran": "Thị trấn", "huyen": "Huyện (đảo)"}

_LEGACY_SQL = ("SELECT provinceKey, districtKey, wardKey, wardCode, ward, wardType, district, districtCode, "
               "province, provinceCode, wardLat, wardLon, wardBounds FROM admin_units_legacy")


# --------------------------------------------------------------------------- periods
def period_end(period: str) -> date:
    """Last day a period covers: 2024 → 2024-12-31, 2025-H1 → 2025-06-30, 2025-Q2 → 2025-06-30."""
    year, suffix = int(period[:4]), period[5:]
    month = {"H1": 6, "H2": 12, "Q1": 3, "Q2": 6, "Q3": 9, "Q4": 12}.get(suffix, 12)
    first_after = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return first_after - timedelta(days=1)


def is_pre_merger(period: str) -> bool:
    """A period scored on the legacy units: it ended before 1 July 2025 (2024, 2025-H1, 2025-Q2;
    the year 2025 and 2025-H2 are reviewed on the new units)."""
    return period_end(period) < MERGER_DATE


def across_merger(prev_period: str | None, period: str) -> bool:
    """``period`` is on the new units and ``prev_period`` (the one it is compared with) on the old
    ones: a change between them is only "ước tính từ các đơn vị cũ"."""
    return bool(prev_period) and is_pre_merger(prev_period) and not is_pre_merger(period)


# --------------------------------------------------------------------------- building (pure)
def build(legacy: pd.DataFrame, new: pd.DataFrame, converter: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(legacy_units, crosswalk) from the package's raw tables.

    ``legacy``: rows of ``admin_units_legacy`` (``_LEGACY_SQL`` columns); ``new``: provinceKey, wardKey,
    wardCode of ``admin_units``; ``converter``: ``converter_2025.json``.
    """
    leg = legacy.copy()
    for c in ("ward", "wardType", "district", "province"):
        leg[c] = leg[c].map(nfc, na_action="ignore")
    island = leg["wardCode"].isna()
    leg["key"] = leg["provinceKey"] + "_" + leg["districtKey"] + "_" + leg["wardKey"].fillna("")
    lu = pd.DataFrame({
        "legacy_code": leg["wardCode"].str.zfill(5).where(~island, "H" + leg["districtCode"].str.zfill(3)),
        "name": leg["ward"].where(~island, leg["district"]),
        "unit_type": leg["wardType"].map(LEGACY_TYPES).where(~island, "huyen"),
        "district_code": leg["districtCode"].str.zfill(3),
        "district": leg["district"],
        "province_code": leg["provinceCode"].str.zfill(2),
        "province": leg["province"],
        "lat": leg["wardLat"],
        "lon": leg["wardLon"],
    })
    code_of_key = pd.Series(lu["legacy_code"].to_numpy(), index=leg["key"].to_numpy())
    new_code = pd.Series(new["wardCode"].str.zfill(5).to_numpy(),
                         index=pd.MultiIndex.from_arrays([new["provinceKey"], new["wardKey"]]))

    whole = pd.DataFrame(
        [(old, prov, ward) for prov, wards in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items()
         for ward, olds in wards.items() for old in olds],
        columns=["key", "provinceKey", "wardKey"])
    whole["share"], whole["share_method"] = 1.0, "whole"
    split = pd.DataFrame(
        [(old, prov, w["newWardKey"], w["newWardLat"], w["newWardLon"], w["newWardAreaKm2"])
         for prov, olds in converter["DICT_PROVINCE_WARD_DIVIDED"].items() for old, cands in olds.items()
         for w in cands],
        columns=["key", "provinceKey", "wardKey", "lat", "lon", "area"])
    split = _split_shares(split, leg[["key", "wardBounds"]])
    cw = pd.concat([whole, split[whole.columns]], ignore_index=True)
    cw["legacy_code"] = code_of_key.reindex(cw["key"]).to_numpy()
    cw["unit_code"] = new_code.reindex(pd.MultiIndex.from_arrays([cw["provinceKey"], cw["wardKey"]])).to_numpy()
    if cw["legacy_code"].isna().any() or cw["unit_code"].isna().any():
        raise RuntimeError("Bảng chuyển đổi 2025 của gói vietnamadminunits không khớp danh mục đơn vị của chính gói")
    # two candidates of a split ward may be one new unit under two keys: add their parts
    cw = cw.groupby(["legacy_code", "unit_code"], as_index=False).agg(
        share=("share", "sum"), share_method=("share_method", "first"))
    info = lu.set_index("legacy_code")
    cw["legacy_name"] = info["name"].reindex(cw["legacy_code"]).to_numpy()
    cw["legacy_district"] = info["district"].reindex(cw["legacy_code"]).to_numpy()
    cw["legacy_province"] = info["province"].reindex(cw["legacy_code"]).to_numpy()
    cw = cw[COLUMNS].sort_values(["legacy_code", "unit_code"]).reset_index(drop=True)
    return lu.sort_values("legacy_code").reset_index(drop=True), cw


def _split_shares(split: pd.DataFrame, bounds: pd.DataFrame) -> pd.DataFrame:
    """Vectorised overlap share of each split ward's bounding box with each candidate's square."""
    b = bounds.set_index("key")["wardBounds"].reindex(split["key"])
    nums = b.str.extract(r"([-\d.]+),([-\d.]+)\s*\S\s*([-\d.]+),([-\d.]+)").astype("float64").to_numpy()
    lat1, lon1, lat2, lon2 = (nums[:, i] for i in range(4))
    half = np.sqrt(split["area"].to_numpy(dtype="float64")) / 2  # km
    clat, clon = split["lat"].to_numpy(dtype="float64"), split["lon"].to_numpy(dtype="float64")
    dlat = half / 110.574
    dlon = half / (111.320 * np.cos(np.radians(clat)))
    ov_lat = np.clip(np.minimum(np.maximum(lat1, lat2), clat + dlat) - np.maximum(np.minimum(lat1, lat2), clat - dlat),
                     0, None)
    ov_lon = np.clip(np.minimum(np.maximum(lon1, lon2), clon + dlon) - np.maximum(np.minimum(lon1, lon2), clon - dlon),
                     0, None)
    overlap = np.nan_to_num(ov_lat * ov_lon * np.cos(np.radians(clat)), nan=0.0)
    out = split.assign(_ov=overlap)
    total = out.groupby("key")["_ov"].transform("sum")
    count = out.groupby("key")["_ov"].transform("size")
    has = total > 0
    out["share"] = np.where(has, out["_ov"] / total.where(has, 1.0), 1.0 / count)
    out["share_method"] = np.where(has, "overlap", "equal")
    return out


def package_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(legacy_units, crosswalk) read from the installed ``vietnamadminunits`` files."""
    from .units import dataset_path

    path = dataset_path()
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        legacy = pd.read_sql_query(_LEGACY_SQL, db)
        new = pd.read_sql_query("SELECT provinceKey, wardKey, wardCode FROM admin_units", db)
    converter = json.loads((path.parent / "converter_2025.json").read_text(encoding="utf-8"))
    return build(legacy, new, converter)


# --------------------------------------------------------------------------- the store
def load_into(con, *, actor: Actor = CLI_ACTOR) -> int:
    """Fill the legacy units and the crosswalk once (from the package); returns the rows added."""
    if con.execute("SELECT count(*) FROM crosswalk").fetchone()[0]:
        return 0
    lu, cw = package_tables()
    with store.write(con, actor, "setup", action="crosswalk.load", after={"legacy_units": len(lu), "rows": len(cw)}), \
            store.registered(con, "_lu", lu), store.registered(con, "_cw", cw):
        con.execute("INSERT INTO legacy_units SELECT * FROM _lu")
        con.execute(f"INSERT INTO crosswalk SELECT {', '.join(COLUMNS)} FROM _cw")
    return len(cw)


def crosswalk(con, *, unit: str | None = None, legacy: str | None = None) -> pd.DataFrame:
    """The stored crosswalk, optionally for one new unit (its predecessors) or one legacy unit."""
    sql, params = f"SELECT {', '.join(COLUMNS)} FROM crosswalk", []
    where = []
    if unit:
        where.append("unit_code = ?")
        params.append(unit)
    if legacy:
        where.append("legacy_code = ?")
        params.append(legacy)
    if where:
        sql += " WHERE " + " AND ".join(where)
    try:
        out = con.execute(sql + " ORDER BY legacy_code, unit_code", params).df()
        filled = bool(out.shape[0]) or con.execute("SELECT count(*) FROM crosswalk").fetchone()[0] > 0
    except store.MissingTable:
        filled = False
    if not filled:
        raise StoreError("Cơ sở dữ liệu chưa có bảng chuyển đổi đơn vị cũ sang đơn vị mới; hãy chạy: danvan init")
    return out


def legacy_units(con) -> pd.DataFrame:
    try:
        return con.execute("SELECT * FROM legacy_units ORDER BY legacy_code").df()
    except store.MissingTable:  # a database from before the crosswalk
        return pd.DataFrame(columns=["legacy_code", "name", "unit_type", "district_code", "district",
                                     "province_code", "province", "lat", "lon"])


def old_only(con, codes: list[str]) -> list[str]:
    """The ``codes`` that name an old unit only (a legacy code that is not a unit's code today), in
    the order given: a look-up of those few codes, not of the 10,000 legacy units."""
    codes = list(dict.fromkeys(codes))
    if not codes:
        return []
    marks = ", ".join("?" for _ in codes)
    try:
        rows = con.execute(f"SELECT legacy_code FROM legacy_units WHERE legacy_code IN ({marks}) "
                           f"AND legacy_code NOT IN (SELECT unit_code FROM units)", codes).fetchall()
    except store.MissingTable:  # a database from before the crosswalk
        return []
    hit = {r[0] for r in rows}
    return [c for c in codes if c in hit]


def successors(con) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """legacy code → (legacy name, [(new unit code, new unit name), …]) for upload messages."""
    try:
        rows = con.execute(
            "SELECT c.legacy_code, c.legacy_name, c.unit_code, coalesce(u.name, c.unit_code) FROM crosswalk c "
            "LEFT JOIN units u USING (unit_code) ORDER BY c.legacy_code, c.share DESC, c.unit_code").fetchall()
    except store.MissingTable:  # a database from before the crosswalk (run danvan init)
        return {}
    out: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    for code, name, new, new_name in rows:
        out.setdefault(code, (name, []))[1].append((new, new_name))
    return out


def became(name: str, news: list[tuple[str, str]]) -> str:
    """'Phường Trúc Bạch' became '00004 (Phường Ba Đình)' — the words upload refusals use."""
    listed = ", ".join(f"'{c}' ({n})" for c, n in news)
    return f"đơn vị cũ '{name}' trước 01/07/2025, nay thuộc {listed}" if len(news) == 1 else \
        f"đơn vị cũ '{name}' trước 01/07/2025, đã được chia cho {listed}"


def unit_info(con, period: str | None = None) -> pd.DataFrame:
    """unit_code, unit_name, unit_type, province_code, province_name, lat, lon of the units a period is
    scored on: for a pre-merger period the legacy units (with their old province), then any
    other stored unit (agencies) whose code is not a legacy one; no period: the units of today."""
    new = con.execute(
        "SELECT u.unit_code, u.name AS unit_name, u.unit_type, u.province_code, p.name AS province_name, u.lat, u.lon "
        "FROM units u LEFT JOIN provinces p USING (province_code)").df()
    if period is None or not is_pre_merger(period):
        return new
    old = legacy_units(con).rename(columns={"legacy_code": "unit_code", "name": "unit_name",
                                            "province": "province_name"})[new.columns]
    return pd.concat([old, new[~isin(new["unit_code"], old["unit_code"])]], ignore_index=True)


def legacy_blocks(legacy: pd.DataFrame, codes: set[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Default blocks of a pre-merger period: one per old district (the level that scored its
    communes before 2025). ``legacy``: legacy_units rows."""
    lu = legacy if codes is None else legacy[legacy["legacy_code"].isin(codes)]
    code = "L" + lu["province_code"] + "-" + lu["district_code"]
    blocks = pd.DataFrame({"block_code": code, "name": "Khối " + lu["district"].fillna("") + " (đơn vị cũ)",
                           "province_code": lu["province_code"]}).drop_duplicates("block_code")
    return blocks.reset_index(drop=True), pd.DataFrame({"unit_code": lu["legacy_code"], "block_code": code})


# --------------------------------------------------------------------------- mapping (pure)
def map_to_new(results: pd.DataFrame, cw: pd.DataFrame, value_cols: list[str] | None = None) -> pd.DataFrame:
    """Legacy units' results → one row per new unit: each value column is the share-weighted mean of
    the predecessors that have it (``Σ share·x / Σ share`` over predecessors with a value), with
    ``predecessors`` (how many scored legacy units gave it a part: share > 0) and
    ``predecessor_codes`` (their codes, in code order), ``estimated`` True.

    ``results``: unit_code (legacy) and the value columns; ``cw``: crosswalk rows (legacy_code,
    unit_code, share). Non-legacy codes (agencies) pass through unmapped with estimated False.
    """
    value_cols = value_cols or ["total"]
    # on object arrays: pandas' Arrow-string isin builds one scalar per value (~0.4 s for 10,000)
    legacy_codes = set(cw["legacy_code"].tolist())
    is_leg = pd.Series([c in legacy_codes for c in results["unit_code"].tolist()], index=results.index, dtype=bool)
    m = cw.loc[cw["share"] > 0, ["legacy_code", "unit_code", "share"]].rename(columns={"unit_code": "new_code"}).merge(
        results.loc[is_leg, ["unit_code", *value_cols]].rename(columns={"unit_code": "legacy_code"}),
        on="legacy_code", how="inner")
    m = m.sort_values(["new_code", "legacy_code"], kind="mergesort").reset_index(drop=True)
    new_codes = m["new_code"].to_numpy()
    starts = np.flatnonzero(np.r_[True, new_codes[1:] != new_codes[:-1]]) if len(m) else np.array([], dtype=int)
    ends = np.r_[starts[1:], len(m)].astype(int)
    olds = m["legacy_code"].tolist()  # a list slice per group: pandas' per-group join is ~100× slower
    out = pd.DataFrame({"predecessors": ends - starts,
                        "predecessor_codes": [", ".join(olds[a:b]) for a, b in zip(starts, ends)]},
                       index=pd.Index(new_codes[starts], name="new_code"))
    for c in value_cols:
        x = m[c].astype("float64")
        w = m["share"].where(x.notna(), 0.0)
        num = (w * x.fillna(0.0)).groupby(m["new_code"]).sum()
        den = w.groupby(m["new_code"]).sum()
        out[c] = num / den.where(den > 0)  # unrounded, like every total (ranks round to cents)
    out = out.reset_index().rename(columns={"new_code": "unit_code"})
    out["estimated"] = True
    rest = results.loc[~is_leg, ["unit_code", *value_cols]].assign(estimated=False, predecessors=0,
                                                                     predecessor_codes="")
    return pd.concat([out, rest], ignore_index=True)[
        ["unit_code", *value_cols, "estimated", "predecessors", "predecessor_codes"]]
