#!/usr/bin/env bash
# Fuzzes the stack file parser for a bounded time (default 60 s): arbitrary text must yield
# diagnostics, never a panic. Seeds: the stacks and the bad-input corpus.
# Usage: bash scripts/fuzz.sh [seconds]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds="${1:-60}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "==> installing cargo-fuzz"
    cargo install --locked --quiet cargo-fuzz
fi

corpus="$(mktemp -d)"
trap 'rm -rf "$corpus"' EXIT
cp stacks/*.yaml tests/bad-input/*.yaml "$corpus/"

# libFuzzer's instrumentation flags are unstable options; RUSTC_BOOTSTRAP lets this machine's stable
# toolchain accept them.
cd fuzz
RUSTC_BOOTSTRAP=1 cargo fuzz run stack_file "$corpus" -- -max_total_time="$seconds" -print_final_stats=1 2>&1 | tail -n 12
