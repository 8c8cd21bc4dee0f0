#!/usr/bin/env bash
# Tests of the applications the seed stacks' web servers run (templates/*_app.py), against real
# services started here: MariaDB, a single Redis node, and a three-primary Redis Cluster with TLS
# and an ACL user, as MemoryDB is. Installs what is missing: Debian's redis-server, mariadb-server
# and openssl, and the applications' pinned packages in tests/apps/.venv.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v mariadbd >/dev/null || missing+=(mariadb-server)
command -v openssl >/dev/null || missing+=(openssl)
if ((${#missing[@]})); then
  echo "==> installing ${missing[*]}"
  sudo=()
  if [ "$(id -u)" != 0 ]; then sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
venv=tests/apps/.venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r templates/requirements.txt

exec "$venv/bin/python" -u tests/apps/test_apps.py "$@"
