#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs the browser end-to-end suite (run.mjs) against a fresh callrec-server on
# 127.0.0.1 with an ephemeral HTTP and RTC port and a temporary data directory.
#   run-browser-tests.sh BUILD_DIR SOURCE_DIR
# When it can (root, util-linux unshare), it re-runs itself in a private network
# namespace with only lo up, so nothing the server or Chromium does can leave the machine.
set -eu
BUILD=${1:?build dir}
SRC=${2:?source dir}

if [ -z "${CALLREC_IN_NETNS:-}" ] && command -v unshare >/dev/null 2>&1 \
   && unshare -n true 2>/dev/null; then
  export CALLREC_IN_NETNS=1
  exec unshare -n sh -c 'ip link set lo up 2>/dev/null || true; exec sh "$0" "$@"' "$0" "$@"
fi

# `make test` installs both; a skip there would hide a missing install step, so under CI
# (CI=true, as .ci/run sets) a missing piece is a failure.
missing=""
[ -x /usr/bin/chromium ] || missing="/usr/bin/chromium (scripts/install-deps.sh installs it)"
[ -d "$SRC/tests/browser/node_modules/playwright-core" ] \
  || missing="playwright-core (run scripts/install-browser-deps.sh)"
if [ -n "$missing" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "Bail out! $missing is missing"
    exit 1
  fi
  echo "1..0 # SKIP $missing is missing"
  exit 77
fi

TMP=$(mktemp -d /tmp/callrec-browser.XXXXXX)
ART=${CALLREC_ARTIFACTS:-$BUILD/tests/browser-artifacts}
mkdir -p "$ART"
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  cp "$TMP/server.log" "$ART/server.log" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

CALLREC_RTC_PORT=0 CALLREC_ICE_HOST_OVERRIDE=127.0.0.1 CALLREC_WEB_DIR="$SRC/web" \
  "$BUILD/server/callrec-server" --data "$TMP/data" --listen 127.0.0.1:0 \
  >"$TMP/server.out" 2>"$TMP/server.log" &
SERVER_PID=$!
i=0
while ! grep -q '^listening on ' "$TMP/server.out" 2>/dev/null; do
  i=$((i + 1))
  if [ $i -gt 100 ] || ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "Bail out! callrec-server did not start:"; cat "$TMP/server.log"; exit 1
  fi
  sleep 0.1
done
URL=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$TMP/server.out" | head -n1)
CALLREC_URL="$URL" CALLREC_ADMIN_TOKEN_FILE="$TMP/data/admin.token" CALLREC_ARTIFACTS="$ART" \
  CALLREC_BUILD_DIR="$BUILD" \
  CALLREC_TMP="$TMP" node "$SRC/tests/browser/run.mjs"
