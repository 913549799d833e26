#!/bin/sh
# Installs the peer the benchmarks compare tickring with: Debian's nats-server (2.9.x on Debian 12:
# core, JetStream, WebSocket listener). Idempotent; needs root or sudo. The benchmark never uses the
# system service the package may enable: it starts its own servers on free loopback ports and stops them
# by PID (`bench/peers/nats-server.ts`).
#
#   sh bench/peers/install.sh
set -eu

if command -v nats-server >/dev/null 2>&1; then
  echo "nats-server already installed: $(nats-server --version)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install.sh: need root or sudo to apt-get install nats-server" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install.sh: no apt-get here; install nats-server (https://github.com/nats-io/nats-server/releases) yourself" >&2
  exit 1
fi

$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends nats-server
echo "installed: $(nats-server --version)"
