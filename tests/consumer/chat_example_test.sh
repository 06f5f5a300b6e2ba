#!/usr/bin/env bash
# The chat example, two instances talking over TLS: ann hosts the lobby with a certificate made
# here for 127.0.0.1, bob joins it trusting that certificate; each says a line and must see the
# other's.
#   chat_example_test.sh CHAT
set -euo pipefail
chat=$1
work=$(mktemp -d)
trap 'exec 3>&- 4>&- || true; kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
mkfifo "$work/ann.in" "$work/bob.in"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

wait_for() {  # wait_for FILE TEXT: up to 20 s
  for _ in $(seq 200); do
    if grep -qF "$2" "$1"; then return 0; fi
    sleep 0.1
  done
  echo "FAIL: no \"$2\" in $1:"
  cat "$1"
  exit 1
}

"$chat" ann --host-lobby --port 0 --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" \
  --tls-ca "$work/cert.pem" \
  <"$work/ann.in" >"$work/ann.out" 2>&1 &
exec 3>"$work/ann.in"  # the typing ends when these close
wait_for "$work/ann.out" "lobby listening on port"
port=$(sed -n 's/^chat: lobby listening on port \([0-9]*\)$/\1/p' "$work/ann.out")
"$chat" bob --port "$port" --tls-ca "$work/cert.pem" <"$work/bob.in" >"$work/bob.out" 2>&1 &
exec 4>"$work/bob.in"
wait_for "$work/ann.out" "welcome, ann"
wait_for "$work/bob.out" "welcome, bob"

echo "hello from ann" >&3
echo "hi ann, bob here" >&4
wait_for "$work/bob.out" "ann: hello from ann"
wait_for "$work/ann.out" "bob: hi ann, bob here"
exec 3>&- 4>&-
wait
cat "$work/ann.out" "$work/bob.out"
echo "PASS: two chat instances saw each other's lines"
