#!/usr/bin/env bash
# Cài đặt và chạy toàn bộ bộ kiểm thử (kể cả kiểm thử trình duyệt Chromium thật).
# Installs the project with its test extra, Debian's chromium if missing, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import danvan_scoring, pytest, hypothesis, playwright" 2>/dev/null \
   || [ pyproject.toml -nt .venv/.installed-test ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[test]"
  touch .venv/.installed-test
fi
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver fonts-dejavu-core >/dev/null
fi
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then
  echo "pytest: không có kiểm thử nào chạy (no tests ran) — coi là lỗi." >&2
  exit 1
fi
exit "$rc"
