"""The official list of provinces and commune-level units after 1 July 2025.

Read from the SQLite file bundled in the MIT-licensed ``vietnamadminunits`` package
(34 provinces, 3,321 units with 5-digit codes, centroids and areas). The file is read
directly, without importing the package, which would pull in its address parser.
"""

from __future__ import annotations

import importlib.util
import sqlite3
import unicodedata
from pathlib import Path

import pandas as pd

from . import store
from .permissions import CLI_ACTOR, Actor

SOURCE = "vietnamadminunits (MIT), bảng admin_units sau sáp nhập 01/07/2025"
_TYPES = {"Xã": "xa", "Phường": "phuong", "Đặc khu": "dac_khu"}


def dataset_path() -> Path:
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("Thiếu gói 'vietnamadminunits' (danh mục đơn vị hành chính); hãy cài lại dự án")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "dataset.db"


def _nfc(s):
    return unicodedata.normalize("NFC", s) if isinstance(s, str) else s


def official_units() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(provinces, units) frames in the store's column order."""
    with sqlite3.connect(f"file:{dataset_path()}?mode=ro", uri=True) as db:
        raw = pd.read_sql_query(
            "SELECT province, provinceShort, provinceCode, provinceLat, provinceLon, ward, wardShort, "
            "wardType, wardCode, wardLat, wardLon, wardAreaKm2 FROM admin_units", db)
    raw = raw.apply(lambda col: col.map(_nfc) if col.dtype == object else col)
    prov = (raw.groupby("provinceCode", as_index=False)
            .first()[["provinceCode", "province", "provinceShort", "provinceLat", "provinceLon"]])
    prov.columns = ["province_code", "name", "short_name", "lat", "lon"]
    units = pd.DataFrame({
        "unit_code": raw["wardCode"].str.zfill(5),
        "name": raw["ward"],
        "short_name": raw["wardShort"],
        "unit_type": raw["wardType"].map(_TYPES),
        "province_code": raw["provinceCode"].str.zfill(2),
        "lat": raw["wardLat"],
        "lon": raw["wardLon"],
        "area_km2": raw["wardAreaKm2"],
        "source": "official",
    })
    if units["unit_type"].isna().any():
        bad = raw.loc[units["unit_type"].isna(), "wardType"].unique()
        raise RuntimeError(f"Loại đơn vị lạ trong danh mục: {bad}")
    return prov.sort_values("province_code").reset_index(drop=True), units.sort_values("unit_code").reset_index(drop=True)


def load_into(con, *, actor: Actor = CLI_ACTOR) -> int:
    """Insert the official list where missing; returns how many units were added."""
    prov, units = official_units()
    with store.write(con, actor, "setup", action="units.load") as w, \
            store.registered(con, "_prov", prov), store.registered(con, "_units", units):
        con.execute("INSERT INTO provinces SELECT * FROM _prov "
                    "WHERE province_code NOT IN (SELECT province_code FROM provinces)")
        before = con.execute("SELECT count(*) FROM units").fetchall()[0][0]
        con.execute("INSERT INTO units SELECT * FROM _units WHERE unit_code NOT IN (SELECT unit_code FROM units)")
        after = con.execute("SELECT count(*) FROM units").fetchall()[0][0]
        w.after = {"units_added": after - before}
        if after == before:
            w.action = None
    return after - before
