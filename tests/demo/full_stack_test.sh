#!/usr/bin/env bash
# The whole demo as players meet it: tickwire-server (lobby + game server) with 5 % loss each way
# and 80 ms of round trip simulated in front of its game port, and 8 bots that go through the
# lobby into one 20-second match. Every bot must join and see the match finish, nobody may be
# disconnected, and prediction corrections must stay small and rare.
#   full_stack_test.sh SERVER BOT
set -euo pipefail
server=$1
bot=$2
lobby_port=17701
game_port=17702
source "$(dirname "$0")/demo_lib.sh"

# --max-per-address: the 8 bots all connect from 127.0.0.1 (with room for a reconnect).
"$server" --bind 127.0.0.1 --no-beacon --lobby-port $lobby_port --game-port $game_port \
  --max-per-address 16 --match-seconds 20 --duration 32 --latency 80 --loss 5 --status-interval 5 \
  --metrics-port 0 >"$work/server.log" 2>&1 &
server_pid=$!
# The bots start once the lobby answers.
wait_port $lobby_port

status=0
"$bot" --lobby-port $lobby_port -n 8 --room full-stack --duration 28 >"$work/bots.log" 2>&1 ||
  status=$?
# While the server still runs: its /metrics as Prometheus would read them.
metrics_address=$(sed -n 's|^metrics on http://\([^/]*\)/metrics.*|\1|p' "$work/server.log")
metrics_status=0
/usr/bin/python3 "$(dirname "$0")/check_metrics.py" "$metrics_address" 1 || metrics_status=$?
kill -INT $server_pid
wait $server_pid || true
cat "$work/server.log"
cat "$work/bots.log"

[ "$status" -eq 0 ] || fail "tickwire-bot exited with $status (a bot did not join, or failed)"
grep -q "8 of 8 bots joined the match, 8 saw it finish, 0 failed" "$work/bots.log" ||
  fail "not every bot joined and saw the match finish"
grep -q "clean exit" "$work/server.log" || fail "the server did not exit cleanly"
[ "$metrics_status" -eq 0 ] || fail "the game server's /metrics or /healthz (above)"
# Per bot: corrections at most 1 in 10 snapshots, none over 1 m (respawns do not count).
awk '$1 ~ /^bot-/ {
       rows++
       # columns: bot joined finished ticks snapshots corrections max-correction rtt kbit/s-in
       # kbit/s-out (on the wire, as the net graph shows them) ...
       if ($7 + 0 >= 1.0) { print "FAIL: " $1 " corrected by " $7; bad = 1 }
       if ($6 > $5 / 10) { print "FAIL: " $1 " had " $6 " corrections in " $5 " snapshots"; bad = 1 }
       if ($5 < 400) { print "FAIL: " $1 " received only " $5 " snapshots"; bad = 1 }
       if ($9 + 0 <= 0 || $10 + 0 <= 0) { print "FAIL: " $1 " net graph shows no traffic: " $9 " in, " $10 " out"; bad = 1 }
     }
     END { if (rows != 8 || bad) exit 1 }' "$work/bots.log" || fail "corrections or snapshots out of bounds"
echo "PASS: 8 bots played a 20 s match through the lobby under 5 % loss and 80 ms RTT"
