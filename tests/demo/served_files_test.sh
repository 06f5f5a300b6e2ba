#!/usr/bin/env bash
# The operator's files over the lobby's HTTP (tickwire-server --files-dir), with curl: GET
# /api/files lists them (name, bytes, modified time, URL); GET /files/NAME downloads one byte for
# byte with the Content-Type of its extension and its Content-Length; HEAD says the same without a
# body; Range gives 206 (416 past the end); If-None-Match with the ETag gives 304. Hidden files,
# links, subfolders and paths that try to leave the folder are refused and counted in /metrics,
# while an honest download at the same time is unaffected.
#   served_files_test.sh SERVER
set -euo pipefail
server=$1
source "$(dirname "$0")/demo_lib.sh"
lobby_port=17861  # each demo test has ports of its own: ctest runs them side by side
# The lobby allows an address a burst of 20 HTTP requests, then 10 a second: the bucket refills
# between the two halves (10 and 12 requests) so that no answer here is a 429.
refill() { sleep 2.5; }

files="$work/files"
mkdir "$files" "$files/maps"
map=arena-dunes.v2.map
pack=mod-pack.zip
# Over a few chunks of the server's 64 KiB streaming, and not a multiple of it.
head -c 200003 /dev/urandom >"$files/$map"
head -c 5000 /dev/urandom >"$files/$pack"
echo '{"motd":"hello"}' >"$files/motd.json"
echo "secret" >"$work/secret.txt"
echo "hidden" >"$files/.hidden"
echo "inner" >"$files/maps/inner.map"
ln -s "$work/secret.txt" "$files/link.txt"

# A folder that does not exist is refused at start, naming the option's field.
if "$server" --role lobby --bind 127.0.0.1 --lobby-port $lobby_port --game-server 127.0.0.1:1 \
  --insecure-plaintext --key-file "$work/ticket.key" --files-dir "$work/missing" --duration 5 \
  --status-interval 0 >"$work/bad.log" 2>&1; then
  fail "a missing --files-dir was accepted"
fi
grep -q files_directory "$work/bad.log" || fail "the refusal does not name the field: $(cat "$work/bad.log")"

"$server" --role lobby --bind 127.0.0.1 --lobby-port $lobby_port --game-server 127.0.0.1:1 \
  --insecure-plaintext --key-file "$work/ticket.key" --no-replays --files-dir "$files" \
  --duration 60 --status-interval 0 >"$work/server.log" 2>&1 &
wait_port $lobby_port
base=http://127.0.0.1:$lobby_port

# The list: the three plain files with their URLs and sizes; not the hidden one, the link or the
# subfolder.
list=$(curl -sf "$base/api/files")
echo "$list" | grep -q "\"name\":\"$map\",\"bytes\":200003,\"modified_unix_ms\":[0-9]*,\"url\":\"/files/$map\"" ||
  fail "list lacks $map: $list"
echo "$list" | grep -q "\"url\":\"/files/$pack\"" || fail "list lacks $pack: $list"
echo "$list" | grep -q '"url":"/files/motd.json"' || fail "list lacks motd.json: $list"
for name in .hidden link.txt maps; do
  if echo "$list" | grep -q "\"$name\""; then fail "$name is listed: $list"; fi
done

# Whole files, byte for byte, each with the Content-Type of its extension and its length.
curl -sf -D "$work/head" -o "$work/got" "$base/files/$map"
cmp "$work/got" "$files/$map" || fail "download differs"
grep -qi '^content-type: application/octet-stream' "$work/head" || fail "map content type: $(cat "$work/head")"
grep -qi '^content-length: 200003' "$work/head" || fail "content length: $(cat "$work/head")"
etag=$(sed -n 's/^[Ee][Tt][Aa][Gg]: \(.*\)\r$/\1/p' "$work/head")
[ -n "$etag" ] || fail "no ETag: $(cat "$work/head")"
curl -sf -D "$work/head" -o "$work/got" "$base/files/$pack"
cmp "$work/got" "$files/$pack" || fail "pack differs"
grep -qi '^content-type: application/zip' "$work/head" || fail "zip content type: $(cat "$work/head")"
grep -qi '^content-length: 5000' "$work/head" || fail "zip length: $(cat "$work/head")"
curl -sf -D "$work/head" -o "$work/got" "$base/files/motd.json"
grep -qi '^content-type: application/json' "$work/head" || fail "json content type: $(cat "$work/head")"
# HEAD: the same length and ETag, no body.
curl -sf -I -o "$work/head" "$base/files/$map"
grep -qi '^content-length: 200003' "$work/head" || fail "HEAD length: $(cat "$work/head")"
grep -qi "^etag: $etag" "$work/head" || fail "HEAD etag: $(cat "$work/head")"

# A range: 206, exactly those bytes; past the end 416 with the size.
code=$(curl -s -o "$work/part" -D "$work/head" -w '%{http_code}' -H 'Range: bytes=65530-131079' \
  "$base/files/$map")
[ "$code" = 206 ] || fail "range answered $code"
grep -qi '^content-range: bytes 65530-131079/200003' "$work/head" || fail "content-range: $(cat "$work/head")"
grep -qi '^content-length: 65550' "$work/head" || fail "range length: $(cat "$work/head")"
cmp "$work/part" <(tail -c +65531 "$files/$map" | head -c 65550) || fail "range bytes differ"
code=$(curl -s -o /dev/null -D "$work/head" -w '%{http_code}' -H 'Range: bytes=200003-' \
  "$base/files/$map")
[ "$code" = 416 ] || fail "range past the end answered $code"
grep -qi '^content-range: bytes \*/200003' "$work/head" || fail "416 content-range: $(cat "$work/head")"
# Revalidation: the same ETag is 304 with no body; another is the file.
code=$(curl -s -o "$work/body" -w '%{http_code}' -H "If-None-Match: $etag" "$base/files/$map")
[ "$code" = 304 ] || fail "If-None-Match answered $code"
[ ! -s "$work/body" ] || fail "304 with a body"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'If-None-Match: "other"' "$base/files/$map")
[ "$code" = 200 ] || fail "another ETag answered $code"
# Only GET and HEAD.
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$base/files/$map")
[ "$code" = 405 ] || fail "DELETE answered $code"
refill

# Attacks, while an honest download goes on.
curl -sf -o "$work/honest" --limit-rate 100k "$base/files/$map" &
honest=$!
for path in "/files/../secret.txt" "/files/..%2Fsecret.txt" "/files/%2e%2e/secret.txt" \
  "/files/maps%2Finner.map"; do
  code=$(curl -s --path-as-is -o "$work/body" -w '%{http_code}' "$base$path")
  [ "$code" = 403 ] || fail "$path answered $code"
  if grep -q secret "$work/body"; then fail "$path leaked the file"; fi
done
for path in "/files/.hidden" "/files/link.txt" "/files/maps" "/files/maps/inner.map" "/files/"; do
  code=$(curl -s --path-as-is -o "$work/body" -w '%{http_code}' "$base$path")
  [ "$code" = 404 ] || fail "$path answered $code"
  if grep -qE 'secret|hidden|inner' "$work/body"; then fail "$path leaked a file"; fi
done
# A file that is not there is an honest 404, not counted.
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/files/missing.map")
[ "$code" = 404 ] || fail "a missing file answered $code"
wait $honest || fail "the honest download failed"
cmp "$work/honest" "$files/$map" || fail "the honest download differs"
# Four 403s and five refusals by name, link or kind: nine.
# Read whole before grep looks: `curl | grep -q` fails under pipefail when grep stops reading
# before curl has written the rest.
metrics=$(curl -sf "$base/metrics")
grep -q 'reason="http_path_refused"} 9' <<<"$metrics" ||
  fail "refused paths not counted: $(grep http_path <<<"$metrics")"
echo "served files: ok"
