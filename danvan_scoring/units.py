"""Units: the official list of provinces and commune-level units after 1 July 2025, and the stored units.

Read from the SQLite file bundled in the MIT-licensed ``vietnamadminunits`` package
(34 provinces, 3,321 units with 5-digit codes, centroids and areas). The file is read
directly, without importing the package, which would pull in its address parser.
"""

from __future__ import annotations

import importlib.util
import re
import sqlite3
import unicodedata
from pathlib import Path

import pandas as pd

from . import store
from .errors import StoreError
from .periods import periods
from .permissions import CLI_ACTOR, Actor
from .text import has_bidi, nfc

UNIT_TYPES = {"xa": "Xã", "phuong": "Phường", "dac_khu": "Đặc khu", "co_quan": "Cơ quan, đơn vị"}
_TYPES = {"Xã": "xa", "Phường": "phuong", "Đặc khu": "dac_khu"}


def dataset_path() -> Path:
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("Thiếu gói 'vietnamadminunits' (danh mục đơn vị hành chính); hãy cài lại dự án")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "dataset.db"


def official_units() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(provinces, units) frames in the store's column order."""
    with sqlite3.connect(f"file:{dataset_path()}?mode=ro", uri=True) as db:
        raw = pd.read_sql_query(
            "SELECT province, provinceShort, provinceCode, provinceLat, provinceLon, ward, wardShort, "
            "wardType, wardCode, wardLat, wardLon, wardAreaKm2 FROM admin_units", db)
    raw = raw.apply(lambda col: col.map(nfc, na_action="ignore") if col.dtype == object else col)
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


# --------------------------------------------------------------------------- stored units
def units(con, province: str | None = None) -> pd.DataFrame:
    sql = ("SELECT u.unit_code, u.name, u.short_name, u.unit_type, u.province_code, p.name AS province_name, "
           "u.lat, u.lon, u.area_km2 FROM units u LEFT JOIN provinces p USING (province_code)")
    params: list = []
    if province:
        sql += " WHERE u.province_code = ?"
        params.append(province)
    return con.execute(sql + " ORDER BY u.unit_code", params).df()


def unit_names(con) -> dict[str, str]:
    return dict(con.execute("SELECT unit_code, name FROM units").fetchall())


def provinces(con) -> pd.DataFrame:
    return con.execute("SELECT * FROM provinces ORDER BY province_code").df()


UNIT_CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
UNIT_NAME_MAX = 200


def check_unit_code(code) -> str:
    """A unit code: 1–32 letters, digits, '_', '.', '-', starting with a letter or a digit."""
    code = str(code or "").strip()
    if not UNIT_CODE_RE.fullmatch(code):
        shown = code[:40] + ("…" if len(code) > 40 else "")
        raise StoreError(f"Mã đơn vị {shown!r} không hợp lệ: cần 1–32 ký tự gồm chữ cái không dấu, số, "
                         "'_', '.', '-', bắt đầu bằng chữ hoặc số (không dấu cách, dấu nháy, ';')")
    return code


def check_unit_name(name) -> str:
    """A unit name in NFC, 1–200 characters, no control or direction-override characters."""
    name = nfc(str(name or "").strip())
    if not 1 <= len(name) <= UNIT_NAME_MAX:
        raise StoreError(f"Tên đơn vị phải có từ 1 đến {UNIT_NAME_MAX} ký tự (đang có {len(name)})")
    if any(unicodedata.category(ch) == "Cc" for ch in name) or has_bidi(name):
        raise StoreError("Tên đơn vị chứa ký tự điều khiển hoặc ký tự đảo chiều văn bản "
                         "(U+202A–U+202E, U+2066–U+2069); hãy xóa chúng rồi nhập lại")
    return name


def add_unit(con, code: str, name: str, unit_type: str, province_code: str, *, actor,
             lat: float | None = None, lon: float | None = None) -> None:
    """Add an agency (cơ quan, đơn vị) or another unit that is not in the official list;
    the code and name are checked like uploads check theirs."""
    code, name = check_unit_code(code), check_unit_name(name)
    with store.write(con, actor, "units", action="unit.add", target=code,
               after={"name": name, "unit_type": unit_type, "province_code": province_code}):
        if unit_type not in UNIT_TYPES:
            raise StoreError(f"Loại đơn vị '{unit_type}' không hợp lệ; chỉ nhận: {', '.join(UNIT_TYPES)}")
        if con.execute("SELECT 1 FROM units WHERE unit_code = ?", [code]).fetchone():
            raise StoreError(f"Mã đơn vị '{code}' đã tồn tại")
        if not con.execute("SELECT 1 FROM provinces WHERE province_code = ?", [province_code]).fetchone():
            raise StoreError(f"Không có tỉnh mã '{province_code}'")
        con.execute("INSERT INTO units VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 'manual')",
                    [code, name, name, unit_type, province_code, lat, lon])
        # every unit belongs to a block in every period: agencies join their province's agency block
        if unit_type == "co_quan":
            block = f"{province_code}-CQ"
            for period in periods(con):
                con.execute("INSERT OR IGNORE INTO blocks VALUES (?, ?, 'Khối cơ quan, đơn vị', ?)",
                            [period, block, province_code])
                con.execute("INSERT OR IGNORE INTO unit_blocks VALUES (?, ?, ?)", [period, code, block])
