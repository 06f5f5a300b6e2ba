#!/usr/bin/env bash
# Draws the benchmark plots of docs/benchmarks.md from the benchmarks' own CSV output.
#   bench/plots/make_plots.sh [DATA_DIR [OUT_DIR]]
#       draws OUT_DIR/*.svg from DATA_DIR/*.csv (defaults: docs/plots/data, docs/plots)
#   bench/plots/make_plots.sh --run BUILD_DIR [DATA_DIR [OUT_DIR]]
#       first runs the benchmarks from BUILD_DIR/bin, writing DATA_DIR/*.csv (about 12 minutes)
# The CSV files: arena.csv (tickwire-bench-arena --csv), lobby_fanout.csv (tickwire-bench-lobby
# --csv), reliable_latency.csv (tickwire-bench-transport --latency-csv). A plot whose CSV is
# missing is skipped with a note. Needs gnuplot (scripts/deps.sh installs gnuplot-nox).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

build=
if [ "${1:-}" = --run ]; then
  build=${2:?--run needs the build directory}
  shift 2
fi
data=${1:-$root/docs/plots/data}
out=${2:-$root/docs/plots}
mkdir -p "$data" "$out"

if [ -n "$build" ]; then
  bin=$build/bin
  "$bin/tickwire-bench-arena" --players 64 128 192 256 --csv "$data/arena.csv"
  "$bin/tickwire-bench-lobby" --clients 10 25 50 100 200 --csv "$data/lobby_fanout.csv"
  "$bin/tickwire-bench-transport" --loss-latency --latency-csv "$data/reliable_latency.csv"
fi

draw() {  # draw SCRIPT CSV SVG [more gnuplot assignments]
  local script=$1 csv=$2 svg=$3 extra=${4:-}
  if [ ! -s "$csv" ]; then
    echo "make_plots.sh: no $csv, skipping $(basename "$svg")" >&2
    return
  fi
  gnuplot -e "data='$csv'; out='$svg'; dir='$here/'; $extra" "$here/$script"
  echo "wrote $svg"
}

draw arena_tick.gp "$data/arena.csv" "$out/arena_tick.svg"
draw arena_bandwidth.gp "$data/arena.csv" "$out/arena_bandwidth.svg"
draw lobby_fanout.gp "$data/lobby_fanout.csv" "$out/lobby_fanout.svg"

# The latency CDF: one block per library and loss rate, sorted, with the cumulative fraction.
latency=$data/reliable_latency.csv
if [ -s "$latency" ]; then
  cdf=$(mktemp)
  trap 'rm -f "$cdf"' EXIT
  # Columns: library,loss_percent,seed,latency_ms (one row per delivered message).
  series=$(tail -n +2 "$latency" | cut -d, -f1,2 | sort -u)
  blocks=0
  while IFS=, read -r library loss; do
    [ "$blocks" -gt 0 ] && printf '\n\n' >>"$cdf"
    printf '"%s, %s %% loss" "-"\n' "$library" "$loss" >>"$cdf"
    awk -F, -v l="$library" -v p="$loss" 'NR > 1 && $1 == l && $2 == p { print $4 }' "$latency" |
      sort -g | awk '{ v[NR] = $1 } END { for (i = 1; i <= NR; ++i) print v[i], i / NR }' >>"$cdf"
    blocks=$((blocks + 1))
  done <<<"$series"
  draw reliable_latency_cdf.gp "$cdf" "$out/reliable_latency_cdf.svg" "blocks=$blocks"
else
  echo "make_plots.sh: no $latency, skipping reliable_latency_cdf.svg" >&2
fi
