#!/usr/bin/env bash
# The client's screenshot test (ctest -L demo): a server and three bots on 127.0.0.1, the client
# under a virtual X server creating a room, starting the match with the bots and saving a frame
# of it; then a checker counts the pixels of our player, the others, the drones and the net graph
# in that frame. The PNG stays in the artifact directory for people to look at.
#
# Usage: screenshot_test.sh SERVER BOT CLIENT CHECKER ARTIFACT_DIR
set -euo pipefail

server=$1 bot=$2 client=$3 checker=$4 artifacts=$5
# 178xx: the other demo tests use 177xx.
lobby_port=17810
game_port=17811

mkdir -p "$artifacts"
png="$artifacts/client_screenshot.png"
server_log="$artifacts/client_screenshot.server.log"
bot_log="$artifacts/client_screenshot.bot.log"
client_log="$artifacts/client_screenshot.client.log"
# Stale logs would fool the wait for the server below: remove them first.
rm -f "$png" "$server_log" "$bot_log" "$client_log"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
# Killed (ctest's timeout, Ctrl-C, a closed pipe): exit, so that the EXIT trap still runs.
trap 'exit 1' INT TERM HUP PIPE

show_logs() {
  for log in "$server_log" "$bot_log" "$client_log"; do
    echo "--- $log"
    cat "$log" 2>/dev/null || true
  done
}

# --view-radius 0: every player and drone is sent to the client wherever the bots wander, so the
# frame has the pixels the checker counts.
"$server" --bind 127.0.0.1 --no-beacon --metrics-port 0 --lobby-port "$lobby_port" --game-port "$game_port" \
  --match-seconds 30 --duration 25 --view-radius 0 >"$server_log" 2>&1 &
pids+=($!)
# The bots give up when the lobby is not there yet: wait until it listens.
for _ in $(seq 100); do
  grep -q "^lobby on" "$server_log" 2>/dev/null && break
  kill -0 "${pids[0]}" 2>/dev/null || break  # it exited: the log says why
  sleep 0.05
done
if ! grep -q "^lobby on" "$server_log"; then
  echo "screenshot test: the server did not start"
  show_logs
  exit 1
fi

"$bot" --lobby-port "$lobby_port" --join --room shot -n 3 --duration 20 >"$bot_log" 2>&1 &
pids+=($!)

# Under the sanitizers (scripts/test.sh --sanitize) the client's memory errors still stop it, but
# leaks are not counted: the system libraries behind SDL's X11 driver (libdbus, libX11) keep
# allocations to the end of the process.
client_asan_options="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
if ! ASAN_OPTIONS="$client_asan_options" xvfb-run -a -s "-screen 0 1280x720x24" \
  "$client" --lobby-port "$lobby_port" --name tester --room shot --create --auto-ready \
  --auto-start 4 --screenshot "$png" --screenshot-after 4 --duration 8 >"$client_log" 2>&1; then
  echo "screenshot test: the client failed"
  show_logs
  exit 1
fi
cat "$client_log"

if ! "$checker" "$png"; then
  echo "screenshot test: the screenshot does not show the match (look at it: $png)"
  show_logs
  exit 1
fi
echo "screenshot: $png"
