#!/usr/bin/env bash
# Installs the Debian packages the tests of the seed applications and boot scripts need, when
# missing: redis-server and mariadb-server (the tests start their own instances), openssl (a test
# CA for Redis over TLS) and shellcheck (the rendered boot scripts).
set -euo pipefail

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v mariadbd >/dev/null || missing+=(mariadb-server)
command -v openssl >/dev/null || missing+=(openssl)
command -v shellcheck >/dev/null || missing+=(shellcheck)
if ((${#missing[@]})); then
  echo "==> installing ${missing[*]}"
  sudo=()
  if [ "$(id -u)" != 0 ]; then sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
