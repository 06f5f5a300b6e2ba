#!/usr/bin/env bash
# The lobby and the game server as two processes sharing the ticket key through a key file: the
# game server registers with the lobby over the wire (signed with its identity key, which the
# lobby's allow-list file names, and with the seal public key of its own key file), bots play an
# encrypted match on it, and the lobby hears when the match is over (the room is back in the
# lobby, not "in match").
#   split_roles_test.sh SERVER BOT
set -euo pipefail
server=$1
bot=$2
source "$(dirname "$0")/demo_lib.sh"
lobby_port=17730
game_port=17731

# The game server first: it makes its identity key and prints the public half, which the
# operator lists in the lobby's allow-list file. Until the lobby is up it retries.
"$server" --role game --bind 127.0.0.1 --game-port $game_port --no-beacon --metrics-port 0 \
  --lobby 127.0.0.1:$lobby_port --key-file "$work/ticket.key" \
  --identity-key-file "$work/identity.key" \
  --seal-key-file "$work/seal.key" --match-seconds 4 --duration 26 --status-interval 0 \
  >"$work/game.log" 2>&1 &
game_pid=$!
wait_for "registering with identity key" "$work/game.log" 10
identity=$(sed -n 's/^registering with identity key \([0-9a-f]\{64\}\)$/\1/p' "$work/game.log")
printf '# game servers that may register\n%s arena-1\n' "$identity" >"$work/game-servers.keys"

"$server" --role lobby --bind 127.0.0.1 --lobby-port $lobby_port \
  --game-server-keys "$work/game-servers.keys" --max-game-server-capacity 64 \
  --key-file "$work/ticket.key" --duration 25 --status-interval 0 >"$work/lobby.log" 2>&1 &
lobby_pid=$!
wait_for "registered with the lobby" "$work/game.log" 15
# Nothing secret on either command line (ps shows it to every user).
for pid in $game_pid $lobby_pid; do
  for key in ticket.key identity.key seal.key; do
    if tr '\0' ' ' </proc/$pid/cmdline | grep -qF "$(cat "$work/$key")"; then
      echo "FAIL: $key on a command line"
      exit 1
    fi
  done
done

status=0
"$bot" --lobby-port $lobby_port -n 2 --room split --duration 15 >"$work/bots.log" 2>&1 || status=$?
# The room is back in the lobby once the game server reported the end of its match.
rooms=$(exec 3<>/dev/tcp/127.0.0.1/$lobby_port &&
  printf 'GET /api/rooms HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3 && cat <&3)
kill -INT $game_pid $lobby_pid
wait $game_pid $lobby_pid || true
cat "$work/lobby.log" "$work/game.log" "$work/bots.log"
echo "$rooms" | tail -1

[ "$(stat -c %a "$work/ticket.key")" = 600 ] || fail "the key file is readable by others"
[ "$(stat -c %a "$work/seal.key")" = 600 ] || fail "the seal key file is readable by others"
[ "$(stat -c %a "$work/identity.key")" = 600 ] || fail "the identity key file is readable by others"
[ -n "$identity" ] || fail "the game server did not print its identity key"
grep -q "game servers may register with 1 allowed key(s)" "$work/lobby.log" ||
  fail "the lobby did not read its allow-list"
grep -q "game sessions encrypted; seal public key [0-9a-f]\{64\}" "$work/game.log" ||
  fail "the game server did not say it encrypts"
[ "$status" -eq 0 ] || fail "tickwire-bot exited with $status"
grep -q "2 of 2 bots joined the match, 2 saw it finish, 0 failed" "$work/bots.log" ||
  fail "the bots did not play the match on the registered game server"
grep -q "tickets name 127.0.0.1:$game_port" "$work/game.log" || fail "unexpected game address"
# A room with two members whose match is over, or none at all (the bots left): never in match.
if echo "$rooms" | grep -q '"in_match":true'; then fail "the room still shows its match"; fi
echo "PASS: separate lobby and game server, shared key, signed registration with the seal key and match end over the wire"
