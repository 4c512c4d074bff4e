#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the browser tests' npm packages (tests/browser/package-lock.json: playwright-core,
# which drives Debian's /usr/bin/chromium and downloads no browser). Idempotent: skipped
# when node_modules already matches the lock file.
set -eu
cd "$(dirname "$0")/.."
DIR=tests/browser
if ! command -v npm >/dev/null 2>&1; then
  echo "install-browser-deps: npm is missing (apt-get install npm)" >&2
  exit 1
fi
if [ -f "$DIR/node_modules/.package-lock.json" ] \
   && cmp -s "$DIR/package-lock.json" "$DIR/node_modules/.callrec-lock" 2>/dev/null; then
  echo "install-browser-deps: $DIR/node_modules is up to date"
  exit 0
fi
npm ci --prefix "$DIR" --no-audit --no-fund
cp "$DIR/package-lock.json" "$DIR/node_modules/.callrec-lock"
