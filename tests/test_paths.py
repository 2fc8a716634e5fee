"""paths: the default database is data/danvan.duckdb unless DANVAN_DB names another."""

from __future__ import annotations

from danvan_scoring import paths


def test_default_database_is_in_the_data_folder(monkeypatch):
    monkeypatch.delenv("DANVAN_DB", raising=False)
    assert paths.default_db_path() == paths.DATA_DIR / "danvan.duckdb"


def test_env_var_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("DANVAN_DB", str(tmp_path / "x.duckdb"))
    assert paths.default_db_path() == tmp_path / "x.duckdb"


def test_data_folders_exist():
    assert (paths.CRITERIA_DIR).is_dir() and (paths.TIERS_DIR).is_dir()
