#!/usr/bin/env bash
# Installs what is missing, builds Tickwire with its tests into build/, and runs every test tier
# (unit, integration, soak, web, consumer, examples, bench smoke runs).
#   scripts/test.sh              every test, Release build, warnings as errors
#   scripts/test.sh --sanitize   the unit, integration and demo tiers built with ASan+UBSan
#                                (build-asan/)
#   scripts/test.sh --fuzz       the fuzz targets built with clang's libFuzzer (+ASan/UBSan), 15 s each
#   scripts/test.sh --help       this text; any other option is refused
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  sed -n '2,8s/^# \{0,1\}//p' "$0"
}
# One flag at most, and only a known one: a misspelt flag must not quietly run the full suite.
mode=
case $# in
  0) ;;
  1)
    case $1 in
      --sanitize | --fuzz) mode=$1 ;;
      -h | --help) usage; exit 0 ;;
      *) echo "scripts/test.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
    ;;
  *) echo "scripts/test.sh: one option at most, got: $*" >&2; usage >&2; exit 2 ;;
esac

scripts/deps.sh

# ccache (CMakeLists.txt uses it when installed) keys objects by their paths relative to the
# checkout, not absolute ones, so that checkouts at other paths (CI's clean clones) share them.
# With debug info (the sanitizer and fuzz builds) it would also key them by the build folder's
# absolute path, which is in the debug info: not hashing it lets those builds share objects
# too, at the price of debug info naming the folder of the checkout that built them first.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
jobs=$(nproc)
if [ "$mode" = --sanitize ]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTICKWIRE_WARNINGS_AS_ERRORS=ON \
    -DTICKWIRE_SANITIZE=address,undefined -DTICKWIRE_BUILD_BENCH=OFF
  cmake --build build-asan -j "$jobs"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  # The soak tests (long runs of real processes: the fleet's kill -9 failover, the malformed-frame
  # flood, ten thousand messages through loss) run in the Release pass only: under ASan in a Debug
  # build they cost minutes of CI and find nothing the shorter tests and the fuzzers do not.
  # The fuzz targets run in the --fuzz pass, under libFuzzer with ASan+UBSan, from the same
  # committed corpus.
  ctest --test-dir build-asan -L 'unit|integration|demo' -LE soak --output-on-failure \
    -j "$jobs"
  exit 0
fi

# npm packages of the tests that run under node, each installed from its lock file only when
# node_modules is missing or the lock file changed since the last install (the stamp holds its
# hash): playwright-core and ws for the browser tests (ctest -L web), kubernetes-models, yaml and
# dockerfile-utils for the offline checks of docs/deploy (ctest -R deploy_files).
if command -v npm >/dev/null; then
  for dir in tests/web tests/deploy; do
    lock_hash=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
    stamp=$dir/node_modules/.tickwire-lock-sha256
    if [ ! -d "$dir/node_modules" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$lock_hash" ]; then
      npm ci --no-audit --no-fund --prefix "$dir"
      echo "$lock_hash" >"$stamp"
    fi
  done
fi

if [ "$mode" = --fuzz ]; then
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTICKWIRE_WARNINGS_AS_ERRORS=ON -DTICKWIRE_LIBFUZZER=ON -DTICKWIRE_SANITIZE=address,undefined \
    -DTICKWIRE_BUILD_BENCH=OFF -DTICKWIRE_BUILD_DEMO=OFF
  cmake --build build-fuzz -j "$jobs" --target fuzz_enet_datagram fuzz_sim_message fuzz_lobby_message \
    fuzz_lan_beacon fuzz_session
  # Each target runs single-threaded for a bounded time into its own scratch corpus: one a core.
  ctest --test-dir build-fuzz -L fuzz --output-on-failure -j "$jobs"
  exit 0
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DTICKWIRE_WARNINGS_AS_ERRORS=ON
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"
