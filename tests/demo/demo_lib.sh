# Sourced by the demo tier's scripts (`source "$(dirname "$0")/demo_lib.sh"`): a scratch folder
# `$work` that goes, with every background job, when the script exits; `fail`, which shows the
# end of every log in `$work` so that a failure in CI can be read without rerunning it; and the
# waits the scripts share. Each wait polls with a deadline in seconds and fails naming what it
# waited for: CI is a loaded machine, so deadlines are generous and never a measure.
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

fail() {
  echo "FAIL: $*"
  tail -n 30 "$work"/*.log 2>/dev/null || true
  exit 1
}

wait_until() {  # SECONDS WHAT COMMAND...: until COMMAND succeeds
  local seconds=$1 what=$2
  shift 2
  for _ in $(seq $((seconds * 10))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "$what: not within $seconds s"
}

wait_for() {  # PATTERN FILE SECONDS: until a line of FILE matches PATTERN (grep)
  wait_until "$3" "no '$1' in $2" grep -q -- "$1" "$2"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {  # PORT [SECONDS]: until 127.0.0.1:PORT accepts a TCP connection
  wait_until "${2:-10}" "nothing listens on 127.0.0.1:$1" port_open "$1"
}
