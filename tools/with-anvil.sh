#!/bin/sh
# Run a command against a fresh anvil of our own (npm @foundry-rs/anvil-linux-amd64),
# started without ape-foundry's --steps-tracing, which slows every transaction and makes
# long runs (the demo, the benchmarks) exhaust the node. ape connects to it through
# APE_FOUNDRY_HOST. The anvil is stopped when the command ends.
#   tools/with-anvil.sh ape run demo --network ethereum:local:foundry
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
anvil="$here/node_modules/.bin/anvil"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
"$anvil" --port "$port" --accounts 10 --balance 10000 --block-base-fee-per-gas 0 --gas-price 0 \
  --mnemonic "test test test test test test test test test test test junk" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$log"' EXIT INT TERM
i=0
until grep -q "Listening on" "$log"; do
  i=$((i + 1))
  if [ $i -gt 200 ]; then echo "with-anvil: anvil did not start:" >&2; cat "$log" >&2; exit 1; fi
  sleep 0.05
done
APE_FOUNDRY_HOST="http://127.0.0.1:$port" "$@"
