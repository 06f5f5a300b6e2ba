#!/usr/bin/env bash
# The demo: installs what is missing, builds Tickwire in Release into build/, and starts the Arena
# dedicated server (lobby + game server) with bots. With a display, an SDL2 client window joins
# the bots' room as "you" and the match starts when everyone is ready; without one, the server
# and bots run headless and a one-line status (players, tick time, bandwidth) updates in place.
#
#   scripts/demo.sh [--duration SECONDS] [--bots N] [--lan] [--latency MS] [--loss PERCENT]
#                   [--headless]
#
# --lan listens on every interface and announces the server on the LAN (others join with
# `tickwire-client --lan`); without it everything stays on 127.0.0.1. Stops on Ctrl-C or after
# --duration (default: until Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."

duration=0
bots=7
lan=0
headless=0
latency=0
loss=0
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --bots) bots=$2; shift 2 ;;
    --lan) lan=1; shift ;;
    --latency) latency=$2; shift 2 ;;
    --loss) loss=$2; shift 2 ;;
    --headless) headless=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
targets=(tickwire_server tickwire_bot)
if [ -f game-demo/client/CMakeLists.txt ]; then targets+=(tickwire_client); fi
cmake --build build -j "$(nproc)" --target "${targets[@]}"

if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || [ ! -x build/bin/tickwire-client ]; then
  headless=1
fi
# The bots and the client all connect from this machine: its address needs room for all of them
# (the server's default per-address limit is kept well below its player limit).
server_args=(--lobby-port 7700 --game-port 7777 --latency "$latency" --loss "$loss"
             --max-per-address $((bots + 9)))
if [ $lan -eq 1 ]; then
  server_args+=(--bind 0.0.0.0)
else
  server_args+=(--bind 127.0.0.1 --no-beacon)
fi
# Seconds for the programs that need a limit: Ctrl-C ends them sooner.
limit=$duration
if [ "$limit" = 0 ]; then limit=86400; fi

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ $headless -eq 1 ]; then
  echo "demo: server and $bots bots, headless (no display or no client); Ctrl-C stops"
  build/bin/tickwire-server "${server_args[@]}" --duration "$duration" --status-interval 1 \
    > >(while IFS= read -r line; do
          # Status lines update in place; everything else scrolls.
          case "$line" in
            status:*) printf '\r\033[K%s' "$line" ;;
            *) printf '\r\033[K%s\n' "$line" ;;
          esac
        done) 2>&1 &
  pids+=($!)
  sleep 1
  build/bin/tickwire-bot --lobby-port 7700 -n "$bots" --room demo --matches 0 \
    --duration "$limit" >/dev/null 2>&1 &
  pids+=($!)
else
  echo "demo: server, $bots bots and your window; the match starts when everyone is ready"
  build/bin/tickwire-server "${server_args[@]}" --duration "$duration" --status-interval 5 &
  pids+=($!)
  sleep 1
  build/bin/tickwire-bot --lobby-port 7700 -n "$bots" --room demo --join --matches 0 \
    --duration "$limit" >/dev/null 2>&1 &
  pids+=($!)
  build/bin/tickwire-client --lobby-port 7700 --name you --room demo --create --auto-ready \
    --auto-start $((bots + 1)) --duration "$duration" &
  pids+=($!)
fi
# Ends after --duration (the server stops itself), or on Ctrl-C.
wait "${pids[0]}"
echo
