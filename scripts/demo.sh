#!/bin/sh
# SPDX-License-Identifier: MIT
# `make demo`: the main job on embedded defaults. Starts callrec-server on 127.0.0.1 with a
# fresh data directory, has callrec-sim create a channel with three members who join its
# call (tones of 440, 660 and 880 Hz; Alice shares her screen), Alice (the host) starts the
# recording, stops it 30 s later, and the server's recorder posts the MP4 in the call's
# thread. Prints the thread, what the MP4 holds, the web client's address and, last,
# `recording: <path>`. The server keeps running so the web client can play the file
# (DEMO_KEEP_SERVER=0 stops it).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT_DIR=${OUT_DIR:-out}
SECONDS_TO_RECORD=${SECONDS_TO_RECORD:-30}
KEEP=${DEMO_KEEP_SERVER:-1}
DATA="$OUT_DIR/demo-data"
LOG="$OUT_DIR/demo-server.log"

mkdir -p "$OUT_DIR"
rm -rf "$DATA"
mkdir -p "$DATA"

# The SFU advertises 127.0.0.1: everything stays on this machine.
CALLREC_ICE_HOST_OVERRIDE=127.0.0.1 "$BUILD/server/callrec-server" --data "$DATA" \
  --listen 127.0.0.1:0 > "$OUT_DIR/demo-server.out" 2> "$LOG" &
SERVER=$!
stop_server() { kill "$SERVER" 2>/dev/null || true; }
trap 'stop_server' INT TERM
URL=""
for _ in $(seq 1 50); do
  URL=$(grep -o 'http://[0-9.:]*' "$OUT_DIR/demo-server.out" 2>/dev/null | head -1 || true)
  [ -n "$URL" ] && break
  sleep 0.1
done
if [ -z "$URL" ]; then
  echo "demo: callrec-server did not start; its log:" >&2
  tail -20 "$LOG" >&2
  stop_server
  exit 1
fi
echo "demo: callrec-server at $URL (data in $DATA, log in $LOG)"
echo "demo: Alice (440 Hz, sharing her screen), Bob (660 Hz) and Carol (880 Hz) join the"
echo "demo: call in channel 'demo'; Alice starts the recording and stops it after ${SECONDS_TO_RECORD} s"

if ! "$BUILD/tools/callrec-sim" --server "$URL" --admin-token-file "$DATA/admin.token" \
    --channel demo --voices 3 --share vp8 --seconds "$SECONDS_TO_RECORD" --host-records \
    > "$OUT_DIR/demo-sim.out" 2> "$OUT_DIR/demo-sim.log"; then
  echo "demo: the recorded call failed; the last lines of the logs:" >&2
  tail -5 "$OUT_DIR/demo-sim.log" "$LOG" >&2
  stop_server
  exit 1
fi
FILE=$(sed -n 's/^recording file //p' "$OUT_DIR/demo-sim.out")
MP4="$DATA/files/$FILE"

echo
echo "demo: the call thread:"
sed -n '/^thread:/,/^recording file/p' "$OUT_DIR/demo-sim.out" | sed '1d;$d'
echo
"$BUILD/tests/media-report" "$MP4" 3
echo

# callrec-sim made the channel with the admin token, so the admin is a member and can
# play the file in the web client.
if [ "$KEEP" = "1" ]; then
  echo "web client: $URL/ (sign in with the token in $DATA/admin.token, open channel"
  echo "  'demo' and the call thread to play the recording); the server keeps running:"
  echo "  stop it with: kill $SERVER"
else
  stop_server
  echo "web client: $URL/ (the server was stopped: DEMO_KEEP_SERVER=0)"
fi
echo "recording: $(realpath "$MP4")"
