#!/usr/bin/env bash
# Players who crash come back to their own seat: tickwire-server with 5 % loss each way and 80 ms
# of round trip, a 30-second match of 8 bots, 3 of which run in processes of their own that are
# killed (SIGKILL, mid-match, at random moments) and started again. A restarted bot resumes its
# lobby seat from its resume token, gets a fresh ticket for the running match and takes its
# entity back. Every bot must finish the match, each in its own seat (the same lobby player and
# entity before and after), and no bot's score may ever go backwards.
#   reconnect_test.sh SERVER BOT
set -euo pipefail
server=$1
bot=$2
lobby_port=17711
game_port=17712
work=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
seed=${TICKWIRE_SEED:-11}
RANDOM=$seed
echo "seed $seed (TICKWIRE_SEED to replay)"

"$server" --bind 127.0.0.1 --no-beacon --lobby-port $lobby_port --game-port $game_port \
  --metrics-port 0 --max-per-address 32 --lobby-max-per-address 64 --match-seconds 30 \
  --reconnect-grace 30 --duration 75 --latency 80 --loss 5 --status-interval 5 --seed "$seed" \
  >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 50); do
  if (exec 3<>/dev/tcp/127.0.0.1/$lobby_port) 2>/dev/null; then break; fi
  sleep 0.1
done

# Five bots that stay, one of which hosts the room and starts the match once all 8 are ready.
"$bot" --lobby-port $lobby_port -n 5 --start-players 8 --room reconnect --prefix stay \
  --duration 70 --progress-interval 1 >"$work/stay.log" 2>&1 &
stay_pid=$!
sleep 0.5
crash_bot() {  # crash_bot K &: one bot in a process of its own (exec: $! is the bot itself)
  exec "$bot" --lobby-port $lobby_port -n 1 --join --room reconnect --prefix "crash$1" \
    --resume-dir "$work" --duration 70 --progress-interval 1 --seed "$((seed + $1))" \
    >>"$work/crash$1.log" 2>&1
}
declare -A crash_pid
for k in 1 2 3; do
  crash_bot $k &
  crash_pid[$k]=$!
done

# Wait for the match to start (every crash bot has played a second), then kill each crash bot once
# at a random moment within the next 15 s and start it again at once.
deadline=$((SECONDS + 30))
for k in 1 2 3; do
  until grep -q '^progress' "$work/crash$k.log" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || { cat "$work"/*.log; echo "FAIL: crash$k never played"; exit 1; }
    sleep 0.2
  done
done
declare -A kill_at
for k in 1 2 3; do kill_at[$k]=$((SECONDS + 2 + RANDOM % 14)); done
killed=0
while [ $killed -lt 3 ]; do
  for k in 1 2 3; do
    if [ "${kill_at[$k]}" -ne 0 ] && [ $SECONDS -ge "${kill_at[$k]}" ]; then
      kill -9 "${crash_pid[$k]}" 2>/dev/null || true
      wait "${crash_pid[$k]}" 2>/dev/null || true
      echo "--- killed and started again ---" >>"$work/crash$k.log"
      echo "crash$k killed at ${SECONDS}s"
      crash_bot $k &
      crash_pid[$k]=$!
      kill_at[$k]=0
      killed=$((killed + 1))
    fi
  done
  sleep 0.2
done

status=0
wait $stay_pid || status=$?
crash_status=()
for k in 1 2 3; do
  s=0
  wait "${crash_pid[$k]}" || s=$?
  crash_status+=("$s")
done
kill -INT $server_pid
wait $server_pid || true
for log in server stay crash1 crash2 crash3; do
  echo "=== $log"
  grep -v '^progress' "$work/$log.log" || true
done

fail() { echo "FAIL: $*"; exit 1; }
[ "$status" -eq 0 ] || fail "the staying bots' process exited with $status"
grep -q "5 of 5 bots joined the match, 5 saw it finish, 0 failed" "$work/stay.log" ||
  fail "not every staying bot saw the match finish"
for k in 1 2 3; do
  log="$work/crash$k.log"
  [ "${crash_status[$((k - 1))]}" -eq 0 ] || fail "crash$k's second process exited with ${crash_status[$((k - 1))]}"
  grep -q -- "--- killed and started again ---" "$log" || fail "crash$k was never killed"
  # The second process finished the match.
  sed -n '/--- killed and started again ---/,$p' "$log" |
    grep -q "1 of 1 bots joined the match, 1 saw it finish, 0 failed" ||
    fail "crash$k did not finish the match after its restart"
  # Its own seat before and after: one lobby player, one entity, in every progress line.
  seats=$(awk '$1 == "progress" { print $4, $6 }' "$log" | sort -u | wc -l)
  [ "$seats" -eq 1 ] || fail "crash$k played in $seats different seats: $(awk '$1 == "progress" { print $4, $6 }' "$log" | sort -u | tr '\n' ';')"
  # It played both before and after the kill.
  sed -n '/--- killed and started again ---/,$p' "$log" | grep -q '^progress' ||
    fail "crash$k never played after its restart"
done
# No score ever went backwards, across restarts included.
for log in stay crash1 crash2 crash3; do
  awk '$1 == "progress" {
         if ($2 in last && $8 + 0 < last[$2]) { print "FAIL: " $2 " score went from " last[$2] " to " $8; bad = 1 }
         last[$2] = $8 + 0
       }
       END { exit bad }' "$work/$log.log" || fail "a score went backwards"
done
echo "PASS: 8 bots finished a 30 s match under 5 % loss; 3 were killed and came back to their own seats"
