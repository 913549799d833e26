#!/bin/sh
# Installs the peer the benchmarks compare tickring with: Debian's nats-server (2.9.x on Debian 12:
# core, JetStream, WebSocket listener). Idempotent; needs root or sudo. The benchmark never uses the
# system service the package may enable: it starts its own servers on free loopback ports and stops them
# by PID (`bench/peers/nats-server.ts`).
#
#   sh bench/peers/install.sh
set -eu
sh "$(dirname "$0")/../../scripts/apt-install.sh" nats-server nats-server "the peers benchmark"
echo "nats-server: $(nats-server --version)"
