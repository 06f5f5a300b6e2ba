#!/usr/bin/env bash
# Replays over the lobby's HTTP, with curl: GET /api/replays lists the folder's replays with their
# download URLs; GET /replays/NAME downloads one byte for byte (Content-Type, Content-Length,
# ETag), HEAD the same headers without it, a Range gives 206 with Content-Range, a range past the
# end 416, If-None-Match with the ETag 304. Paths that try to leave the folder (.., %-escapes, a
# symlink, a name that is not a replay's) are refused and counted, while an honest download at the
# same time is unaffected.
#   replay_http_test.sh SERVER
set -euo pipefail
server=$1
source "$(dirname "$0")/demo_lib.sh"
lobby_port=17860  # each demo test has ports of its own: ctest runs them side by side

mkdir "$work/replays"
name=20260101-120000-000-match-7.twreplay
# Over a few chunks of the server's 64 KiB streaming, and not a multiple of it.
head -c 300001 /dev/urandom >"$work/replays/$name"
echo "secret" >"$work/secret.txt"
echo "notes" >"$work/replays/notes.txt"
ln -s "$work/secret.txt" "$work/replays/link.twreplay"
token=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$token" >"$work/tokens"

"$server" --role lobby --bind 127.0.0.1 --lobby-port $lobby_port --game-server 127.0.0.1:1 \
  --insecure-plaintext --key-file "$work/ticket.key" --replay-dir "$work/replays" --upload-tokens "$work/tokens" --duration 60 \
  --status-interval 0 >"$work/server.log" 2>&1 &
wait_port $lobby_port
base=http://127.0.0.1:$lobby_port

# The list: the replay (not the notes, not the link's target) with its URL.
list=$(curl -sf "$base/api/replays")
echo "$list" | grep -q "\"url\":\"/replays/$name\"" || fail "list lacks $name: $list"
echo "$list" | grep -q '"bytes":300001' || fail "list lacks the size: $list"
if echo "$list" | grep -q notes; then fail "a file that is not a replay is listed: $list"; fi

# The whole file, byte for byte, with its headers.
curl -sf -D "$work/head" -o "$work/got" "$base/replays/$name"
cmp "$work/got" "$work/replays/$name" || fail "download differs"
grep -qi '^content-type: application/octet-stream' "$work/head" || fail "content type: $(cat "$work/head")"
grep -qi '^content-length: 300001' "$work/head" || fail "content length: $(cat "$work/head")"
grep -qi '^accept-ranges: bytes' "$work/head" || fail "accept-ranges: $(cat "$work/head")"
etag=$(sed -n 's/^[Ee][Tt][Aa][Gg]: \(.*\)\r$/\1/p' "$work/head")
[ -n "$etag" ] || fail "no ETag: $(cat "$work/head")"

# A range: 206, exactly those bytes.
code=$(curl -s -o "$work/part" -D "$work/head" -w '%{http_code}' -H 'Range: bytes=70000-140009' \
  "$base/replays/$name")
[ "$code" = 206 ] || fail "range answered $code"
grep -qi '^content-range: bytes 70000-140009/300001' "$work/head" || fail "content-range: $(cat "$work/head")"
cmp "$work/part" <(tail -c +70001 "$work/replays/$name" | head -c 70010) || fail "range bytes differ"
# The last 10 bytes.
curl -s -o "$work/tail" -H 'Range: bytes=-10' "$base/replays/$name"
cmp "$work/tail" <(tail -c 10 "$work/replays/$name") || fail "suffix range differs"
# Past the end: 416 with the size.
code=$(curl -s -o /dev/null -D "$work/head" -w '%{http_code}' -H 'Range: bytes=300001-' \
  "$base/replays/$name")
[ "$code" = 416 ] || fail "range past the end answered $code"
grep -qi '^content-range: bytes \*/300001' "$work/head" || fail "416 content-range: $(cat "$work/head")"
# Resuming a cut download, as curl -C does.
head -c 123456 "$work/replays/$name" >"$work/resumed"
curl -sf -C - -o "$work/resumed" "$base/replays/$name"
cmp "$work/resumed" "$work/replays/$name" || fail "resumed download differs"

# Revalidation: the same ETag is 304 with no body; another is the file.
code=$(curl -s -o "$work/body" -w '%{http_code}' -H "If-None-Match: $etag" "$base/replays/$name")
[ "$code" = 304 ] || fail "If-None-Match answered $code"
[ ! -s "$work/body" ] || fail "304 with a body"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'If-None-Match: "other"' "$base/replays/$name")
[ "$code" = 200 ] || fail "another ETag answered $code"

# Paths that try to leave the folder, while an honest download goes on.
curl -sf -o "$work/honest" --limit-rate 200k "$base/replays/$name" &
honest=$!
for path in "/replays/../secret.txt" "/replays/..%2Fsecret.txt" "/replays/%2e%2e/secret.txt" \
  "/replays/../../../../etc/passwd"; do
  code=$(curl -s --path-as-is -o "$work/body" -w '%{http_code}' "$base$path")
  [ "$code" = 403 ] || fail "$path answered $code"
  if grep -q secret "$work/body"; then fail "$path leaked the file"; fi
done
for path in "/replays/notes.txt" "/replays/link.twreplay" "/replays/missing.twreplay" \
  "/replays/" "/replays/a.b.twreplay"; do
  code=$(curl -s --path-as-is -o "$work/body" -w '%{http_code}' "$base$path")
  [ "$code" = 404 ] || fail "$path answered $code"
  if grep -q secret "$work/body"; then fail "$path leaked the file"; fi
done
# Four 403s above; here the name that is not a replay's (three of them) and the link are refused
# and counted too, the missing replay is an honest 404 and is not.
wait $honest || fail "the honest download failed"
cmp "$work/honest" "$work/replays/$name" || fail "the honest download differs"
# Read whole before grep looks: `curl | grep -q` fails under pipefail when grep stops reading
# before curl has written the rest.
metrics=$(curl -sf "$base/metrics")
grep -q 'reason="http_path_refused"} 8' <<<"$metrics" ||
  fail "refused paths not counted: $(grep http_path <<<"$metrics")"
# Uploads: with the token stored under the name and listed; without it 401, nothing stored.
# The lobby allows an address a burst of 20 HTTP requests, then 10 a second, and this test has
# made about 20 by now: on a fast machine the next would get 429. Let the bucket refill.
sleep 2.5
head -c 2000000 /dev/urandom >"$work/upload.twreplay"
code=$(curl -s -o /dev/null -w '%{http_code}' -T "$work/upload.twreplay" \
  -H "Authorization: Bearer $token" -H 'Content-Type: application/octet-stream' \
  "$base/replays/uploaded-1.twreplay")
[ "$code" = 201 ] || fail "upload answered $code"
cmp "$work/upload.twreplay" "$work/replays/uploaded-1.twreplay" || fail "uploaded file differs"
list=$(curl -sf "$base/api/replays")
grep -q '"url":"/replays/uploaded-1.twreplay"' <<<"$list" || fail "upload not listed: $list"
# HEAD: its size and ETag, and no body.
curl -sf -I -o "$work/head" "$base/replays/uploaded-1.twreplay"
grep -qi '^content-length: 2000000' "$work/head" || fail "HEAD length: $(cat "$work/head")"
grep -qi '^etag: "' "$work/head" || fail "HEAD etag: $(cat "$work/head")"
code=$(curl -s -o /dev/null -w '%{http_code}' -T "$work/upload.twreplay" \
  -H 'Content-Type: application/octet-stream' "$base/replays/uploaded-2.twreplay")
[ "$code" = 401 ] || fail "upload without a token answered $code"
[ ! -e "$work/replays/uploaded-2.twreplay" ] || fail "an unauthenticated upload was stored"
if ls -A "$work/replays" | grep -q '^\.upload-'; then fail "a partial upload was left behind"; fi
echo "replay HTTP: ok"
