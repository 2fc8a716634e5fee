"""Where the project's data files and the default database live."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("DANVAN_DATA_DIR", ROOT / "data"))
CRITERIA_DIR = DATA_DIR / "criteria"
TIERS_DIR = DATA_DIR / "tiers"
DEFAULT_DB = DATA_DIR / "danvan.duckdb"


def default_db_path() -> Path:
    """``$DANVAN_DB`` if set, else ``data/danvan.duckdb``."""
    env = os.environ.get("DANVAN_DB")
    return Path(env) if env else DEFAULT_DB
