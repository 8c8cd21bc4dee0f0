#!/usr/bin/env bash
# Runs every check and test on a fresh machine: installs the emulator's Python packages, then
# formatting, lints, unit tests, the integration tests that run stackctl against the emulator, and
# the tests of the applications the web servers run (which install redis-server and mariadb-server).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "==> emulator: installing pinned Python packages (emulator/.venv)"
bash emulator/setup.sh

echo "==> emulator: self-check"
emulator/.venv/bin/python emulator/test_emulator.py >/dev/null

echo "==> Debian packages the application and boot script tests need"
bash tests/apps/install.sh

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy -D warnings"
cargo clippy --all-targets --locked -- -D warnings

echo "==> cargo test"
cargo test --locked --all-targets

echo "==> the seed stacks' applications against MariaDB, Redis and a TLS Redis Cluster"
bash tests/apps/run.sh

echo "==> benchmark smoke run (figures only, small sizes; the full run is bash scripts/bench.sh)"
# The binary `cargo test` built: `cargo build` would compile the dependencies again without the
# test build's features.
emulator/.venv/bin/python -u scripts/bench.py "${CARGO_TARGET_DIR:-target}/debug/stackctl" \
  --small 6 --large 12 --create-seconds 0.5 --profile-scale 0.002

echo "==> fuzzing the stack file parser (bounded)"
bash scripts/fuzz.sh "${STACKCTL_FUZZ_SECONDS:-60}"
