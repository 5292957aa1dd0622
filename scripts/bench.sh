#!/usr/bin/env bash
# Benchmark harness (issue 7): generates the standard seeded inputs and times each workload,
# reporting wall time, messages per second and peak memory (GNU time).
#   scripts/bench.sh [SIZES...]     default: 1000000 10000000
# Inputs go to ${BENCH_DIR:-target/bench}; results are appended to $BENCH_DIR/results.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${*:-"1000000 10000000"}
dir=${BENCH_DIR:-target/bench}
mkdir -p "$dir"
cargo build --release --quiet
bin=target/release/wabill
out="$dir/results.txt"
echo "# $(date -u +%FT%TZ) $(nproc) cores, $(uname -m), $(rustc --version)" | tee -a "$out"
measure() { # name rows command...
  local name=$1 rows=$2; shift 2
  local t0 t1 secs kb
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$dir/mem" "$@" > /dev/null
  t1=$(date +%s.%N)
  kb=$(cat "$dir/mem")
  awk -v n="$name" -v r="$rows" -v a="$t0" -v b="$t1" -v kb="$kb" 'BEGIN {
    s = b - a; printf "%-32s %12d rows %8.2f s %12.0f msg/s %8d MB peak\n", n, r, s, r / s, kb / 1024 }' \
    | tee -a "$out"
}
for n in $sizes; do
  csv="$dir/support-$n.csv"; pq="$dir/support-$n.parquet"
  [ -f "$csv" ] || measure "synth $n (csv)" "$n" $bin synth data/scenarios/support.toml --rows "$n" --seed 1 --out "$csv"
  [ -f "$pq" ] || $bin synth data/scenarios/support.toml --rows "$n" --seed 1 --out "$pq" 2>/dev/null
  rows=$(($(wc -l < "$csv") - 1))
  measure "replay csv $n" "$rows" $bin replay "$csv" --format json
  measure "replay parquet $n" "$rows" $bin replay "$pq" --format json
done
