#!/usr/bin/env bash
# Creates emulator/.venv and installs the pinned requirements into it.
#
# Idempotent and quiet: the venv is created only if missing, and pip runs only
# when requirements.txt changed since the last successful install (its sha256
# is kept in .venv/.requirements.sha256, written after pip succeeded, so a
# failed or interrupted install is retried next time). Prints nothing on
# success; on failure pip's output is shown and the exit status is non-zero.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
req="$here/requirements.txt"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

# A venv whose interpreter is gone (e.g. Python was upgraded) is rebuilt.
if [ -d "$venv" ] && ! "$venv/bin/python" -c '' >/dev/null 2>&1; then
    rm -rf "$venv"
fi

if [ ! -x "$venv/bin/python" ]; then
    if ! out="$("$python" -m venv "$venv" 2>&1)"; then
        # Debian without the python3-venv package has no ensurepip: make the
        # venv without pip and let the system pip install into it.
        rm -rf "$venv"
        if ! out2="$("$python" -m venv --without-pip "$venv" 2>&1)"; then
            printf '%s\n%s\n' "$out" "$out2" >&2
            echo "setup.sh: '$python -m venv' failed" >&2
            rm -rf "$venv"
            exit 1
        fi
    fi
fi

# The venv's own pip if it has one, else the system pip aimed at the venv.
if "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
    pip=("$venv/bin/python" -m pip)
else
    pip=("$python" -m pip --python "$venv/bin/python")
fi

want="$(sha256sum "$req" | cut -d' ' -f1)"
have="$(cat "$stamp" 2>/dev/null || true)"
if [ "$want" != "$have" ]; then
    log="$(mktemp)"
    trap 'rm -f "$log"' EXIT
    if ! "${pip[@]}" install --disable-pip-version-check \
            --no-input -q -r "$req" >"$log" 2>&1; then
        cat "$log" >&2
        echo "setup.sh: pip install -r $req failed" >&2
        exit 1
    fi
    printf '%s\n' "$want" >"$stamp"
fi
