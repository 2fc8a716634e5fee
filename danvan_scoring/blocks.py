"""Emulation blocks (khối, cụm thi đua): the default rule in ``data/blocks/default.yaml``.

Units are ranked inside blocks of similar units; after the 2025 reform every province
rebuilds its blocks, so the default groups wards together and clusters communes by
geography. A council replaces it with its own list when it has one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import lifecycle
from .errors import StoreError
from .messages import vi_error
from .paths import DATA_DIR
from .store import registered, write

DEFAULT_RULES = DATA_DIR / "blocks" / "default.yaml"


class BlockRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[A-Z]{1,4}$")
    name: str = Field(min_length=1)
    unit_types: list[str] = Field(min_length=1)
    cluster_size: int | None = Field(default=None, ge=2)


class BlockRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: list[BlockRule] = Field(min_length=1)
    # appended to every block these rules build, until the council imports its real list
    provisional_mark: str = ""


def load_rules(path: Path = DEFAULT_RULES) -> BlockRules:
    try:
        return BlockRules.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ValueError(f"{path.name}: {'.'.join(map(str, err['loc']))}: {vi_error(err)}") from None


def default_blocks(units: pd.DataFrame, rules: BlockRules | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """units(unit_code, unit_type, province_code, lat) → (blocks, assignments).

    Block codes look like ``42-PH`` or ``42-X3`` (province, rule, cluster number).
    """
    rules = rules or load_rules()
    blocks, assign = [], []
    for prov, pu in units.groupby("province_code", sort=True):
        for rule in rules.rules:
            sub = pu[pu["unit_type"].isin(rule.unit_types)]
            if sub.empty:
                continue
            if rule.cluster_size and len(sub) > rule.cluster_size:
                n = int(round(len(sub) / rule.cluster_size))
                order = sub.sort_values(["lat", "unit_code"], ascending=[False, True], na_position="last")
                parts = np.array_split(np.arange(len(order)), max(n, 1))
                for k, idx in enumerate(parts, start=1):
                    code = f"{prov}-{rule.code}{k}"
                    blocks.append((code, f"{rule.name} {k}{rules.provisional_mark}", prov))
                    assign += [(u, code) for u in order["unit_code"].iloc[idx]]
            else:
                code = f"{prov}-{rule.code}"
                blocks.append((code, f"{rule.name}{rules.provisional_mark}", prov))
                assign += [(u, code) for u in sub["unit_code"]]
    return (pd.DataFrame(blocks, columns=["block_code", "name", "province_code"]),
            pd.DataFrame(assign, columns=["unit_code", "block_code"]))


def read_assignments(path: Path, units: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A council's own block list: CSV ``unit_code,block_code,block_name`` (UTF-8).

    Every unit must exist and appear once; a block stays within one province.
    """
    try:
        df = pd.read_csv(path, dtype=str, encoding="utf-8-sig").fillna("")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"Không đọc được tệp khối thi đua '{path}': {exc}") from None
    need = ["unit_code", "block_code", "block_name"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise ValueError(f"Tệp khối thi đua thiếu cột: {', '.join(missing)}")
    df["unit_code"] = df["unit_code"].str.strip().str.zfill(5)
    known = units.set_index("unit_code")["province_code"]
    problems = []
    for i, row in df.iterrows():
        line = i + 2
        if row["unit_code"] not in known.index:
            problems.append(f"Dòng {line}: không có đơn vị mã '{row['unit_code']}'")
        if not row["block_code"].strip():
            problems.append(f"Dòng {line}: thiếu mã khối (block_code)")
    dup = df[df["unit_code"].duplicated(keep=False)]
    for code in dup["unit_code"].unique():
        problems.append(f"Đơn vị '{code}' xuất hiện ở nhiều dòng")
    if problems:
        raise ValueError("; ".join(problems[:20]) + (f" (và {len(problems) - 20} lỗi khác)" if len(problems) > 20 else ""))
    df["province_code"] = df["unit_code"].map(known)
    spans = df.groupby("block_code")["province_code"].nunique()
    if (spans > 1).any():
        raise ValueError(f"Khối thi đua gồm đơn vị của nhiều tỉnh: {', '.join(spans[spans > 1].index)}")
    blocks = (df.groupby("block_code", as_index=False)
              .agg(name=("block_name", "first"), province_code=("province_code", "first")))
    blocks["name"] = blocks["name"].where(blocks["name"] != "", blocks["block_code"])
    return blocks[["block_code", "name", "province_code"]], df[["unit_code", "block_code"]]


# --------------------------------------------------------------------------- stored blocks
def set_blocks(con, period: str, blocks: pd.DataFrame, assignments: pd.DataFrame, *, actor) -> None:
    """Replace the emulation blocks of a period: blocks(block_code, name, province_code),
    assignments(unit_code, block_code)."""
    with write(con, actor, "blocks", action="blocks.set", target=period,
               guard=lifecycle.guard(period, "blocks")) as w:
        unknown = set(assignments["block_code"]) - set(blocks["block_code"])
        if unknown:
            raise StoreError(f"Khối thi đua chưa được khai báo: {', '.join(sorted(unknown))}")
        before = con.execute("SELECT count(*) FROM unit_blocks WHERE period = ?", [period]).fetchone()[0]
        con.execute("DELETE FROM unit_blocks WHERE period = ?", [period])
        con.execute("DELETE FROM blocks WHERE period = ?", [period])
        b = blocks.assign(period=period)[["period", "block_code", "name", "province_code"]]
        a = assignments.assign(period=period)[["period", "unit_code", "block_code"]]
        with registered(con, "_b", b), registered(con, "_a", a):
            con.execute("INSERT INTO blocks SELECT * FROM _b")
            con.execute("INSERT INTO unit_blocks SELECT * FROM _a")
        w.before, w.after = {"assigned": before}, {"blocks": len(b), "assigned": len(a)}


def unit_blocks(con, period: str) -> pd.DataFrame:
    return con.execute(
        "SELECT ub.unit_code, ub.block_code, b.name AS block_name FROM unit_blocks ub "
        "JOIN blocks b USING (period, block_code) WHERE ub.period = ?", [period]).df()


def blocks(con, period: str) -> pd.DataFrame:
    return con.execute(
        "SELECT b.block_code, b.name, b.province_code, count(ub.unit_code) AS units FROM blocks b "
        "LEFT JOIN unit_blocks ub USING (period, block_code) WHERE b.period = ? "
        "GROUP BY b.block_code, b.name, b.province_code ORDER BY b.block_code", [period]).df()
