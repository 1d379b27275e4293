#!/usr/bin/env bash
# Issue 8: `lookout history` over a day of a national feed.
#
# Records 24 hours of config/scenarios/bench-national.toml (5,060 vessels,
# ~580 lines/s, ~51 million lines) through the real recorder into hourly
# gzipped archive files under target/bench/history-day/ (once; ~10 minutes,
# 1.2 GB), then times `lookout history` over it: a whole-day query, a
# six-hour query and a one-hour query (only the matching files are read).
# Reports wall time, CPU time (user+sys, from /usr/bin/time) and lines/s, and
# the machine load before and after (the machine is shared).
#
#   scripts/bench-history.sh                       # build, record if needed, measure
#   NO_BUILD=1 BIN=target/release scripts/bench-history.sh
#   THREADS=1 scripts/bench-history.sh             # one worker thread
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release}
HOURS=${HOURS:-24}
REPEAT=${REPEAT:-2}
THREADS=${THREADS:-0}
DIR=target/bench/history-day
[ -n "${NO_BUILD:-}" ] || cargo build --release -p lookout -p history --example make_archive
if [ ! -s "$DIR/lookout-20261128T$(printf '%02d' $((HOURS - 1)))00Z.nmea.gz" ]; then
  rm -rf "$DIR"
  echo "recording $HOURS h of bench-national into $DIR ..."
  "$BIN/examples/make_archive" config/scenarios/bench-national.toml "$HOURS" "$DIR" > "$DIR.log"
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "archive: $DIR, $(ls "$DIR" | wc -l) files, $(du -sh "$DIR" | cut -f1), $(cat "$DIR.log" 2>/dev/null || echo '?') lines"
cat "$DIR"/* > /dev/null   # page cache: measure the scan, not the disk
run() {
  local label=$1; shift
  for i in $(seq "$REPEAT"); do
    echo "== $label (run $i)"
    /usr/bin/time -f "wall %e s, CPU user %U s + sys %S s, max RSS %M KB" \
      "$BIN/lookout" history --archive "$DIR" --near 34.8,12.2 --radius 5 --threads "$THREADS" "$@" > /dev/null
  done
}
run "one day, 5 NM around 34.8N 12.2E" --from 2026-11-28T00:00:00Z --to 2026-11-29T00:00:00Z
run "six hours" --from 2026-11-28T06:00:00Z --to 2026-11-28T12:00:00Z
run "one hour" --from 2026-11-28T06:00:00Z --to 2026-11-28T07:00:00Z
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
