#!/usr/bin/env bash
# Replays in a fleet: a --role game server registered with a --role lobby process sends each
# replay it records to the lobby (PUT /replays/NAME with the token of --replay-upload-token), so
# the lobby's /api/replays lists the matches its game servers played. The lobby is down when the
# match ends: the upload is retried with backoff, the local copy kept meanwhile; once the lobby
# is back it stores the replay, which downloads byte for byte as the game server recorded it and
# plays (headless, every recorded state hash checked); the game server's copy is then deleted.
#   replay_fleet_test.sh SERVER BOT REPLAY_CHECK
set -euo pipefail
server=$1
bot=$2
check=$3
source "$(dirname "$0")/demo_lib.sh"
lobby_port=17780
game_port=17781
printf '# may upload replays\n%s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  >"$work/tokens"
grep -v '^#' "$work/tokens" >"$work/game-token"
chmod 600 "$work/tokens" "$work/game-token"

"$server" --role game --bind 127.0.0.1 --game-port $game_port --no-beacon --metrics-port 0 \
  --lobby 127.0.0.1:$lobby_port --key-file "$work/ticket.key" \
  --identity-key-file "$work/identity.key" --seal-key-file "$work/seal.key" \
  --replay-dir "$work/game-replays" --replay-upload-token "$work/game-token" \
  --match-seconds 3 --duration 45 --status-interval 0 >"$work/game.log" 2>&1 &
game_pid=$!
wait_for "registering with identity key" "$work/game.log" 5
identity=$(sed -n 's/^registering with identity key \([0-9a-f]\{64\}\)$/\1/p' "$work/game.log")
printf '%s arena-1\n' "$identity" >"$work/game-servers.keys"

start_lobby() {  # LOG
  "$server" --role lobby --bind 127.0.0.1 --lobby-port $lobby_port \
    --game-server-keys "$work/game-servers.keys" --key-file "$work/ticket.key" \
    --replay-dir "$work/lobby-replays" --upload-tokens "$work/tokens" --duration 40 \
    --status-interval 0 >"$1" 2>&1 &
  lobby_pid=$!
}
start_lobby "$work/lobby1.log"
wait_for "registered with the lobby" "$work/game.log" 10
"$bot" --lobby-port $lobby_port -n 2 --room fleet --duration 20 >"$work/bots.log" 2>&1 &

# The match is being recorded: take the lobby away until its replay has failed to go.
wait_until 10 "the match was not recorded" compgen -G "$work/game-replays/*.twreplay.part"
kill -KILL $lobby_pid
wait $lobby_pid 2>/dev/null || true
wait_for "replay upload: .* failed (.*), retrying in" "$work/game.log" 15
replay=$(ls "$work"/game-replays/*.twreplay | head -1)
name=$(basename "$replay")
cp "$replay" "$work/recorded.twreplay"

start_lobby "$work/lobby2.log"
wait_for "replay upload: $name stored by the lobby" "$work/game.log" 15
[ ! -e "$replay" ] || fail "the game server kept its copy of a stored replay"
list=$(curl -sf "http://127.0.0.1:$lobby_port/api/replays")
echo "$list" | grep -q "\"url\":\"/replays/$name\"" || fail "the lobby does not list $name: $list"
curl -sf -o "$work/downloaded.twreplay" "http://127.0.0.1:$lobby_port/replays/$name" ||
  fail "the download failed"
cmp "$work/downloaded.twreplay" "$work/recorded.twreplay" ||
  fail "the lobby's copy differs from the game server's recording"
"$check" "$work/downloaded.twreplay" >"$work/check.log" 2>&1 || fail "the replay does not play"
grep -q "complete" "$work/check.log" || fail "the replay is not a finished one"
# The token went through a file, never a command line.
if tr '\0' ' ' </proc/$game_pid/cmdline | grep -qF "$(cat "$work/game-token")"; then
  fail "the upload token is on the game server's command line"
fi
kill -INT $game_pid $lobby_pid
wait $game_pid $lobby_pid || true
cat "$work/check.log"
echo "PASS: a game server's replay reached its lobby after the lobby came back, identical"
