#!/usr/bin/env bash
# Cài đặt và chạy toàn bộ bộ kiểm thử (kể cả kiểm thử trình duyệt Chromium thật).
# Installs the project with its test extra, Debian's chromium if missing, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import danvan_scoring, pytest, hypothesis, playwright, docx, matplotlib" 2>/dev/null \
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
# documents (danvan decision/minutes/report): LibreOffice for PDF, poppler for pdftotext/pdftoppm,
# fonts with Times New Roman's metrics (Liberation Serif, Caladea) so pages break as in Word
if ! command -v soffice >/dev/null 2>&1 || ! command -v pdftotext >/dev/null 2>&1 \
   || ! fc-list 2>/dev/null | grep -qi "Liberation Serif"; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends libreoffice-writer-nogui \
    poppler-utils fonts-liberation fonts-crosextra-caladea >/dev/null
fi
# the session cookie's page script is run by node in tests/test_pages_widgets.py
if ! command -v node >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs >/dev/null
fi
# the PostgreSQL backend's tests start a throwaway cluster (initdb, pg_ctl) and the replicas test
# puts nginx in front of two dashboard processes
have_pg() { ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; }
have_nginx() { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; }
if ! have_pg || ! have_nginx; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql nginx >/dev/null
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
