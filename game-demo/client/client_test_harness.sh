# shellcheck shell=bash
# Sourced by the client's tests under a virtual X server (screenshot_test.sh, reconnect_test.sh,
# replay_test.sh, spectate_test.sh, served_files_test.sh): a scratch directory, a server on
# 127.0.0.1 waited for, the client under Xvfb, and at exit everything they started stopped and the
# scratch directory gone.

set -euo pipefail

work=$(mktemp -d)
# Logs that fail() prints after its message (a test adds its own).
failure_logs=()

stop_what_the_test_started() {
  local pids
  pids=$(jobs -p)
  if [ -n "$pids" ]; then
    # shellcheck disable=SC2086 # one pid a word
    kill $pids 2>/dev/null || true
  fi
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap stop_what_the_test_started EXIT
# Killed (ctest's timeout, Ctrl-C, a closed pipe): exit, so that the EXIT trap still runs.
trap 'exit 1' INT TERM HUP PIPE

show_logs() {
  local log
  for log in "$@"; do
    echo "--- $log"
    cat "$log" 2>/dev/null || true
  done
}

# Says why the test failed, shows failure_logs, and exits 1.
fail() {
  echo "FAIL: $*"
  show_logs "${failure_logs[@]}"
  exit 1
}

# The tests that may be skipped (SKIP_RETURN_CODE 77) skip where there is no virtual X server.
skip_without_xvfb() {
  command -v xvfb-run >/dev/null || {
    echo "SKIPPED: needs xvfb-run"
    exit 77
  }
}

# start_server SERVER LOG FLAGS...: SERVER in the background on 127.0.0.1 (no LAN beacon, /metrics
# on any free port) with FLAGS, its output in LOG; returns once its lobby listens, because the
# bots and the client give up when it is not there yet. Sets server_pid.
start_server() {
  local server=$1 log=$2
  shift 2
  # A stale log would fool the wait: empty it before the server starts writing.
  : >"$log"
  "$server" --bind 127.0.0.1 --no-beacon --metrics-port 0 "$@" >"$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 200); do
    grep -q "^lobby on" "$log" && return 0
    kill -0 "$server_pid" 2>/dev/null || break # it exited: the log says why
    sleep 0.05
  done
  show_logs "$log"
  fail "the server's lobby did not start listening"
}

# run_client CLIENT FLAGS...: the client under a virtual X server. Under the sanitizers
# (scripts/test.sh --sanitize) its memory errors still stop it, but leaks are not counted: the
# system libraries behind SDL's X11 driver (libdbus, libX11) keep allocations to the end of the
# process.
run_client() {
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    xvfb-run -a -s "-screen 0 1280x720x24" "$@"
}
