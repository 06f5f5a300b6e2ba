#!/usr/bin/env bash
# The cubes example: the client's replicated world must hash like the server's at the same tick.
#   cubes_example_test.sh CUBES
set -euo pipefail
out=$("$1")
echo "$out"
server=$(echo "$out" | sed -n 's/^server: world hash at tick \([0-9]* *: *[0-9a-f]*\)$/\1/p')
client=$(echo "$out" | sed -n 's/^client: world hash at tick \([0-9]* *: *[0-9a-f]*\)$/\1/p')
[ -n "$server" ] || { echo "FAIL: the server printed no hash"; exit 1; }
[ "$server" = "$client" ] || { echo "FAIL: server $server, client $client"; exit 1; }
echo "PASS: server and client agree on the world at tick $server"
