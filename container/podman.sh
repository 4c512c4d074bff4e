#!/bin/sh
# SPDX-License-Identifier: MIT
# podman with the settings this project's container builds and tests need, so that every
# caller (scripts/container-base.sh, the 'container' test suite, a person following
# container/README.md) shares one private image store and its layer cache:
#   - a private store (--root/--runroot) under CALLREC_PODMAN_DIR, default
#     /var/tmp/callrec-podman: it leaves the machine's own podman store alone, and
#     pointing CONTAINERS_STORAGE_CONF somewhere instead made every run wait ~20 s here;
#   - runc, because crun fails on hosts with hybrid cgroups ("cgroups in hybrid mode not
#     supported");
#   - cgroupfs and a file event log, because systemd need not be PID 1.
# Per-command flags stay with the caller: `build --isolation chroot` and
# `run --ulimit nofile=20000:20000 --ulimit nproc=32768:32768` (root may lack
# CAP_SYS_RESOURCE, so the defaults of a container cannot be raised past the host's).
#
#   container/podman.sh images
#   container/podman.sh build --isolation chroot -f container/recorder-node.Containerfile .
set -eu
store=${CALLREC_PODMAN_DIR:-/var/tmp/callrec-podman}
mkdir -p "$store/root" "$store/run"
exec podman --root "$store/root" --runroot "$store/run" --runtime runc \
  --cgroup-manager cgroupfs --events-backend file "$@"
