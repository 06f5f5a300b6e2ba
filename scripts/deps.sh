#!/usr/bin/env bash
# Installs every Debian 12 package Tickwire needs to build, test and run its demo.
# One list, one place. Idempotent: apt-get runs only when something on the list is missing.
set -euo pipefail

packages=(
  # toolchain; clang and its runtime for the libFuzzer builds of the fuzz targets
  g++ cmake ninja-build pkg-config ccache clang-format clang libclang-rt-14-dev
  # reliable UDP transport (engine/net/src/enet)
  libenet-dev
  # WebSocket/HTTP (Beast) and Asio, header-only
  libboost-dev
  # wire schemas: runtime headers and the flatc compiler
  libflatbuffers-dev flatbuffers-compiler
  # signed join tickets
  libsodium-dev
  # replay files' chunk checksums (XXH3, used header-only: nothing to link)
  libxxhash-dev
  # TLS for the lobby and the WebSocket transport (wss://, https://): OpenSSL; the tests make
  # their certificates with its API
  libssl-dev
  # command-line flags of the demo programs and benchmarks
  libcli11-dev
  # logging
  libspdlog-dev
  # the demo game's client window and its text: SDL2, SDL2_ttf and a Debian font
  libsdl2-dev libsdl2-ttf-dev fonts-dejavu-core
  # the client's --screenshot writes PNGs, and its screenshot test reads them back: SDL2_image
  libsdl2-image-dev
  # lobby state shared by several lobby processes (issue 14): the hiredis C client, and the
  # redis-server that `--redis HOST:PORT` points at and that the Redis lobby tests start themselves
  libhiredis-dev redis-server
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # the client's screenshot test runs it under a virtual X server (xvfb-run needs xauth)
  xvfb xauth
  # the LAN test puts server and clients in network namespaces of its own (ip netns)
  iproute2
  # the UDP-blocked demo test drops every UDP datagram in its namespace with nft
  nftables
  # the chat example's test makes its TLS certificate with the openssl command
  openssl
  # the demo test reads the game server's /metrics with Prometheus's own parser (/usr/bin/python3)
  python3-prometheus-client
  # bench/plots/make_plots.sh draws the benchmark plots in docs/plots/ (and its test redraws them)
  gnuplot-nox
  # the browser lobby page's end-to-end test (ctest -L web): headless Chromium, driven by npm
  # playwright-core (tests/web/package.json), which downloads no browser of its own.
  chromium
)
# node and npm for that test: Debian's nodejs and npm, but only where no node is installed at
# all, because a NodeSource nodejs (which bundles npm) conflicts with Debian's npm package.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "deps.sh: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
