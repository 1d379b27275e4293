#!/usr/bin/env bash
# Core restart time, with and without a picture checkpoint (docs/scaling.md,
# "Core restart"). Starts its own nats-server (JetStream in a temp folder),
# fills LOOKOUT_RAW with a simulated recording through an ingest node at full
# speed, lets a core apply it and write a checkpoint, then kills the core
# (SIGKILL) and times `lookout serve --role core` from its start to a live
# picture (the log line "core: consuming lookout.raw.>", written once the
# picture is rebuilt up to what the durable consumer had delivered):
#   1. with checkpoints (restore the newest, replay the stream after it),
#   2. with checkpoint_every = "0s" (replay the whole stream).
#
#   [SCENARIO=config/scenarios/bench-national.toml] [NO_BUILD=1] scripts/bench-core-restart.sh [DURATION]
#   (default: 2h of the national scenario, 5,060 vessels, ≈ 4.2 M lines)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-2h}
SCENARIO=${SCENARIO:-config/scenarios/bench-national.toml}
LOOKOUT=target/release/lookout
[ -n "${NO_BUILD:-}" ] || cargo build --release --bin lookout
WORK=$(mktemp -d /tmp/lookout-bench-restart.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
REC=$WORK/sim.nmea
$LOOKOUT simulate --scenario "$SCENARIO" --duration "$DURATION" -o "$REC"
LINES=$(wc -l < "$REC")
echo "recording: $SCENARIO, $DURATION, $LINES lines; machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
nats-server -js -sd "$WORK/js" -a 127.0.0.1 -p "$port" >"$WORK/nats.log" 2>&1 &
sleep 0.5
URL="nats://127.0.0.1:$port"
printf '[bus]\ncheckpoint_every = "10s"\n' >"$WORK/on.toml"
printf '[bus]\ncheckpoint_every = "0s"\n' >"$WORK/off.toml"
LOG="warn,server::roles::core=info"

addr() { # the address a node's log says it listens on
  for _ in $(seq 200); do
    grep -q 'listening on http://' "$1" 2>/dev/null && break
    sleep 0.05
  done
  grep -o 'listening on http://[0-9.:]*' "$1" | head -1 | cut -d/ -f3
}
metric() { # $1 = address, $2 = counter name
  curl -s "http://$1/metrics" | awk -v n="$2" '$1 == n {printf "%d", $2; f=1} END {if (!f) print 0}'
}
core() { # $1 = config, $2 = log
  RUST_LOG=$LOG $LOOKOUT serve --role core --bus-url "$URL" --node bench-core --config "$1" \
    --zones config/zones --listen 127.0.0.1:0 --state-dir "$WORK/state-core" 2>"$2" &
  CORE=$!
}

echo "== filling the stream (ingest --replay --speed max) and applying it (core, checkpoints every 10 s)"
t0=$(date +%s.%N)
core "$WORK/on.toml" "$WORK/core-fill.log"
ca=$(addr "$WORK/core-fill.log")
RUST_LOG=warn $LOOKOUT serve --role ingest --bus-url "$URL" --node bench-ingest --config "$WORK/off.toml" \
  --listen 127.0.0.1:0 --state-dir "$WORK/state-ingest" --replay "$REC" --speed max 2>"$WORK/ingest.log" &
INGEST=$!
until [ "$(metric "$ca" lookout_bus_received_lines_total)" -ge "$LINES" ]; do sleep 1; done
echo "   $LINES lines published and applied in $(echo "$(date +%s.%N) - $t0" | bc | cut -c1-6) s"
kill $INGEST
# A checkpoint that covers everything.
n=$(metric "$ca" lookout_bus_checkpoints_written_total)
until [ "$(metric "$ca" lookout_bus_checkpoints_written_total)" -gt "$n" ]; do sleep 0.5; done
grep 'checkpoint written' "$WORK/core-fill.log" | tail -1 | sed 's/^.*INFO //'
vessels=$(curl -s "http://$ca/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["picture"]["vessels"])')
echo "   picture: $vessels vessels; stream: $(du -sh "$WORK/js" | cut -f1) on disk"
kill -9 $CORE; wait $CORE 2>/dev/null || true

restart() { # $1 = config, $2 = label
  local log=$WORK/core-$2.log t0 t1
  t0=$(date +%s.%N)
  core "$1" "$log"
  until grep -q 'consuming lookout.raw' "$log" 2>/dev/null; do sleep 0.02; done
  t1=$(date +%s.%N)
  echo "== restart $2: live picture $(echo "$t1 - $t0" | bc | cut -c1-6) s after start"
  grep -E 'restored from checkpoint|rebuilt from the stream' "$log" | sed 's/^.*INFO /   /'
  local a; a=$(addr "$log")
  echo "   $(curl -s "http://$a/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["picture"]["vessels"])') vessels"
  kill -9 $CORE; wait $CORE 2>/dev/null || true
}
restart "$WORK/on.toml" "from-checkpoint"
restart "$WORK/off.toml" "whole-stream"
