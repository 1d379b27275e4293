#!/usr/bin/env bash
# Issue 4 / issue 6: replay throughput on one core.
#
# Simulates a busy recording (config/scenarios/bench-busy.toml: 30,360 vessels,
# MINUTES of message time, ~3,500 lines/s of message time) once into
# target/bench/, then replays it pinned to one core:
#   1. `lookout replay --speed max` (decoder + picture + every alert rule),
#   2. `bench-replay` (crates/bench-tools): the same loop stage by stage —
#      read, +decode, +picture (the "decoder + picture" target), +rules.
# Each is run REPEAT times (default 2); the recording is read once first so it
# is in the page cache.
#
#   scripts/bench-replay.sh                  # build, simulate if needed, measure
#   NO_BUILD=1 BIN=/path/to/release scripts/bench-replay.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release}
MINUTES=${MINUTES:-30}
REPEAT=${REPEAT:-2}
CORE=${CORE:-1}
REC=target/bench/busy-30k-${MINUTES}m.nmea
[ -n "${NO_BUILD:-}" ] || cargo build --release -p lookout -p bench-tools
mkdir -p target/bench
if [ ! -s "$REC" ]; then
  "$BIN/lookout" simulate --scenario config/scenarios/bench-busy.toml --duration "${MINUTES}m" -o "$REC"
fi
cat "$REC" > /dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "recording: $REC, $(wc -l < "$REC") lines, $(du -h "$REC" | cut -f1)"
for i in $(seq "$REPEAT"); do
  echo "== run $i: lookout replay --speed max (decoder + picture + all alert rules), core $CORE"
  taskset -c "$CORE" "$BIN/lookout" replay --speed max --zones config/zones "$REC" 2>&1 | tail -3
  echo "== run $i: bench-replay by stage, core $CORE"
  taskset -c "$CORE" "$BIN/bench-replay" --zones config/zones "$REC"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
