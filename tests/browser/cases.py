"""Inputs the browser tests and benchmarks write through the UI, computed with the library.

``upload_case`` picks the lowest-ranked eligible commune of the latest period and builds a
valid long-layout CSV (the `danvan template` columns) raising its appraised points to the
maximum; the expected rank and total after the import are computed by importing the same
bytes into a scratch copy with ``ingest.import_file``, so a test can compare the page with
the library's own answer.
"""

from __future__ import annotations

import io
import math
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from danvan_scoring import periods, store, units
from danvan_scoring.criteria import Kind
from danvan_scoring.results import period_results

TEMPLATE_COLUMNS = ["unit_code", "period", "criterion_code", "score", "stage", "evidence", "note"]


@dataclass(frozen=True)
class UploadCase:
    unit_code: str
    unit_name: str
    period: str
    filename: str
    data: bytes
    before_rank: int
    before_total: float
    after_rank: int
    after_total: float
    rows: int


def _max_value(c) -> float:
    if c.kind is Kind.pass_fail:
        return 1.0
    if c.kind is Kind.ratio:
        return float(c.target)
    if c.kind is Kind.count:
        return float(math.ceil(c.max_points / c.per_unit))
    return float(c.max_points)


def _ranked(con, period: str) -> pd.DataFrame:
    res = period_results(con, period)
    return res[res["rank"].notna()].sort_values("rank")


def upload_csv_for(con, unit_code: str, period: str, note: str = "kiểm thử trình duyệt") -> bytes:
    fw = periods.framework_for_period(con, period)
    rows = [{"unit_code": unit_code, "period": period, "criterion_code": c.code, "score": _max_value(c),
             "stage": "appraised", "evidence": f"minh-chung/{period}/{unit_code}/{c.code}-bo-sung.pdf",
             "note": note} for c in fw.criteria.values() if c.ordinary and getattr(c, "derived", None) is None]
    buf = io.StringIO()
    pd.DataFrame(rows, columns=TEMPLATE_COLUMNS).to_csv(buf, index=False)
    return buf.getvalue().encode("utf-8")


def upload_case(db: Path, filename: str = "nang-diem-kiem-thu.csv") -> UploadCase:
    """The case for ``db`` (opened read-only; it must not be held by a server)."""
    from danvan_scoring.ingest import import_file
    from danvan_scoring.permissions import Actor

    con = store.connect(db, read_only=True)
    try:
        period = periods.periods(con)[-1]
        ranked = _ranked(con, period)
        names = units.units(con)["name"].value_counts()
        unique = ranked[ranked["unit_name"].map(names) == 1]
        low = unique.iloc[-1]
        data = upload_csv_for(con, low["unit_code"], period)
    finally:
        con.close()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / "scratch.duckdb"
        shutil.copy(db, scratch)
        con = store.connect(scratch)
        try:
            res = import_file(con, data, filename, actor=Actor("kiem-thu", "staff"))
            after = _ranked(con, period).set_index("unit_code").loc[low["unit_code"]]
        finally:
            con.close()
    return UploadCase(unit_code=str(low["unit_code"]), unit_name=str(low["unit_name"]), period=period,
                      filename=filename, data=data, before_rank=int(low["rank"]),
                      before_total=float(low["total"]), after_rank=int(after["rank"]),
                      after_total=float(after["total"]), rows=res.rows)


def number_forms(x: float) -> set[str]:
    """The ways a page may print a total: 28.04, 28,04, 28.0, 28,0."""
    out = set()
    for nd in (2, 1):
        s = f"{x:.{nd}f}"
        out |= {s, s.replace(".", ",")}
    return out
