#!/usr/bin/env bash
# The demo: starts the local AWS emulator, runs `stackctl up` of a stack, prints its outputs, then
# `stackctl down`. Usage: bash scripts/demo.sh [stacks/web.yaml]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
stack="${1:-stacks/web.yaml}"

bash emulator/setup.sh
cargo build --quiet --locked
stackctl=target/debug/stackctl

# The emulator prints its endpoint on its first line and exits when this script ends (its stdin closes).
coproc EMULATOR { emulator/.venv/bin/python emulator/server.py --port 0 --exit-with-stdin; }
read -r endpoint <&"${EMULATOR[0]}"
echo "==> emulator listening on $endpoint"

export AWS_ENDPOINT_URL="$endpoint" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true
state="$(mktemp -d)/demo.state.json"

echo "==> stackctl up -f $stack"
"$stackctl" up -f "$stack" --state "$state" --yes
echo "==> stackctl outputs"
"$stackctl" outputs -f "$stack" --state "$state"
echo "==> stackctl plan (expect no changes)"
"$stackctl" plan -f "$stack" --state "$state" --detailed-exitcode | tail -n 2
echo "==> stackctl down"
"$stackctl" down -f "$stack" --state "$state" --yes
