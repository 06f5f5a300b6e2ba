#!/usr/bin/env bash
# Checks the benchmark plots.
#   bench/plots/check_plots.sh
#       docs/plots/*.svg are what make_plots.sh draws from docs/plots/data: a plot left stale after
#       its data or its script changed fails here.
#   bench/plots/check_plots.sh --from CSV_DIR OUT_DIR PLOT...
#       make_plots.sh draws each named PLOT (e.g. arena_tick) from CSV files a benchmark just wrote
#       with --csv, so the script and the benchmarks' output agree.
set -euo pipefail
shopt -s nullglob
root=$(cd "$(dirname "$0")/../.." && pwd)

if [ "${1:-}" = --from ]; then
  csv=${2:?--from needs CSV_DIR OUT_DIR PLOT...}
  out=${3:?--from needs CSV_DIR OUT_DIR PLOT...}
  shift 3
  rm -rf "$out"
  "$root/bench/plots/make_plots.sh" "$csv" "$out"
  for plot in "$@"; do
    grep -q '<svg' "$out/$plot.svg" 2>/dev/null || {
      echo "no $plot.svg drawn from $csv" >&2
      exit 1
    }
  done
  exit 0
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$root/bench/plots/make_plots.sh" "$root/docs/plots/data" "$scratch" >/dev/null
status=0
for drawn in "$scratch"/*.svg; do
  name=$(basename "$drawn")
  if ! cmp -s "$drawn" "$root/docs/plots/$name"; then
    echo "docs/plots/$name is not what bench/plots/make_plots.sh draws from docs/plots/data:" \
      "run bench/plots/make_plots.sh" >&2
    status=1
  fi
done
for checked_in in "$root"/docs/plots/*.svg; do
  [ -e "$scratch/$(basename "$checked_in")" ] || {
    echo "docs/plots/$(basename "$checked_in") has no data in docs/plots/data" >&2
    status=1
  }
done
exit $status
