#!/usr/bin/env bash
# stackctl's performance figures for this build, measured in one run against the local emulator:
# up/down of 100 vs 1,000 resources, refresh calls and rounds, up against the critical path, peak
# memory. Usage: bash scripts/bench.sh [--small N] [--large N] [--latency S] [--profile-scale F]
# (a short run: bash scripts/bench.sh --small 10 --large 30 --profile-scale 0.002)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash emulator/setup.sh
cargo build --quiet --locked
exec emulator/.venv/bin/python -u scripts/bench.py "${CARGO_TARGET_DIR:-target}/debug/stackctl" "$@"
