#!/usr/bin/env bash
# tickwire-client --replay: a match that tickwire-server recorded (two bots, three seconds) is
# listed on the client's lobby screen (from the lobby's /api/replays) and downloaded from there
# into its download folder; that copy plays back under a virtual X server, and a screenshot of
# it shows the players, the drones and the timeline where the net graph goes; the same replay
# cut short is refused, saying so.
#   replay_test.sh SERVER BOT CLIENT CHECKER ARTIFACTS_DIR
set -euo pipefail
server=$1
bot=$2
client=$3
checker=$4
artifacts=$5
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
lobby_port=17890
game_port=17891
fail() { echo "FAIL: $*"; exit 1; }
command -v xvfb-run >/dev/null || { echo "SKIPPED: needs xvfb-run"; exit 77; }

"$server" --bind 127.0.0.1 --no-beacon --lobby-port $lobby_port --game-port $game_port \
  --insecure-plaintext --key-file "$work/ticket.key" --match-seconds 3 --replay-dir "$work/replays" \
  --duration 40 --metrics-port 0 --status-interval 0 >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  if (exec 3<>/dev/tcp/127.0.0.1/$lobby_port) 2>/dev/null; then break; fi
  sleep 0.1
done
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

# Under the sanitizers the client's memory errors still stop it, but leaks are not counted: the
# system libraries behind SDL's X11 driver keep allocations to the end (see screenshot_test.sh).
client_asan_options="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
# The lobby screen lists it and downloads it, as a click on its row would.
name=$(basename "$replay")
ASAN_OPTIONS="$client_asan_options" xvfb-run -a -s "-screen 0 1280x720x24" "$client" \
  --lobby-port $lobby_port --name viewer --download-dir "$work/downloads" \
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
ASAN_OPTIONS="$client_asan_options" xvfb-run -a -s "-screen 0 1280x720x24" "$client" \
  --replay "$replay" --screenshot "$shot" \
  --screenshot-after 1.5 --duration 2.5 >"$work/client.log" 2>&1 ||
  { cat "$work/client.log"; fail "the client failed to play the replay"; }
"$checker" --replay "$shot" || fail "the replay screenshot lacks something"

head -c 2000 "$replay" >"$work/cut.twreplay"
if ASAN_OPTIONS="$client_asan_options" xvfb-run -a -s "-screen 0 1280x720x24" "$client" \
  --replay "$work/cut.twreplay" --duration 1 >"$work/cut.log" 2>&1; then
  fail "a truncated replay was played"
fi
grep -q "truncated" "$work/cut.log" || { cat "$work/cut.log"; fail "no 'truncated' in the refusal"; }
echo "client replay: ok"
