#!/usr/bin/env bash
# Makes a local PostgreSQL answer on 127.0.0.1:5432 for the test suite: starts the installed
# cluster when it is not running, installs PostgreSQL when there is none (fresh machine).
# Skipped when CARELOOP_TEST_PG_URL names another server.
set -euo pipefail
[ -n "${CARELOOP_TEST_PG_URL:-}" ] && exit 0

ready() { python3 - <<'PY'
import socket, sys
s = socket.socket(); s.settimeout(1)
try:
    s.connect(("127.0.0.1", 5432))
except OSError:
    sys.exit(1)
PY
}
ready && exit 0

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
installed_now=0
if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  echo "安装 PostgreSQL（测试需要）"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q postgresql
  installed_now=1
fi
version=$(ls /etc/postgresql | sort -V | tail -n 1)
echo "启动 PostgreSQL $version"
$SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
for _ in $(seq 1 30); do ready && break; sleep 1; done
ready || { echo "PostgreSQL 未能启动" >&2; exit 1; }
if [ "$installed_now" = 1 ]; then
  # A fresh Debian cluster asks for a password over TCP: give the postgres role the test one.
  $SUDO -u postgres psql -qc "ALTER USER postgres PASSWORD 'careloop'" || su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'careloop'\""
fi
