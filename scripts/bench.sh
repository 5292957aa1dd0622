#!/usr/bin/env bash
# Benchmark harness (issue 7): generates the standard seeded inputs and times each workload,
# reporting wall time, messages per second and peak memory (GNU time).
#   scripts/bench.sh [SIZES...]     default: 1000000 10000000 (add 100000000 for the 100M run)
# Inputs go to ${BENCH_DIR:-target/bench}; results are appended to $BENCH_DIR/results.txt.
# Sizes up to 10M: CSV and Parquet, replayed the default way (partitioned from 2.5M rows) and in
# memory (--partitions 0), plus `compare` of 4 rulebooks on the 10M log. Sizes above 10M: Parquet
# only (a 100M CSV is 9 GB), generated straight to Parquet.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${*:-"1000000 10000000"}
dir=${BENCH_DIR:-target/bench}
mkdir -p "$dir"
cargo build --release --quiet
bin=target/release/wabill
out="$dir/results.txt"
echo "# $(date -u +%FT%TZ) $(nproc) cores, $(uname -m), $(rustc --version)" | tee -a "$out"
measure() { # name rows command...   (rows "-": the replay's own JSON count)
  local name=$1 rows=$2; shift 2
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$dir/mem" "$@" > "$dir/stdout" 2> "$dir/stderr" || { cat "$dir/stderr"; exit 1; }
  t1=$(date +%s.%N)
  if [ "$rows" = "-" ]; then
    rows=$(awk -F': ' '/"rows"/ { gsub(/,/, "", $2); print $2; exit }' "$dir/stdout")
  fi
  awk -v n="$name" -v r="$rows" -v a="$t0" -v b="$t1" -v kb="$(cat "$dir/mem")" 'BEGIN {
    s = b - a; printf "%-40s %12d rows %8.2f s %12.0f msg/s %8d MB peak\n", n, r, s, r / s, kb / 1024 }' \
    | tee -a "$out"
}
for n in $sizes; do
  csv="$dir/support-$n.csv"; pq="$dir/support-$n.parquet"
  if [ "$n" -le 10000000 ]; then
    # Timed every run (into a scratch file once the input exists).
    out_csv="$csv"; [ -f "$csv" ] && out_csv="$dir/scratch.csv"
    measure "synth $n (csv)" "$n" $bin synth data/scenarios/support.toml --rows "$n" --seed 1 --out "$out_csv"
    out_pq="$pq"; [ -f "$pq" ] && out_pq="$dir/scratch.parquet"
    measure "synth $n (parquet)" "$n" $bin synth data/scenarios/support.toml --rows "$n" --seed 1 --out "$out_pq"
    rm -f "$dir/scratch.csv" "$dir/scratch.parquet"
  else
    [ -f "$pq" ] || measure "synth $n (parquet)" "$n" $bin synth data/scenarios/support.toml --rows "$n" --seed 1 --out "$pq"
  fi
  rows=-
  [ -f "$csv" ] && rows=$(($(wc -l < "$csv") - 1))
  if [ "$n" -le 10000000 ]; then
    measure "replay csv $n" "$rows" $bin replay "$csv" --format json
    measure "replay csv $n, in memory" "$rows" $bin replay "$csv" --format json --partitions 0
    measure "replay parquet $n" "$rows" $bin replay "$pq" --format json
    measure "replay parquet $n, in memory" "$rows" $bin replay "$pq" --format json --partitions 0
  else
    measure "replay parquet $n" "$rows" $bin replay "$pq" --format json
    measure "replay parquet $n with --ledger" "$rows" $bin replay "$pq" --format json --ledger "$dir/ledger.csv"
    rm -f "$dir/ledger.csv"
  fi
  if [ "$n" -eq 10000000 ]; then
    # The same log without its `country` column: every user's country from the number.
    nc="$dir/support-$n-nocountry.csv"
    [ -f "$nc" ] || cut -d, -f1-9,11 "$csv" > "$nc"
    measure "replay csv $n, no country column" - $bin replay "$nc" --format json
    measure "replay csv $n with --ledger" "$rows" $bin replay "$csv" --format json --ledger "$dir/ledger.csv"
    measure "replay csv $n with --ledger, in memory" "$rows" $bin replay "$csv" --format json --ledger "$dir/ledger.csv" --partitions 0
    rm -f "$dir/ledger.csv"
    measure "compare csv $n, 4 variants" "$(($(wc -l < "$csv") - 1))" $bin compare --log "$csv" --rulebook auto,cbp-2024,pmp-2025,auto --format json
    # The same messages as a Twilio Console export (issue 14): no type, category or country,
    # templates recognised by their text through the catalogue of the provider fixtures.
    tw="$dir/support-$n-twilio.csv"
    [ -f "$tw" ] || scripts/to-twilio.sh "$csv" > "$tw"
    measure "replay twilio export $n" - $bin replay "$tw" --format json --templates tests/fixtures/providers/templates.json
  fi
done
