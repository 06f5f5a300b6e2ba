#!/usr/bin/env bash
# The client's lobby screen lists the files the server offers (--files-dir: GET /api/files) next
# to its replays and downloads one from there into its download folder (/files/NAME, with the
# progress bar a click starts), byte for byte; a hidden file of the folder is not listed.
#   served_files_test.sh SERVER CLIENT
source "$(dirname "$0")/client_test_harness.sh"
server=$1
client=$2
lobby_port=17894
game_port=17895
skip_without_xvfb

mkdir -p "$work/files"
head -c 3000017 /dev/urandom >"$work/files/arena-big.map"
printf '{"spawns":4}\n' >"$work/files/rules.json"
printf 'secret\n' >"$work/files/.hidden"
start_server "$server" "$work/server.log" --lobby-port $lobby_port --game-port $game_port \
  --insecure-plaintext --key-file "$work/ticket.key" --no-replays --files-dir "$work/files" \
  --duration 30 --status-interval 0
failure_logs=("$work/server.log" "$work/client.log")

run_client "$client" --lobby-port $lobby_port --name browser --download-dir "$work/downloads" \
  --download-file arena-big.map --duration 6 >"$work/client.log" 2>&1 ||
  fail "the client failed in the lobby"
listed=$(grep "file(s) listed by the lobby:" "$work/client.log") || fail "the lobby screen listed no files"
case "$listed" in
*" arena-big.map"*" rules.json"* | *" rules.json"*" arena-big.map"*) ;;
*) fail "the lobby screen did not list both files: $listed" ;;
esac
case "$listed" in *hidden*) fail "a hidden file was listed: $listed" ;; esac
grep -q "file saved to $work/downloads/arena-big.map" "$work/client.log" ||
  fail "the client did not say it saved arena-big.map"
cmp "$work/files/arena-big.map" "$work/downloads/arena-big.map" || fail "the downloaded file differs"
[ -z "$(ls -A "$work/downloads" | grep -v '^arena-big.map$')" ] ||
  fail "left over: $(ls -A "$work/downloads")"
echo "client served files: ok"
