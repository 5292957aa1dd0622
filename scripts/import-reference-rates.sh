#!/usr/bin/env bash
# Regenerate rates/ from the reference rate data (a folder laid out like shared/reference/rates:
# <model>_<YYYY-MM-DD>_<currency>.csv cards, pmp_volume_tiers.csv, market_map.csv,
# auth_international.csv, PROVENANCE.md). Cards are copied unchanged (they already use the
# rates.csv column names); tier rows are split per card. Usage: scripts/import-reference-rates.sh SRC [DEST]
set -euo pipefail
src=${1:?usage: $0 REFERENCE_RATES_DIR [DEST]}
dest=${2:-rates}
mkdir -p "$dest/reference"
cp "$src/market_map.csv" "$dest/market_map.csv"
cp "$src"/*.csv "$src/PROVENANCE.md" "$dest/reference/"
for f in "$src"/cbp_*.csv "$src"/pmp_20*.csv; do
  base=$(basename "$f" .csv)            # e.g. pmp_2025-07-01_usd
  date=$(echo "$base" | cut -d_ -f2)
  cur=$(echo "$base" | cut -d_ -f3 | tr a-z A-Z)
  mkdir -p "$dest/$cur/$date"
  cp "$f" "$dest/$cur/$date/rates.csv"
done
# Tier tables: one tiers.csv per (effective date, currency) that has a card.
header=$(head -1 "$src/pmp_volume_tiers.csv")
tail -n +2 "$src/pmp_volume_tiers.csv" | while IFS= read -r line; do
  date=${line%%,*}
  cur=$(echo "$line" | cut -d, -f4)
  dir="$dest/$cur/$date"
  if [ -d "$dir" ]; then
    [ -f "$dir/tiers.csv.new" ] || echo "$header" > "$dir/tiers.csv.new"
    echo "$line" >> "$dir/tiers.csv.new"
  else
    echo "skipped (no $cur card dated $date): $line" >&2
  fi
done
for n in "$dest"/*/*/tiers.csv.new; do [ -e "$n" ] && mv "$n" "${n%.new}"; done
echo "rates regenerated in $dest"
