#!/usr/bin/env bash
# Cài đặt (lần đầu) và mở bảng điều khiển trên cơ sở dữ liệu nhúng data/danvan.duckdb
# (tạo kèm dữ liệu minh họa nếu chưa có). Install on first run, then start the dashboard.
# Only this command, on the default data/danvan.duckdb, may build the demo database: it sets
# DANVAN_BUILD_DEMO=1, which `danvan serve` and app.py honour for the default path only
# (a missing DANVAN_DB or --db file is an error, never a fresh demo with an admin account).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import danvan_scoring, streamlit" 2>/dev/null || [ pyproject.toml -nt .venv/.installed ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e .
  touch .venv/.installed
fi
export DANVAN_BUILD_DEMO=1
exec .venv/bin/danvan serve "$@"
