#!/usr/bin/env bash
# The client comes back by itself (ctest -L demo): a server and two bots on 127.0.0.1, the client
# under a virtual X server joining their room; 3 s into the match it drops both of its
# connections (--chaos-after), shows "reconnecting...", resumes its lobby seat, gets a fresh
# ticket for the same match and plays it to the end.
#   reconnect_test.sh SERVER BOT CLIENT
source "$(dirname "$0")/client_test_harness.sh"
server=$1 bot=$2 client=$3
lobby_port=17760
game_port=17761
failure_logs=("$work/server.log")

start_server "$server" "$work/server.log" --lobby-port $lobby_port --game-port $game_port \
  --match-seconds 12 --duration 55 --status-interval 0
"$bot" --lobby-port $lobby_port -n 2 --room comeback --start-players 3 --duration 50 \
  >"$work/bots.log" 2>&1 &
bots=$!

status=0
run_client "$client" --lobby-port $lobby_port --name comeback --room comeback --join \
  --auto-ready --chaos-after 3 --duration 38 >"$work/client.log" 2>&1 || status=$?
wait $bots || true
cat "$work/client.log" "$work/bots.log"

[ "$status" -eq 0 ] || fail "the client exited with $status"
# In this order: the drop, "reconnecting...", back in the seat, and the match's end.
awk '/chaos: dropping both connections/ && step == 0 { step = 1 }
     /reconnecting\.\.\./ && step == 1 { step = 2 }
     /reconnected: back in your seat/ && step == 2 { step = 3 }
     /the match is over/ && step == 3 { step = 4 }
     END { exit step == 4 ? 0 : 1 }' "$work/client.log" ||
  fail "the client did not drop, reconnect and see the match to its end, in that order"
grep -q "2 of 2 bots joined the match, 2 saw it finish, 0 failed" "$work/bots.log" ||
  fail "the bots did not finish the match"
echo "PASS: the client dropped mid-match, showed reconnecting..., and finished the match"
