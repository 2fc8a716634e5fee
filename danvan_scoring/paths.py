"""Where the project's data files and the default database live."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("DANVAN_DATA_DIR", ROOT / "data"))
CRITERIA_DIR = DATA_DIR / "criteria"
TIERS_DIR = DATA_DIR / "tiers"
DEFAULT_DB = DATA_DIR / "danvan.duckdb"


DB_URL_PREFIXES = ("postgresql://", "postgres://")


def db_target(value: str) -> Path | str:
    """A ``--db`` / ``DANVAN_DB`` value: a ``postgresql://…`` URL stays a string, anything else is a
    DuckDB file path."""
    return value if value.startswith(DB_URL_PREFIXES) else Path(value)


def default_db_path() -> Path | str:
    """``$DANVAN_DB`` if set (a file path or a ``postgresql://`` URL), else ``data/danvan.duckdb``."""
    env = os.environ.get("DANVAN_DB")
    return db_target(env) if env else DEFAULT_DB
