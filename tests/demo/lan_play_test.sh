#!/usr/bin/env bash
# LAN play across a real broadcast domain: the server and the players on separate network
# namespaces joined by a bridge (each namespace its own host with its own address). The server
# announces itself by broadcast beacon; the bots hear it, reach its lobby at the beacon's sender
# address, get tickets naming the server's LAN address (which the server finds by itself), and
# play a short match. The beacon is signed: the bots list the server as verified and pin its key
# in a known-servers file (kept in the test's directory, like the server's identity key). Then an
# impostor takes the real server's place with its name and another key: the bots refuse it. Without root or `ip netns` it falls back to loopback and says so.
#   lan_play_test.sh SERVER BOT
set -euo pipefail
server=$1
bot=$2
log_dir=$(mktemp -d)
suffix=$$
ns_bridge=tw-br-$suffix
ns_server=tw-srv-$suffix
ns_players=tw-cli-$suffix

cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  for ns in $ns_bridge $ns_server $ns_players; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$log_dir"
}
trap cleanup EXIT

use_netns=0
# TICKWIRE_LAN_TEST_LOOPBACK=1 forces the loopback fallback (to test it, or on a shared host).
if [ "${TICKWIRE_LAN_TEST_LOOPBACK:-0}" != 1 ] && [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null && ip netns add "$ns_bridge" 2>/dev/null; then
  use_netns=1
fi

if [ $use_netns -eq 1 ]; then
  echo "LAN test: network namespaces $ns_server and $ns_players on a bridge in $ns_bridge (10.77.0.0/24)"
  ip netns add "$ns_server"
  ip netns add "$ns_players"
  ip -n "$ns_bridge" link add br0 type bridge
  ip -n "$ns_bridge" link set br0 up
  address=1
  for ns in $ns_server $ns_players; do
    ip link add "v$address-$suffix" type veth peer name "b$address-$suffix"
    ip link set "v$address-$suffix" netns "$ns"
    ip link set "b$address-$suffix" netns "$ns_bridge"
    ip -n "$ns_bridge" link set "b$address-$suffix" master br0 up
    ip -n "$ns" link set "v$address-$suffix" name eth0
    ip -n "$ns" addr add "10.77.0.$address/24" broadcast 10.77.0.255 dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    address=$((address + 1))
  done
  in_server=(ip netns exec "$ns_server")
  in_players=(ip netns exec "$ns_players")
  bind=0.0.0.0
  beacon=10.77.0.255
  expected_host=10.77.0.1
else
  echo "LAN test: no network namespaces (needs root and ip netns; or TICKWIRE_LAN_TEST_LOOPBACK=1): falling back to loopback"
  in_server=()
  in_players=()
  bind=127.0.0.1
  beacon=127.255.255.255
  expected_host=127.0.0.1
fi

"${in_server[@]}" "$server" --bind $bind --beacon-address $beacon --discovery-port 17779 --metrics-port 0 \
  --lobby-port 17720 --game-port 17721 --name "LAN test" --match-seconds 5 --duration 20 \
  --identity-key-file "$log_dir/identity.key" --status-interval 0 >"$log_dir/server.log" 2>&1 &
server_pid=$!

status=0
"${in_players[@]}" "$bot" --lan --discovery-port 17779 --lan-wait 8 -n 3 --room lan \
  --known-servers "$log_dir/known-servers" --duration 15 >"$log_dir/bots.log" 2>&1 || status=$?
kill -INT $server_pid
wait $server_pid || true
cat "$log_dir/server.log" "$log_dir/bots.log"

fail() { echo "FAIL: $*"; exit 1; }
[ "$status" -eq 0 ] || fail "tickwire-bot exited with $status"
grep -q "LAN: found \"LAN test\" at $expected_host " "$log_dir/bots.log" ||
  fail "the bots did not find the server at $expected_host by its beacon"
key=$(sed -n 's/.*signed by server key \(.*\)$/\1/p' "$log_dir/server.log")
[ -n "$key" ] || fail "the server did not say which key signs its beacons"
grep -q "LAN: found \"LAN test\" at $expected_host .*verified key $key, new: pinned now" \
  "$log_dir/bots.log" || fail "the bots did not verify the server's key ($key) and pin it"
grep -q " LAN test$" "$log_dir/known-servers" || fail "the known-servers file does not pin the server"
grep -q "tickets name $expected_host:17721" "$log_dir/server.log" ||
  fail "the server did not name its LAN address in tickets"
grep -q "3 of 3 bots joined the match, 3 saw it finish, 0 failed" "$log_dir/bots.log" ||
  fail "the bots did not all play the match"

# The real server is gone; an impostor announces its name with a key of its own.
"${in_server[@]}" "$server" --bind $bind --beacon-address $beacon --discovery-port 17779 --metrics-port 0 \
  --lobby-port 17722 --game-port 17723 --name "LAN test" --duration 15 \
  --identity-key-file "$log_dir/impostor.key" --status-interval 0 >"$log_dir/impostor.log" 2>&1 &
impostor_pid=$!
for _ in $(seq 100); do
  grep -q "^LAN beacon to" "$log_dir/impostor.log" && break
  sleep 0.05
done
impostor_status=0
"${in_players[@]}" "$bot" --lan --discovery-port 17779 --lan-wait 3 -n 1 --room lan \
  --known-servers "$log_dir/known-servers" --duration 5 >"$log_dir/impostor-bots.log" 2>&1 ||
  impostor_status=$?
kill -INT $impostor_pid
wait $impostor_pid || true
cat "$log_dir/impostor.log" "$log_dir/impostor-bots.log"
[ "$impostor_status" -ne 0 ] || fail "the bot joined the impostor"
grep -q "LAN: found" "$log_dir/impostor-bots.log" && fail "the bot listed the impostor"
grep -Eq "impostors [1-9][0-9]*\)" "$log_dir/impostor-bots.log" ||
  fail "the bot did not count the impostor's beacons as impostors"
if [ $use_netns -eq 1 ]; then
  echo "PASS: LAN play across network namespaces"
else
  echo "PASS: LAN play over loopback (network namespaces unavailable)"
fi
