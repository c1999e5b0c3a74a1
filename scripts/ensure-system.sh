#!/usr/bin/env bash
# Installs the Debian packages CareLoop needs, only when missing (fresh machine).
# Usage: scripts/ensure-system.sh [test]   — "test" adds Chromium for the browser tests.
set -euo pipefail

need=()
have() { dpkg -s "$1" >/dev/null 2>&1; }
for pkg in fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 gettext; do
  have "$pkg" || need+=("$pkg")
done
command -v pg_dump >/dev/null 2>&1 || need+=(postgresql-client)
if [ "${1:-}" = "test" ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
fi
command -v node >/dev/null 2>&1 || need+=(nodejs npm)

if [ ${#need[@]} -eq 0 ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "缺少系统软件包：${need[*]}；请以 root 身份运行 apt-get install ${need[*]}" >&2; exit 1
  fi
fi
echo "安装系统软件包：${need[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
