#!/bin/sh
# Installs the browser the dashboard's end-to-end tests drive (test/dashboard/): Debian's `chromium`, run
# headless by playwright-core through its executable path (playwright's own browser download is never used:
# it fetches builds from outside the package registries). Idempotent. `npm test` runs it first (the
# `pretest` script), and so does .ci/run.
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
exec sh "$(dirname "$0")/apt-install.sh" chromium chromium "the dashboard's tests (or set CHROMIUM_PATH)"
