#!/usr/bin/env bash
# Tests of the applications the seed stacks' web servers run (templates/*_app.py), against real
# services started here: MariaDB, a single Redis node, and a three-primary Redis Cluster with TLS
# and an ACL user, as MemoryDB is. Installs what is missing (tests/apps/install.sh) and the
# applications' pinned packages in tests/apps/.venv.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

bash tests/apps/install.sh
# The boot script's settings step is tested against the emulator's Secrets Manager.
bash emulator/setup.sh

venv=tests/apps/.venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r templates/requirements.txt

exec "$venv/bin/python" -u tests/apps/test_apps.py "$@"
