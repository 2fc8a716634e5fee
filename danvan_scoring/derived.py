"""Criteria derived from the model registry: the rule that a typed-in value for such a
criterion is refused. The score reader (``ingest``) imports this module, never the registry,
so reading a file needs no database and there is no ingest ↔ models import cycle.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from .criteria import DERIVED_METRICS, Framework
from .uploads import Problem


def derived_refusal(criterion, fw: Framework) -> str:
    """Why a typed-in value for a derived criterion is refused (one sentence, Vietnamese)."""
    return (f"tiêu chí {criterion.code} ({criterion.name}) được tính tự động từ sổ mô hình \"Dân vận khéo\" "
            f"({DERIVED_METRICS[criterion.derived][1]}) trong bộ tiêu chí {fw.key}, không nhập điểm tay; hãy xóa "
            "dòng/cột này và nhập danh sách mô hình (danvan import TỆP --kind models)")


def refuse_derived(rows: pd.DataFrame, fw: Framework | Callable[[str], Any] | Mapping[str, Any],
                   column: str | None = None) -> list[Problem]:
    """Problems for typed-in values of criteria the framework derives from the registry.

    ``rows`` are score rows (unit_code, period, criterion_code[, _row]); ``fw`` is the
    framework, or a callable / mapping period → framework (anything else for a period is
    skipped). ``_row``, when present, is the row as shown in Excel.
    """
    if rows is None or len(rows) == 0:
        return []
    cache: dict[str, Framework | None] = {}

    def framework(p: str) -> Framework | None:
        if isinstance(fw, Framework):
            return fw
        if p not in cache:
            try:
                got = fw(p) if callable(fw) else fw.get(p)
            except Exception:
                got = None
            cache[p] = got if isinstance(got, Framework) else None
        return cache[p]

    # fast path (a national file has a million rows): only rows naming a derived criterion matter
    present = pd.unique(rows["period"]) if "period" in rows.columns else [""]
    derived: set[str] = set()
    for p in present:
        f = framework(str(p))
        if f is not None:
            derived |= {c.code for c in f.criteria.values() if c.derived}
    if not derived:
        return []
    hit = rows["criterion_code"].isin(derived).to_numpy()
    if not hit.any():
        return []
    rows = rows[hit]
    periods = rows["period"].astype(str).to_numpy() if "period" in rows.columns else np.full(len(rows), "")
    codes = rows["criterion_code"].astype(str).to_numpy()
    rownums = rows["_row"].to_numpy() if "_row" in rows.columns else np.full(len(rows), None, dtype=object)
    values = rows["value"].to_numpy() if "value" in rows.columns else None
    out: list[Problem] = []
    pairs = pd.DataFrame({"p": periods, "c": codes}).drop_duplicates()
    for p, c in pairs.itertuples(index=False):
        f = framework(p)
        if f is None:
            continue
        crit = f.criteria.get(c)
        if crit is None or not crit.derived:
            continue
        reason = derived_refusal(crit, f)
        for i in np.flatnonzero((periods == p) & (codes == c)):
            r = rownums[i]
            # long layout: the offending cell is the criterion code; wide: the typed number
            shown = c if column is not None or values is None or pd.isna(values[i]) else f"{float(values[i]):g}"
            out.append(Problem(None if r is None or pd.isna(r) else int(r), column or c, shown, reason))
    return out
