"""Create a working database: schema, official units, default framework, periods, blocks, profile.

``init_database`` is idempotent: run it again and nothing changes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import blocks, crosswalk, store, units
from . import periods as period_store
from .criteria import Framework, default_framework
from .frames import isin
from .permissions import CLI_ACTOR
from .weights import ensure_default_profile

DEFAULT_PERIODS = ["2025"]


def init_database(path: str | Path, periods: list[str] | None = None) -> dict:
    con = store.connect(path, create=True)
    try:
        return init_connection(con, periods)
    finally:
        con.close()


def init_connection(con, periods: list[str] | None = None, framework: Framework | None = None) -> dict:
    """``framework``: the one new periods get (default: the current default framework)."""
    store.migrate(con)
    added = units.load_into(con)
    crosswalk.load_into(con)
    fw = framework or default_framework()
    period_store.save_framework(con, fw)
    ensure_default_profile(con, fw)
    for p in periods or DEFAULT_PERIODS:
        ensure_period(con, p, fw)
    if store.get_meta(con, "created_at") is None:
        with store.write(con, CLI_ACTOR, "setup", action="db.init", after={"units_added": added, "framework": fw.key}):
            store.set_meta(con, "created_at", store.now().isoformat(timespec="seconds"))
    return {"units_added": added, "framework": fw.key, "periods": period_store.periods(con)}


def ensure_period(con, period: str, fw=None) -> None:
    """Register the period (if new) and give it the default blocks (if it has none): for a period
    that ended before 1 July 2025, the legacy units' district blocks."""
    fw = fw or default_framework()
    period_store.add_period(con, period, fw)
    if con.execute("SELECT count(*) FROM unit_blocks WHERE period = ?", [period]).fetchone()[0] == 0:
        current = units.units(con)
        legacy = crosswalk.legacy_units(con) if crosswalk.is_pre_merger(period) else None
        if legacy is not None and len(legacy):
            # before 1 July 2025: the old communes in one block per old district (the level that scored
            # them), other units (agencies) by the default rules
            lb, la = crosswalk.legacy_blocks(legacy)
            b, a = blocks.default_blocks(current[~isin(current["unit_code"], legacy["legacy_code"])])
            b, a = pd.concat([lb, b], ignore_index=True), pd.concat([la, a], ignore_index=True)
        else:
            b, a = blocks.default_blocks(current)
        blocks.set_blocks(con, period, b, a, actor=CLI_ACTOR)
