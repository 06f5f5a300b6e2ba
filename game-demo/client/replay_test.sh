#!/usr/bin/env bash
# tickwire-client --replay: a match that tickwire-server recorded (two bots, three seconds) is
# listed on the client's lobby screen (from the lobby's /api/replays) and downloaded from there
# into its download folder; that copy plays back under a virtual X server, and a screenshot of
# it shows the players, the drones and the timeline where the net graph goes; the same replay
# cut short is refused, saying so.
#   replay_test.sh SERVER BOT CLIENT CHECKER ARTIFACTS_DIR
source "$(dirname "$0")/client_test_harness.sh"
server=$1
bot=$2
client=$3
checker=$4
artifacts=$5
lobby_port=17890
game_port=17891
skip_without_xvfb

start_server "$server" "$work/server.log" --lobby-port $lobby_port --game-port $game_port \
  --insecure-plaintext --key-file "$work/ticket.key" --match-seconds 3 --replay-dir "$work/replays" \
  --duration 40 --status-interval 0
"$bot" --lobby-port $lobby_port -n 2 --room replay --duration 30 >"$work/bots.log" 2>&1 ||
  { cat "$work/bots.log"; fail "the bots failed"; }
# The replay is renamed into place once the match has closed (its players gone).
replay=""
for _ in $(seq 100); do
  replay=$(ls "$work"/replays/*.twreplay 2>/dev/null | head -1 || true)
  [ -n "$replay" ] && break
  sleep 0.1
done
[ -n "$replay" ] || { cat "$work/server.log"; fail "no replay recorded"; }

# The lobby screen lists it and downloads it, as a click on its row would.
name=$(basename "$replay")
run_client "$client" --lobby-port $lobby_port --name viewer --download-dir "$work/downloads" \
  --download-replay "$name" --duration 6 >"$work/lobby-client.log" 2>&1 ||
  { cat "$work/lobby-client.log"; fail "the client failed in the lobby"; }
grep -q "replay(s) listed by the lobby:.* $name" "$work/lobby-client.log" ||
  { cat "$work/lobby-client.log"; fail "the lobby screen did not list $name"; }
cmp "$replay" "$work/downloads/$name" ||
  { cat "$work/lobby-client.log"; fail "the downloaded replay differs"; }
[ -z "$(ls -A "$work/downloads" | grep -v "^$name\$")" ] || fail "left over: $(ls -A "$work/downloads")"
kill -INT $server_pid
wait $server_pid || true
replay="$work/downloads/$name"

mkdir -p "$artifacts"
shot="$artifacts/client_replay.png"
run_client "$client" --replay "$replay" --screenshot "$shot" --screenshot-after 1.5 \
  --duration 2.5 >"$work/client.log" 2>&1 ||
  { cat "$work/client.log"; fail "the client failed to play the replay"; }
"$checker" --replay "$shot" || fail "the replay screenshot lacks something"

head -c 2000 "$replay" >"$work/cut.twreplay"
if run_client "$client" --replay "$work/cut.twreplay" --duration 1 >"$work/cut.log" 2>&1; then
  fail "a truncated replay was played"
fi
grep -q "truncated" "$work/cut.log" || { cat "$work/cut.log"; fail "no 'truncated' in the refusal"; }
echo "client replay: ok"
