#!/usr/bin/env bash
# The client's screenshot test (ctest -L demo): a server and three bots on 127.0.0.1, the client
# under a virtual X server creating a room, starting the match with the bots and saving a frame
# of it; then a checker counts the pixels of our player, the others, the drones and the net graph
# in that frame. The PNG stays in the artifact directory for people to look at. At the same
# moment the client presses F8: the bug report (a screenshot too) must reach the server's
# --reports-dir over the game connection, named after its match, tick and player, the same bytes
# as the copy the client kept, and show the match as well.
#
# Usage: screenshot_test.sh SERVER BOT CLIENT CHECKER ARTIFACT_DIR
source "$(dirname "$0")/client_test_harness.sh"

server=$1 bot=$2 client=$3 checker=$4 artifacts=$5
# 178xx: the other demo tests use 177xx.
lobby_port=17810
game_port=17811

mkdir -p "$artifacts"
png="$artifacts/client_screenshot.png"
server_log="$artifacts/client_screenshot.server.log"
bot_log="$artifacts/client_screenshot.bot.log"
client_log="$artifacts/client_screenshot.client.log"
rm -f "$png" "$artifacts/client_bug_report.png" "$server_log" "$bot_log" "$client_log"
failure_logs=("$server_log" "$bot_log" "$client_log")

# --view-radius 0: every player and drone is sent to the client wherever the bots wander, so the
# frame has the pixels the checker counts.
reports="$work/reports"
start_server "$server" "$server_log" --lobby-port "$lobby_port" --game-port "$game_port" \
  --match-seconds 30 --duration 25 --view-radius 0 --reports-dir "$reports"

"$bot" --lobby-port "$lobby_port" --join --room shot -n 3 --duration 20 >"$bot_log" 2>&1 &

run_client "$client" --lobby-port "$lobby_port" --name tester --room shot --create --auto-ready \
  --auto-start 4 --screenshot "$png" --screenshot-after 4 --bug-report-after 4 \
  --download-dir "$work/downloads" --duration 8 >"$client_log" 2>&1 ||
  fail "the client failed"
cat "$client_log"

"$checker" "$png" || fail "the screenshot does not show the match (look at it: $png)"
echo "screenshot: $png"

grep -q "bug report sent" "$client_log" || fail "the client did not say its bug report was sent"
shopt -s nullglob
kept=("$reports"/*-match-*-tick-*-player-*.png)
local_copies=("$work"/downloads/bug-report-*.png)
[ "${#kept[@]}" -eq 1 ] || fail "the server kept ${#kept[@]} bug reports, not 1: $(ls -A "$reports")"
[ "${#local_copies[@]}" -eq 1 ] || fail "the client kept ${#local_copies[@]} copies of its report"
cmp "${kept[0]}" "${local_copies[0]}" || fail "the report the server kept differs from the client's"
grep -q "bug report: ${kept[0]}" "$server_log" || fail "the server did not say it kept the report"
cp "${kept[0]}" "$artifacts/client_bug_report.png"
"$checker" "${kept[0]}" || fail "the bug report does not show the match ($artifacts/client_bug_report.png)"
echo "bug report: ${kept[0]}"
