#!/usr/bin/env bash
# tickwire-client --spectate: two bots play a match in room "watched"; the client, in no room,
# asks the lobby to watch it, joins the game server as a spectator (the match 1 s behind) under a
# virtual X server, and a screenshot shows the players and drones, the net graph, and no player
# of its own; the bots' match is played to the end, undisturbed.
#   spectate_test.sh SERVER BOT CLIENT CHECKER ARTIFACTS_DIR
set -euo pipefail
server=$1
bot=$2
client=$3
checker=$4
artifacts=$5
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
# 179xx: the other client tests use 178xx.
lobby_port=17920
game_port=17921
fail() { echo "FAIL: $*"; exit 1; }
command -v xvfb-run >/dev/null || { echo "SKIPPED: needs xvfb-run"; exit 77; }

"$server" --bind 127.0.0.1 --no-beacon --lobby-port $lobby_port --game-port $game_port \
  --insecure-plaintext --key-file "$work/ticket.key" --match-seconds 12 --no-replays \
  --spectator-delay 1 --duration 40 --metrics-port 0 --status-interval 0 >"$work/server.log" 2>&1 &
for _ in $(seq 100); do
  if (exec 3<>/dev/tcp/127.0.0.1/$lobby_port) 2>/dev/null; then break; fi
  sleep 0.1
done
"$bot" --lobby-port $lobby_port -n 2 --room watched --duration 30 >"$work/bots.log" 2>&1 &
bots=$!

mkdir -p "$artifacts"
shot="$artifacts/client_spectate.png"
rm -f "$shot"
# Leaks are not counted under the sanitizers: see screenshot_test.sh.
client_asan_options="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
ASAN_OPTIONS="$client_asan_options" xvfb-run -a -s "-screen 0 1280x720x24" "$client" \
  --lobby-port $lobby_port --name watcher --spectate watched --screenshot "$shot" \
  --screenshot-after 3 --duration 9 >"$work/client.log" 2>&1 ||
  { cat "$work/client.log" "$work/server.log"; fail "the client failed to watch the match"; }
grep -q "watching the match on" "$work/client.log" ||
  { cat "$work/client.log"; fail "the client did not get a spectator's ticket"; }
"$checker" --spectator "$shot" || fail "the spectator's screenshot is wrong (look at $shot)"
wait $bots || { cat "$work/bots.log"; fail "the bots' match was disturbed"; }
echo "client spectate: ok"
