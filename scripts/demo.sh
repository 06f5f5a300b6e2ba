#!/usr/bin/env bash
# Installs what is missing, builds Tickwire in Release into build/, and runs the demo: a server
# and two clients exchanging messages over ENet on 127.0.0.1, printing their stats once a second.
# Arguments go to the demo, e.g. scripts/demo.sh --duration 10 --latency-ms 50 --loss 5
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$(nproc)" --target tickwire_net_demo
exec build/bin/tickwire-net-demo "$@"
