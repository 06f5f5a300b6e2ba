#!/usr/bin/env bash
# Play where UDP cannot reach: the server and 4 bots in a network namespace of their own whose
# firewall (nftables) drops every UDP datagram. The bots go through the lobby (TCP), try the game
# server over UDP, get no answer, fall back to its WebSocket endpoint that MatchStart names, and
# play the match to its end there. Needs root and nft (scripts/deps.sh installs nftables);
# without them it is skipped (exit 77).
#   udp_blocked_test.sh SERVER BOT
set -euo pipefail
server=$1
bot=$2
work=$(mktemp -d)
ns=tw-noudp-$$
lobby_port=17750
game_port=17751
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ] || ! command -v nft >/dev/null || ! ip netns add "$ns" 2>/dev/null; then
  echo "SKIP: needs root, ip netns and nft (nftables) to block UDP in a namespace of its own"
  exit 77
fi
in_ns=(ip netns exec "$ns")
"${in_ns[@]}" ip link set lo up
# Every UDP datagram dropped, counted so that the test can show UDP was tried and blocked.
"${in_ns[@]}" nft -f - <<'RULES'
table inet tickwire_test {
  chain input {
    type filter hook input priority 0; policy accept;
    meta l4proto udp counter drop
  }
}
RULES

"${in_ns[@]}" "$server" --bind 127.0.0.1 --no-beacon --lobby-port $lobby_port \
  --game-port $game_port --metrics-port 0 --max-per-address 16 --match-seconds 8 --duration 40 \
  --status-interval 5 >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 50); do
  if "${in_ns[@]}" bash -c "exec 3<>/dev/tcp/127.0.0.1/$lobby_port" 2>/dev/null; then break; fi
  sleep 0.1
done

status=0
"${in_ns[@]}" "$bot" --lobby-port $lobby_port -n 4 --room no-udp --duration 35 \
  >"$work/bots.log" 2>&1 || status=$?
# While the server still runs: its /metrics must count the WebSocket players' traffic.
metrics_address=$(sed -n 's|^metrics on http://\([^/]*\)/metrics.*|\1|p' "$work/server.log")
metrics_status=0
"${in_ns[@]}" /usr/bin/python3 "$(dirname "$0")/check_metrics.py" "$metrics_address" 1 websocket ||
  metrics_status=$?
kill -INT $server_pid
wait $server_pid || true
cat "$work/server.log" "$work/bots.log"
dropped=$("${in_ns[@]}" nft list table inet tickwire_test | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')

fail() { echo "FAIL: $*"; exit 1; }
[ "$status" -eq 0 ] || fail "tickwire-bot exited with $status"
grep -q "4 of 4 bots joined the match, 4 saw it finish, 0 failed" "$work/bots.log" ||
  fail "not every bot joined and saw the match finish"
[ "${dropped:-0}" -gt 0 ] || fail "no UDP datagram was dropped: the bots never tried UDP"
rows=$(awk '$1 ~ /^bot-/ && $(NF - 1) == "websocket"' "$work/bots.log" | wc -l)
[ "$rows" -eq 4 ] || fail "$rows of 4 bots played over WebSocket"
[ "$metrics_status" -eq 0 ] || fail "the game server's /metrics (above)"
echo "PASS: with every UDP datagram dropped ($dropped), 4 bots played a match over WebSocket"
