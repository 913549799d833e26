#!/bin/sh
# Installs the browser the dashboard's end-to-end tests drive (test/dashboard/): Debian's `chromium`, run
# headless by playwright-core through its executable path (playwright's own browser download is never used:
# it fetches builds from outside the package registries). Idempotent: does nothing when a Chromium is there.
# `npm test` runs it first (the `pretest` script), and so does .ci/run. Needs root or sudo to install.
#
#   sh scripts/install-chromium.sh
#
# CHROMIUM_PATH names another Chromium or Chrome binary to use instead (then nothing is installed).
set -eu

if [ -n "${CHROMIUM_PATH:-}" ]; then
  if [ -x "$CHROMIUM_PATH" ]; then exit 0; fi
  echo "install-chromium.sh: CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file" >&2
  exit 1
fi
if command -v chromium >/dev/null 2>&1; then exit 0; fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-chromium.sh: the dashboard tests need Chromium: run as root, or apt-get install chromium, or set CHROMIUM_PATH" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium.sh: no apt-get here: install Chromium yourself and set CHROMIUM_PATH to its binary" >&2
  exit 1
fi

echo "install-chromium.sh: installing Debian's chromium for the dashboard tests"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "install-chromium.sh: installed $(chromium --version)"
