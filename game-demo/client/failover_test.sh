#!/usr/bin/env bash
# The client fails over by itself (labels integration, soak): two `tickwire-server --role lobby`
# processes on a redis-server the test starts, the client under a virtual X server given both
# (--lobby A,B) creating a room on A; A is killed with SIGKILL, and the client resumes its seat on
# B ("reconnected: back in your seat"), where a player's view of the room (GET /api/rooms on B)
# still has the room. Exit 77 (skipped) without redis-server.
#   failover_test.sh SERVER CLIENT
set -euo pipefail
server=$1 client=$2
command -v redis-server >/dev/null || {
  echo "SKIP: needs redis-server (scripts/deps.sh installs Debian's redis-server package)"
  exit 77
}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
redis_port=$(free_port) port_a=$(free_port) port_b=$(free_port)
fail() {
  echo "FAIL: $*"
  cat "$work"/*.log
  exit 1
}
# B's room list lists the room (read whole first: grep -q may close a pipe before curl is done).
lists_room() {
  local rooms
  rooms=$(curl -sf "http://127.0.0.1:$port_b/api/rooms") || return 1
  [[ $rooms == *'"kept"'* ]]
}
wait_for() {  # FILE PATTERN SECONDS
  for _ in $(seq $(($3 * 20))); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
  >"$work/redis.log" 2>&1 &
wait_for "$work/redis.log" "Ready to accept connections" 10 || fail "redis-server did not start"
: >"$work/game-servers.keys"
lobby() {  # PORT LOG
  "$server" --role lobby --bind 127.0.0.1 --lobby-port "$1" --key-file "$work/ticket.key" \
    --game-server-keys "$work/game-servers.keys" --redis "127.0.0.1:$redis_port" --no-replays \
    --status-interval 0 --duration 60 --nickname-lease-ms 1500 --resume-grace-ms 10000 \
    >"$work/$2" 2>&1 &
}
lobby "$port_a" lobby-a.log
lobby_a=$!
wait_for "$work/lobby-a.log" "^lobby on" 20 || fail "lobby A did not start"
lobby "$port_b" lobby-b.log
wait_for "$work/lobby-b.log" "^lobby on" 20 || fail "lobby B did not start"

# Leaks are not counted for the client under the sanitizers (see screenshot_test.sh).
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" xvfb-run -a -s "-screen 0 1280x720x24" \
  "$client" --lobby "127.0.0.1:$port_a,127.0.0.1:$port_b" --name faithful --room kept --create \
  --duration 30 >"$work/client.log" 2>&1 &
wait_for "$work/client.log" "welcome, faithful" 30 || fail "the client got no welcome from A"
# Its room is made once it is welcomed: wait until B (the shared state) lists it.
for _ in $(seq 200); do
  lists_room && break
  sleep 0.05
done
lists_room || fail "B never listed the room"

kill -9 "$lobby_a"
wait_for "$work/client.log" "reconnected: back in your seat" 20 ||
  fail "the client did not resume its seat on B after A was killed"
grep -q "connecting to the lobby at 127.0.0.1:$port_b" "$work/client.log" ||
  fail "the client did not go to B"
# The room, which only the killed lobby's player held, is still there on B.
lists_room || fail "the room was lost"
echo "PASS: lobby A was killed, the client resumed its seat on lobby B"
