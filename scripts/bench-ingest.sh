#!/usr/bin/env bash
# Issue 4: UDP/TCP ingest at RATE lines/s with no loss while the picture is
# being queried.
#
# For each case (udp+tcp, udp only, tcp only) starts `lookout serve --config
# config/bench/ingest.toml` (udp 127.0.0.1:10191, tcp_listener 127.0.0.1:10192,
# HTTP 127.0.0.1:8091), runs `bench-ingest` (crates/bench-tools) for DURATION seconds,
# which sends the busy recording at RATE lines/s in total while two tasks query
# /api/vessels?bbox=… in a loop, then compares the lines sent with
# /metrics (lookout_source_lines, lookout_source_dropped, lookout_queue_dropped,
# lookout_decoder_*), and stops the server (SIGINT, by PID).
#
#   scripts/bench-ingest.sh                       # RATE=200000 DURATION=10
#   NO_BUILD=1 BIN=/path/to/release RATE=300000 scripts/bench-ingest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release}
RATE=${RATE:-200000}
DURATION=${DURATION:-10}
CASES=${CASES:-"both udp tcp"}
REC=target/bench/busy-30k-30m.nmea
[ -n "${NO_BUILD:-}" ] || cargo build --release -p lookout -p bench-tools
mkdir -p target/bench/state
if [ ! -s "$REC" ]; then
  "$BIN/lookout" simulate --scenario config/scenarios/bench-busy.toml --duration 30m -o "$REC"
fi
echo "machine: $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for case in $CASES; do
  "$BIN/lookout" serve --config config/bench/ingest.toml --state-dir target/bench/state \
    > "target/bench/serve-ingest-$case.log" 2>&1 &
  PID=$!
  trap 'kill -INT $PID 2>/dev/null || true' EXIT
  for _ in $(seq 100); do
    curl -sf http://127.0.0.1:8091/healthz > /dev/null && break
    sleep 0.1
  done
  case $case in
    both) T=(--udp 127.0.0.1:10191 --tcp 127.0.0.1:10192) ;;
    udp) T=(--udp 127.0.0.1:10191) ;;
    tcp) T=(--tcp 127.0.0.1:10192) ;;
  esac
  echo "== $case at $RATE lines/s for $DURATION s"
  "$BIN/bench-ingest" --recording "$REC" --http 127.0.0.1:8091 "${T[@]}" \
    --rate "$RATE" --seconds "$DURATION" --server-pid "$PID" \
    --json-out "target/bench/ingest-$case.json"
  kill -INT "$PID"
  wait "$PID" || true
  trap - EXIT
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
