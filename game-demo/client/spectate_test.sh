#!/usr/bin/env bash
# tickwire-client --spectate: two bots play a match in room "watched"; the client, in no room,
# asks the lobby to watch it, joins the game server as a spectator (the match 1 s behind) under a
# virtual X server, and a screenshot shows the players and drones, the net graph, and no player
# of its own; the bots' match is played to the end, undisturbed.
#   spectate_test.sh SERVER BOT CLIENT CHECKER ARTIFACTS_DIR
source "$(dirname "$0")/client_test_harness.sh"
server=$1
bot=$2
client=$3
checker=$4
artifacts=$5
# 179xx: the other client tests use 178xx.
lobby_port=17920
game_port=17921
skip_without_xvfb

start_server "$server" "$work/server.log" --lobby-port $lobby_port --game-port $game_port \
  --insecure-plaintext --key-file "$work/ticket.key" --match-seconds 12 --no-replays \
  --spectator-delay 1 --duration 40 --status-interval 0
"$bot" --lobby-port $lobby_port -n 2 --room watched --duration 30 >"$work/bots.log" 2>&1 &
bots=$!

mkdir -p "$artifacts"
shot="$artifacts/client_spectate.png"
rm -f "$shot"
run_client "$client" --lobby-port $lobby_port --name watcher --spectate watched --screenshot "$shot" \
  --screenshot-after 3 --duration 9 >"$work/client.log" 2>&1 ||
  { cat "$work/client.log" "$work/server.log"; fail "the client failed to watch the match"; }
grep -q "watching the match on" "$work/client.log" ||
  { cat "$work/client.log"; fail "the client did not get a spectator's ticket"; }
"$checker" --spectator "$shot" || fail "the spectator's screenshot is wrong (look at $shot)"
wait $bots || { cat "$work/bots.log"; fail "the bots' match was disturbed"; }
echo "client spectate: ok"
