#!/bin/sh
# SPDX-License-Identifier: MIT
# The 'container' suite: builds the recorder-node and server images for real with podman
# from a Debian 12 base this script makes itself (scripts/container-base.sh, no registry),
# records a short simulated call inside the recorder-node image onto a mounted volume and
# checks the MP4 on the host with ffprobe, checks the images run as non-root with their
# entrypoints, starts the server image, runs the recorder-node image as a recording node
# (its worker claims and records a job from a callrec-server on the host, --network host),
# and checks container/'s compose file and Kubernetes manifests against the Containerfiles
# and the server's defaults (check-deploy.py). Prints build time, image sizes and run time.
#
# Podman's layer cache lives in the private store (CALLREC_PODMAN_DIR, default
# /var/tmp/callrec-podman), so a second run rebuilds only what changed in the sources.
# TAP output. Needs root (debootstrap, rootful podman), podman, debootstrap, runc and
# ffprobe: scripts/install-deps.sh installs them.
set -u
SRC=${CALLREC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD_DIR=${CALLREC_BUILD_DIR:-}
PODMAN="$SRC/container/podman.sh"
STORE=${CALLREC_PODMAN_DIR:-/var/tmp/callrec-podman}
REC_IMAGE=localhost/callrec-recorder-node:latest
SRV_IMAGE=localhost/callrec-server:latest
# The flags this host needs to run a container (LESSONS.md: root lacks CAP_SYS_RESOURCE).
RUN_FLAGS="--rm --network none --ulimit nofile=20000:20000 --ulimit nproc=32768:32768"

n=0
failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
diag () { sed 's/^/# /'; }
now () { date +%s.%N; }
elapsed () { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
bail () { echo "Bail out! $1"; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
  echo "1..0 # SKIP needs root (debootstrap and rootful podman)"
  exit 0
fi
for tool in podman debootstrap runc ffprobe /usr/bin/python3; do
  command -v "$tool" > /dev/null || bail "$tool is missing: run scripts/install-deps.sh"
done
/usr/bin/python3 -c 'import yaml' 2> /dev/null ||
  bail "python3-yaml is missing: run scripts/install-deps.sh"
echo "1..12"

work=$(mktemp -d /tmp/callrec-container-test.XXXXXX)
srv_name="callrec-test-server-$$"
wrk_name="callrec-test-worker-$$"
host_srv_pid=
cleanup () {
  "$PODMAN" rm -f "$srv_name" "$wrk_name" > /dev/null 2>&1
  [ -n "$host_srv_pid" ] && kill "$host_srv_pid" 2> /dev/null
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$STORE"

if "$SRC/scripts/container-base.sh" > "$work/base.log" 2>&1; then
  ok "base image localhost/debian:bookworm (debootstrap, no registry)"
  diag < "$work/base.log"
else
  diag < "$work/base.log"
  bail "could not make the base image"
fi

# One image build at a time on this machine, whoever runs the suite.
build_image () { # FILE IMAGE LOG
  start=$(now)
  ( flock 9
    "$PODMAN" build --isolation chroot --layers -f "$SRC/container/$1" -t "$2" "$SRC"
  ) 9> "$STORE/build.lock" > "$3" 2>&1
  rc=$?
  took=$(elapsed "$start")
  cached=$(grep -c -- '--> Using cache' "$3")
  steps=$(grep -c 'STEP [0-9]*/' "$3")
  return $rc
}

if build_image recorder-node.Containerfile "$REC_IMAGE" "$work/build-rec.log"; then
  ok "recorder-node image builds"
  echo "# build time recorder-node: $took s ($cached of $steps steps from the layer cache)"
else
  tail -40 "$work/build-rec.log" | diag
  bail "recorder-node image does not build"
fi

size=$("$PODMAN" image inspect --format '{{.Size}}' "$REC_IMAGE")
echo "# image size recorder-node: $((size / 1000000)) MB"
# Loose bound: catches the build stage (compilers, -dev packages: >2 GB) leaking in.
if [ "$size" -gt 0 ] && [ "$size" -lt 1500000000 ]; then
  ok "recorder-node image size $((size / 1000000)) MB (< 1500 MB: no build tools in it)"
else
  not_ok "recorder-node image size $size bytes"
fi

user=$("$PODMAN" image inspect --format '{{.Config.User}}' "$REC_IMAGE")
entry=$("$PODMAN" image inspect --format '{{json .Config.Entrypoint}}' "$REC_IMAGE")
# shellcheck disable=SC2086,SC2016
inside=$("$PODMAN" run $RUN_FLAGS "$REC_IMAGE" sh -c \
  'id -u; test -x /usr/local/bin/callrec-recorder-entrypoint && echo entrypoint-ok;
   for t in cc gcc meson ninja pkg-config; do command -v "$t" > /dev/null && exit 0; done
   echo no-build-tools' 2>&1)
if [ "${user%%:*}" != "0" ] && [ -n "$user" ] && \
   [ "$(echo "$inside" | head -1)" != "0" ] && echo "$inside" | grep -qx entrypoint-ok && \
   echo "$inside" | grep -qx no-build-tools && \
   echo "$entry" | grep -q '"/usr/local/bin/callrec-recorder-entrypoint"'; then
  ok "recorder-node runs as uid $(echo "$inside" | head -1) (USER $user), entrypoint $entry"
else
  not_ok "recorder-node user/entrypoint: USER '$user', entrypoint $entry"
  echo "$inside" | diag
fi

# With no arguments the image starts worker mode, which needs its configuration: missing
# configuration must be a clear error, not a crash or a silent exit.
# shellcheck disable=SC2086
msg=$("$PODMAN" run $RUN_FLAGS -e CALLREC_SERVER= "$REC_IMAGE" 2>&1)
rc=$?
# shellcheck disable=SC2086
msg2=$("$PODMAN" run $RUN_FLAGS -e CALLREC_SERVER=http://127.0.0.1:1 -e CALLREC_TOKEN=t \
  -e CALLREC_MAX_JOBS=zero "$REC_IMAGE" 2>&1)
rc2=$?
if [ "$rc" -eq 2 ] && echo "$msg" | grep -q 'set CALLREC_SERVER' && \
   [ "$rc2" -eq 2 ] && echo "$msg2" | grep -q 'CALLREC_MAX_JOBS must be a positive integer'; then
  ok "worker entrypoint refuses missing/bad configuration with a clear error"
else
  not_ok "worker entrypoint configuration errors (rc $rc, $rc2)"
  printf '%s\n%s\n' "$msg" "$msg2" | diag
fi

# Every library the binaries need is in the image, and every GStreamer element the
# recorder and callrec-sim create is registered (not `gst-inspect-1.0 --exists`: it also
# wants the plugin's version to be GStreamer's, which libnice's 0.1.x is not).
elements="webrtcbin nicesrc nicesink dtlsdec dtlsenc srtpdec srtpenc rtpbin rtpfunnel
  rtpopusdepay rtpvp8depay rtph264depay opusdec vp8dec avdec_h264 h264parse audiomixer
  audioconvert audioresample audiotestsrc level videoconvert videoscale videotestsrc
  x264enc voaacenc mp4mux appsrc appsink opusenc vp8enc rtpopuspay rtpvp8pay rtph264pay
  webmmux"
# shellcheck disable=SC2086,SC2016
libs=$("$PODMAN" run $RUN_FLAGS "$REC_IMAGE" sh -c '
  for b in /usr/local/bin/callrec-recorder /usr/local/bin/callrec-sim; do
    ldd "$b" | grep "not found"
  done
  for e in "$@"; do
    gst-inspect-1.0 "$e" > /dev/null 2>&1 || echo "missing element $e"
  done' sh $elements 2>&1)
if [ -z "$libs" ]; then
  ok "runtime libraries and GStreamer elements present"
else
  not_ok "runtime libraries or GStreamer elements missing"
  echo "$libs" | diag
fi

# The real job: a simulated 5 s call with two voices and a VP8 share, recorded inside the
# image by callrec-sim and callrec-recorder (the entrypoint runs a command it is given),
# onto a volume.
out="$work/out"
mkdir -p "$out"
chown "${user%%:*}" "$out" 2> /dev/null || chmod 0777 "$out"
start=$(now)
# shellcheck disable=SC2086
"$PODMAN" run $RUN_FLAGS -v "$out:/out" "$REC_IMAGE" \
  callrec-sim --voices 2 --share vp8 --share-size 640x360 --seconds 5 --record /out/call.mp4 \
  -- --size 640x360 > "$work/run.log" 2>&1
rc=$?
run_time=$(elapsed "$start")
echo "# run time (container start, 5 s call, finalize, exit): $run_time s"
if [ "$rc" -eq 0 ] && [ -s "$out/call.mp4" ]; then
  ok "simulated call recorded inside the container ($(stat -c %s "$out/call.mp4") bytes)"
else
  not_ok "recording inside the container (exit $rc)"
  tail -30 "$work/run.log" | diag
fi

probe=$(ffprobe -v error -show_entries format=duration:stream=codec_type,codec_name \
  -of default=noprint_wrappers=1 "$out/call.mp4" 2>&1)
echo "$probe" | diag
dur=$(echo "$probe" | sed -n 's/^duration=//p')
if echo "$probe" | grep -qx 'codec_name=h264' && echo "$probe" | grep -qx 'codec_name=aac' && \
   awk -v d="${dur:-0}" 'BEGIN { exit !(d >= 4.5 && d <= 6.0) }'; then
  ok "MP4 on the host: h264 + aac, $dur s (want 4.5..6.0)"
else
  not_ok "MP4 on the host: want h264 + aac, ~5 s; got duration ${dur:-none}"
fi

if build_image server.Containerfile "$SRV_IMAGE" "$work/build-srv.log"; then
  ssize=$("$PODMAN" image inspect --format '{{.Size}}' "$SRV_IMAGE")
  ok "server image builds"
  echo "# build time server: $took s ($cached of $steps steps from the layer cache)"
  echo "# image size server: $((ssize / 1000000)) MB"
else
  not_ok "server image builds"
  tail -40 "$work/build-srv.log" | diag
fi

# The server image starts on its built-in configuration: HTTP and media on the ports
# the Containerfile exposes, data on the volume, as a non-root user.
"$PODMAN" run -d --name "$srv_name" --network none --ulimit nofile=20000:20000 \
  --ulimit nproc=32768:32768 "$SRV_IMAGE" > /dev/null 2>&1
i=0
while [ $i -lt 100 ] && ! "$PODMAN" logs "$srv_name" 2>&1 | grep -q '^listening on'; do
  sleep 0.2
  i=$((i + 1))
done
slog=$("$PODMAN" logs "$srv_name" 2>&1)
suid=$("$PODMAN" exec "$srv_name" id -u 2>&1)
if echo "$slog" | grep -qx 'listening on http://0.0.0.0:8065/' && \
   echo "$slog" | grep -q 'media on port 8443 (UDP and TCP)' && \
   echo "$slog" | grep -q 'data in /var/lib/callrec' && [ "$suid" != "0" ]; then
  ok "server image starts: HTTP 8065, media 8443 UDP+TCP, data on the volume, uid $suid"
else
  not_ok "server image start"
  echo "$slog" | tail -20 | diag
fi
"$PODMAN" rm -f "$srv_name" > /dev/null 2>&1

# A recording node for real: the image's worker (its entrypoint, configured by the
# environment) claims a job from a callrec-server on the host (--network host, the server
# on 127.0.0.1 with dispatch = workers) and records it; callrec-sim on the host is the
# call and its host, and waits for the recording's post in the call thread.
worker_node_test () {
  srv_bin="$BUILD_DIR/server/callrec-server"
  sim_bin="$BUILD_DIR/tools/callrec-sim"
  if [ -z "$BUILD_DIR" ] || [ ! -x "$srv_bin" ] || [ ! -x "$sim_bin" ]; then
    n=$((n + 1))
    echo "ok $n # SKIP worker node: no build directory (CALLREC_BUILD_DIR) with the server and sim"
    return
  fi
  sdir="$work/host-server"
  mkdir -p "$sdir"
  CALLREC_RECORDING_DISPATCH=workers CALLREC_RTC_PORT=0 CALLREC_ICE_HOST_OVERRIDE=127.0.0.1 \
    "$srv_bin" --data "$sdir" --listen 127.0.0.1:0 > "$work/host-server.out" \
    2> "$work/host-server.log" &
  host_srv_pid=$!
  i=0
  while [ $i -lt 100 ] && ! grep -q '^listening on' "$work/host-server.out"; do
    sleep 0.1
    i=$((i + 1))
  done
  base=$(sed -n 's|^listening on \(http://[^/]*\)/.*|\1|p' "$work/host-server.out" | head -1)
  # The worker user and its token (a secret: it goes to podman in a file, not argv).
  # shellcheck disable=SC2016
  if [ -n "$base" ] && /usr/bin/python3 - "$base" "$sdir/admin.token" "$work/worker.env" \
      > "$work/worker-user.log" 2>&1 << 'PY'
import json, os, sys, urllib.request
base, admin = sys.argv[1], open(sys.argv[2]).read().strip()
def post(path, body):
    req = urllib.request.Request(base + '/api/v1' + path, data=json.dumps(body).encode(),
                                 headers={'Authorization': 'Bearer ' + admin,
                                          'Content-Type': 'application/json'})
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req) as r:
        return json.load(r)
post('/users', {'username': 'worker-container', 'role': 'guest'})
token = post('/users/worker-container/tokens', {'label': 'container test'})['token']
fd = os.open(sys.argv[3], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, ('CALLREC_SERVER=%s\nCALLREC_TOKEN=%s\n' % (base, token)).encode())
os.close(fd)
PY
  then
    :
  else
    not_ok "worker node: host server or worker user (server '$base')"
    diag < "$work/worker-user.log"
    tail -20 "$work/host-server.log" | diag
    return
  fi
  "$PODMAN" run -d --name "$wrk_name" --network host --ulimit nofile=20000:20000 \
    --ulimit nproc=32768:32768 --env-file "$work/worker.env" "$REC_IMAGE" > /dev/null 2>&1
  start=$(now)
  timeout 240 "$sim_bin" --server "$base" --admin-token-file "$sdir/admin.token" --voices 2 \
    --share vp8 --share-size 640x360 --seconds 6 --host-records > "$work/sim.out" \
    2> "$work/sim.log"
  rc=$?
  echo "# worker node: request to post in $(elapsed "$start") s"
  "$PODMAN" stop -t 30 "$wrk_name" > /dev/null 2>&1
  wlog=$("$PODMAN" logs "$wrk_name" 2>&1)
  "$PODMAN" rm -f "$wrk_name" > /dev/null 2>&1
  kill "$host_srv_pid" 2> /dev/null
  wait "$host_srv_pid" 2> /dev/null
  host_srv_pid=
  file=$(sed -n 's/^recording file //p' "$work/sim.out" | head -1)
  if [ "$rc" -eq 0 ] && grep -q "Here's the call recording" "$work/sim.out" && \
     ! grep -q "Here's the call recording (partial" "$work/sim.out" && \
     [ -n "$file" ] && echo "$wlog" | grep -q 'recorder started' && \
     grep -q "claimed by worker 'worker-container'" "$work/host-server.log" && \
     ! grep -q 'crt_' "$work/host-server.log" && ! echo "$wlog" | grep -q 'crt_'; then
    ok "recorder-node worker claimed a job from the host's server and recorded it (post in the thread)"
    grep -A3 '^thread:' "$work/sim.out" | diag
  else
    not_ok "recorder-node worker records a job from the host's server (sim exit $rc)"
    tail -15 "$work/sim.out" | diag
    tail -15 "$work/sim.log" | diag
    echo "$wlog" | tail -25 | diag
    grep -i 'recording\|worker' "$work/host-server.log" | tail -20 | diag
  fi
}
worker_node_test

# Keep the cache, drop the rest: the shared build stage gets a name (all its layers come
# from the cache, ~2 s) so that pruning the untagged images older runs left behind (~10
# MB each per source change) does not discard the -dev packages layer (minutes to redo).
( flock 9
  "$PODMAN" build --isolation chroot --target build \
    -f "$SRC/container/recorder-node.Containerfile" -t localhost/callrec-build:latest "$SRC" > "$work/build-stage.log" 2>&1 &&
  "$PODMAN" image prune -f > /dev/null 2>&1
) 9> "$STORE/build.lock"
echo "# private store $STORE: $(du -sh "$STORE" 2> /dev/null | cut -f1)"

# shellcheck disable=SC2086
if /usr/bin/python3 "$SRC/tests/container/check-deploy.py" "$SRC" $BUILD_DIR \
    > "$work/deploy.log" 2>&1; then
  ok "compose.yaml and k8s/ agree with the Containerfiles and the server's defaults"
  diag < "$work/deploy.log" | sed 's/^# # /# /'
else
  not_ok "compose.yaml and k8s/ consistency"
  sed 's/^# //' "$work/deploy.log" | diag
fi

[ "$failed" -eq 0 ]
