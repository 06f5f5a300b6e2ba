#!/usr/bin/env bash
# A server killed mid-match (SIGKILL: no chance to finish its recording) loses no more of the
# match than the chunk it was recording: at the next start it salvages the interrupted recording
# as NAME-cut.twreplay, which the lobby lists and serves and which plays back (headless, every
# recorded state hash checked) as cut short. An interrupted recording with no whole chunk is
# deleted instead, and no ".part" is left.
#   replay_salvage_test.sh SERVER BOT REPLAY_CHECK
set -euo pipefail
server=$1
bot=$2
check=$3
source "$(dirname "$0")/demo_lib.sh"
lobby_port=17770
game_port=17771

start_server() {  # LOG: returns once the lobby listens
  "$server" --bind 127.0.0.1 --no-beacon --metrics-port 0 --lobby-port $lobby_port \
    --game-port $game_port --insecure-plaintext --key-file "$work/ticket.key" \
    --identity-key-file "$work/identity.key" --replay-dir "$work/replays" --match-seconds 60 \
    --duration 60 --status-interval 0 >"$1" 2>&1 &
  server_pid=$!
  wait_for "^lobby on" "$1" 10
}

start_server "$work/server1.log"
"$bot" --lobby-port $lobby_port -n 2 --room salvage --duration 40 >"$work/bots.log" 2>&1 &
bots_pid=$!
# The recording appears (its header) when the match begins; the first whole chunk (256 ticks,
# about 4 s) makes it grow.
part=""
for _ in $(seq 300); do
  part=$(ls "$work"/replays/*.twreplay.part 2>/dev/null | head -1 || true)
  [ -n "$part" ] && break
  sleep 0.1
done
[ -n "$part" ] || fail "no recording began"
# The header's frame: "TWREPLAY", 4 bytes of zero, its size (uint32), the FlatBuffer, padding.
for _ in $(seq 100); do
  [ "$(stat -c %s "$part")" -ge 16 ] && break
  sleep 0.05
done
header_size=$((16 + $(od -An -tu4 -j12 -N4 "$part" | tr -d ' ') + 8))
for _ in $(seq 300); do
  [ "$(stat -c %s "$part")" -gt "$header_size" ] && break
  sleep 0.1
done
[ "$(stat -c %s "$part")" -gt "$header_size" ] || fail "no chunk reached the file"
kill -KILL $server_pid
wait $server_pid 2>/dev/null || true
kill $bots_pid 2>/dev/null || true
wait $bots_pid 2>/dev/null || true

# As the crash left it, the reader refuses it; a second one holds the header only.
if "$check" "$part" >"$work/check-part.log" 2>&1; then fail "an unfinished recording was played"; fi
grep -q "truncated" "$work/check-part.log" || fail "no 'truncated' in the refusal"
head -c "$header_size" "$part" >"$work/replays/20260101-000000-000-match-99.twreplay.part"

start_server "$work/server2.log"
grep -q "salvaged 1 interrupted recording(s) as \*-cut.twreplay, deleted 1 with nothing to play" \
  "$work/server2.log" || fail "the restarted server did not salvage and delete one each"
cut_name=$(basename "${part%.twreplay.part}")-cut.twreplay
[ -f "$work/replays/$cut_name" ] || fail "no $cut_name in $(ls "$work/replays")"
[ -z "$(ls "$work/replays" | grep '\.part$' || true)" ] || fail "left over: $(ls "$work/replays")"

list=$(curl -sf "http://127.0.0.1:$lobby_port/api/replays")
echo "$list" | grep -q "\"url\":\"/replays/$cut_name\"" || fail "the lobby does not list it: $list"
curl -sf -o "$work/downloaded.twreplay" "http://127.0.0.1:$lobby_port/replays/$cut_name" ||
  fail "the download failed"
cmp "$work/downloaded.twreplay" "$work/replays/$cut_name" || fail "the download differs"
"$check" "$work/downloaded.twreplay" >"$work/check.log" 2>&1 || fail "the salvaged replay does not play"
grep -q "cut short" "$work/check.log" || fail "the salvaged replay is not marked cut short"
ticks=$(sed -n 's/.*, \([0-9]*\) ticks played.*/\1/p' "$work/check.log")
[ "${ticks:-0}" -ge 256 ] || fail "the salvaged replay holds ${ticks:-no} ticks, not a whole chunk"
kill -INT $server_pid
wait $server_pid || true
cat "$work/check.log"
echo "PASS: a recording cut by SIGKILL is salvaged, listed, downloaded and played"
