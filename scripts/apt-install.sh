#!/bin/sh
# Installs a Debian package when the command it provides is missing — what the tests and benchmarks need
# beside npm's packages (Chromium for the dashboard's tests, nats-server for the peers benchmark).
# Idempotent; needs root or sudo, and apt-get.
#
#   sh scripts/apt-install.sh COMMAND PACKAGE "WHAT FOR"
set -eu
command=$1
package=$2
what=${3:-tickring}

if command -v "$command" >/dev/null 2>&1; then exit 0; fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "apt-install.sh: $what needs $command: run as root or with sudo, or apt-get install $package yourself" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "apt-install.sh: $what needs $command, and there is no apt-get here: install $package yourself" >&2
  exit 1
fi

echo "apt-install.sh: installing Debian's $package for $what"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$package" >/dev/null
echo "apt-install.sh: installed $package ($(command -v "$command"))"
