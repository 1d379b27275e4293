#!/usr/bin/env bash
# The bus path (ingest → JetStream → core → edge) beside the single process,
# on the same simulated recording. Starts its own nats-server (JetStream in a
# temp folder), a core and an edge (release build), runs the bus_path bench
# at full speed and at fixed rates, and prints the core's CPU time.
#
#   [SCENARIO=config/scenarios/bench-busy.toml] scripts/bench-bus.sh [HOURS] [RATES...]
#   (default: 1 hour of the demo scenario, rates 2000 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
HOURS=${1:-1}
shift || true
RATES=${*:-"2000 20000"}
LOOKOUT=target/release/lookout
cargo build --release --bin lookout
cargo bench -p bus --bench bus_path --no-run
WORK=$(mktemp -d /tmp/lookout-bench-bus.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
REC=$WORK/sim.nmea
$LOOKOUT simulate ${SCENARIO:+--scenario "$SCENARIO"} --duration "${HOURS}h" -o "$REC"
echo "recording: $(wc -l < "$REC") lines; machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== single process (lookout replay --speed max, decoder + picture + alerts)"
/usr/bin/time -f "   %e s wall, %U s user, %S s sys" $LOOKOUT replay "$REC" --speed max 2>&1 | grep -E "lines|wall" || true

cpu_s() { awk '{printf "%.2f", ($14+$15)/100}' "/proc/$1/stat"; }

run() { # $1 = rate (0 = max)
  local port; port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  rm -rf "$WORK/js" "$WORK"/state-*
  nats-server -js -sd "$WORK/js" -a 127.0.0.1 -p "$port" >"$WORK/nats.log" 2>&1 &
  local nats=$!
  sleep 0.5
  local url="nats://127.0.0.1:$port"
  RUST_LOG=warn $LOOKOUT serve --role core --bus-url "$url" --node bench-core --listen 127.0.0.1:0 --state-dir "$WORK/state-core" 2>"$WORK/core.log" &
  local core=$!
  RUST_LOG=warn $LOOKOUT serve --role edge --bus-url "$url" --node bench-edge --listen 127.0.0.1:0 --state-dir "$WORK/state-edge" 2>"$WORK/edge.log" &
  local edge=$!
  sleep 2
  local c0 e0 n0; c0=$(cpu_s $core); e0=$(cpu_s $edge); n0=$(cpu_s $nats)
  BUS_URL=$url RECORDING=$REC RATE=$1 BATCH=100 cargo bench -q -p bus --bench bus_path 2>/dev/null | grep bus_path
  echo "   CPU during the run: core $(echo "$(cpu_s $core) - $c0" | bc) s, edge $(echo "$(cpu_s $edge) - $e0" | bc) s, nats-server $(echo "$(cpu_s $nats) - $n0" | bc) s"
  local ca ea; ca=$(grep -o 'listening on http://[0-9.:]*' "$WORK/core.log" | cut -d/ -f3)
  ea=$(grep -o 'listening on http://[0-9.:]*' "$WORK/edge.log" | cut -d/ -f3)
  sleep 1
  python3 - "$ca" "$ea" <<'PY'
import json, sys, urllib.request
core = json.load(urllib.request.urlopen(f"http://{sys.argv[1]}/healthz"))["picture"]
edge = json.load(urllib.request.urlopen(f"http://{sys.argv[2]}/healthz"))["picture"]
b = edge["bus"]
print(f"   core {core['vessels']} vessels; edge mirror {edge['vessels']} vessels, "
      f"{b['picture_batches']} batches applied, {b['gaps']} gaps, {b['snapshots_loaded']} snapshots, "
      f"{b['slow_consumer']} dropped as slow consumer")
PY
  kill $core $edge $nats; wait $core $edge $nats 2>/dev/null || true
}

echo "== bus path at full speed"
run 0
for r in $RATES; do
  echo "== bus path at $r lines/s"
  run "$r"
done
