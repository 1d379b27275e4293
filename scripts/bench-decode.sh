#!/usr/bin/env bash
# End-to-end decode speed: `lookout decode` vs `gpsdecode` (and pyais when
# installed) on the same corpus: every file in fixtures/ais/ concatenated and
# repeated to about 200,000 lines. Prints lines/s for each and the ratio.
#
#   make bench-decode            # or: scripts/bench-decode.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
LOOKOUT=target/release/lookout
corpus=$(mktemp --suffix=.nmea)
timing=$(mktemp)
trap 'rm -f "$corpus" "$timing"' EXIT
one=$(cat fixtures/ais/*.nmea fixtures/ais/*.log fixtures/ais/*.aivdm | wc -l)
reps=$(( (200000 + one - 1) / one ))
for _ in $(seq "$reps"); do cat fixtures/ais/*.nmea fixtures/ais/*.log fixtures/ais/*.aivdm; done > "$corpus"
lines=$(wc -l < "$corpus")
echo "corpus: $lines lines ($reps x fixtures/ais), best of $RUNS runs, CPU time (user+sys) of one process each"

# Best (lowest) CPU time — user + system seconds — of "$@" reading the
# corpus on stdin: "on one core", and not inflated by other work on a shared
# machine (on an idle machine wall time is the same).
# Each run decodes the corpus REPEAT times in a row (the CPU clock ticks in
# 10 ms steps), and counts per pass.
REPEAT=${REPEAT:-10}
best() {
  local best=999999 dt
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -o "$timing" -f '%U %S' sh -c 'n=$0; f=$1; shift; for i in $(seq "$n"); do "$@" < "$f" > /dev/null 2>&1; done' \
      "$REPEAT" "$corpus" "$@" || true
    dt=$(tail -1 "$timing" | awk -v r="$REPEAT" '{print ($1 + $2) / r}')
    if (( $(echo "$dt > 0 && $dt < $best" | bc -l) )); then best=$dt; fi
  done
  echo "$best"
}

t_lookout=$(best "$LOOKOUT" decode)
t_lookout_gpsd=$(best "$LOOKOUT" decode --gpsd-only)
t_gpsd=$(best gpsdecode -s)
rate() { echo "$lines / $1" | bc -l | xargs printf '%.0f'; }
printf '%-34s %10s lines/s\n' "lookout decode" "$(rate "$t_lookout")"
printf '%-34s %10s lines/s\n' "lookout decode --gpsd-only" "$(rate "$t_lookout_gpsd")"
printf '%-34s %10s lines/s\n' "gpsdecode -s (gpsd $(gpsdecode -V 2>&1 | awk '{print $3}'))" "$(rate "$t_gpsd")"
printf 'ratio lookout/gpsdecode: %.1fx\n' "$(echo "$t_gpsd / $t_lookout" | bc -l)"
if python3 -c 'import pyais' 2>/dev/null; then
  t_pyais=$(best python3 -c '
import sys
from pyais.stream import ByteStream
n = 0
for msg in ByteStream(sys.stdin.buffer):
    try:
        msg.decode().asdict(); n += 1
    except Exception:
        pass
')
  printf '%-34s %10s lines/s\n' "pyais $(python3 -c 'import pyais;print(pyais.__version__)')" "$(rate "$t_pyais")"
  printf 'ratio lookout/pyais: %.1fx\n' "$(echo "$t_pyais / $t_lookout" | bc -l)"
fi
