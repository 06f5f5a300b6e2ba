#!/usr/bin/env bash
# tickwire-server's registration flags: no flag takes a secret (--secret is refused), the lobby's
# allow-list file (--game-server-keys) is checked when it starts, and a lobby refuses a game server
# whose key it does not list, one that claims more than --max-game-server-capacity, and one that
# names another address, unless --allow-any-registered-address.
#   registration_flags_test.sh SERVER
set -euo pipefail
server=$1
source "$(dirname "$0")/demo_lib.sh"
lobby_port=17740
open_lobby_port=17741

# Refused command lines, each with a message that says why.
refused() {
  local expect=$1
  shift
  if "$server" "$@" >"$work/out.log" 2>&1; then fail "accepted: $*"; fi
  grep -q -- "$expect" "$work/out.log" || { cat "$work/out.log"; fail "no '$expect' for: $*"; }
}
refused "--secret" --role lobby --secret s3cret --game-server 127.0.0.1:7777 --insecure-plaintext
refused "allow-list" --role game --game-server-keys "$work/none" --lobby 127.0.0.1:1
refused "--game-server-keys" --role lobby --game-server 127.0.0.1:7777 --insecure-plaintext \
  --allow-any-registered-address
printf '# ok\nnot-a-key server-1\n' >"$work/bad.keys"
refused "line 2" --role lobby --game-server-keys "$work/bad.keys" --key-file "$work/ticket.key" \
  --bind 127.0.0.1 --lobby-port $lobby_port --duration 1

# A game server's identity key: made at its first start, its public half printed.
identity_of() {
  "$server" --role game --bind 127.0.0.1 --game-port 17742 --no-beacon --metrics-port 0 --insecure-plaintext \
    --lobby 127.0.0.1:1 --key-file "$work/ticket.key" --identity-key-file "$1" --duration 0.2 \
    --status-interval 0 | sed -n 's/^registering with identity key \([0-9a-f]\{64\}\)$/\1/p'
}
listed=$(identity_of "$work/listed.key")
identity_of "$work/stranger.key" >/dev/null
[ -n "$listed" ] || fail "no identity key printed"
printf '%s arena-1\n' "$listed" >"$work/game-servers.keys"

"$server" --role lobby --bind 127.0.0.1 --lobby-port $lobby_port --key-file "$work/ticket.key" \
  --game-server-keys "$work/game-servers.keys" --max-game-server-capacity 16 --duration 30 \
  --status-interval 0 >"$work/lobby.log" 2>&1 &
"$server" --role lobby --bind 127.0.0.1 --lobby-port $open_lobby_port \
  --key-file "$work/ticket.key" --game-server-keys "$work/game-servers.keys" \
  --allow-any-registered-address --duration 30 --status-interval 0 >"$work/open_lobby.log" 2>&1 &
wait_port $lobby_port
wait_port $open_lobby_port

# Starts a game server (`name`, `identity key file`, `lobby port`, more flags) and waits until its
# log holds `expect` (10 s at most: a refused server is locked out and retries every 2 s).
game_port=17743
game() {
  local name=$1 key=$2 port=$3 expect=$4
  shift 4
  game_port=$((game_port + 1))
  "$server" --role game --bind 127.0.0.1 --game-port $game_port --no-beacon --metrics-port 0 --insecure-plaintext \
    --lobby 127.0.0.1:$port --key-file "$work/ticket.key" --identity-key-file "$key" \
    --duration 12 --status-interval 0 "$@" >"$work/$name.log" 2>&1 &
  for _ in $(seq 100); do
    if grep -q -- "$expect" "$work/$name.log"; then
      kill -INT $! 2>/dev/null || true
      return 0
    fi
    sleep 0.1
  done
  cat "$work/$name.log"
  fail "$name: no '$expect'"
}
game stranger "$work/stranger.key" $lobby_port "not on the lobby's game server allow-list"
game greedy "$work/listed.key" $lobby_port "max_game_server_capacity (16)" --max-players 64
game elsewhere "$work/listed.key" $lobby_port "must be the one this connection comes from" \
  --max-players 16 --public-host 10.0.0.5
game forwarded "$work/listed.key" $open_lobby_port "registered with the lobby at .* as 10.0.0.5:" \
  --max-players 16 --public-host 10.0.0.5
grep -q "game servers may register with 1 allowed key(s), at any address" "$work/open_lobby.log" ||
  fail "the second lobby does not say it allows any address"
echo "PASS: no secret flags; the allow-list file, capacity cap and address rule of tickwire-server"
