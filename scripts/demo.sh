#!/bin/sh
# SPDX-License-Identifier: MIT
# `make demo`: records a simulated call (three voices, one screen share that stops and
# comes back at another size, one participant muting) with no server, then shows what the
# MP4 holds. Everything stays on 127.0.0.1.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT_DIR=${OUT_DIR:-out}
SECONDS_TO_RECORD=${SECONDS_TO_RECORD:-20}
mkdir -p "$OUT_DIR"
OUT="$OUT_DIR/demo-call.mp4"
rm -f "$OUT"

echo "demo: recording a ${SECONDS_TO_RECORD} s simulated call into $OUT"
echo "demo: Alice (440 Hz) shares her screen, Bob (660 Hz) mutes 6–10 s, Carol (880 Hz);"
echo "demo: the share stops at 8 s and returns as 1280x1024 at 12 s"
"$BUILD/tools/callrec-sim" --voices 3 --share vp8 --seconds "$SECONDS_TO_RECORD" \
  --schedule "6:mute:1,10:unmute:1,8:share-off,12:share-on:1280x1024" \
  --record "$OUT" 2> "$OUT_DIR/demo-call.log"
echo "demo: recorder log in $OUT_DIR/demo-call.log; its last lines:"
grep -E "usage:|finished|share .* added|voice .* added" "$OUT_DIR/demo-call.log" | sed 's/^/  /' | tail -8
echo
"$BUILD/tests/media-report" "$OUT" 2
echo
echo "recording: $(realpath "$OUT")"
