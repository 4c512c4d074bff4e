#!/bin/sh
# SPDX-License-Identifier: MIT
# Makes the Debian 12 base image the Containerfiles in container/ start FROM
# (localhost/debian:bookworm) without any container registry: debootstrap a minbase
# bookworm from the Debian mirror apt on this machine already uses, then import it into
# the private podman store that container/podman.sh manages. Idempotent: does nothing
# when the image exists. Needs root, podman and debootstrap (scripts/install-deps.sh).
#
#   scripts/container-base.sh [IMAGE]      default IMAGE: localhost/debian:bookworm
#   CALLREC_PODMAN_DIR=/var/tmp/callrec-podman   the private store (and a lock file)
set -eu
cd "$(dirname "$0")/.."
IMAGE=${1:-localhost/debian:bookworm}
PODMAN="$PWD/container/podman.sh"
store=${CALLREC_PODMAN_DIR:-/var/tmp/callrec-podman}
mkdir -p "$store"

# One image maker at a time: two test runs racing would both debootstrap.
exec 9> "$store/base.lock"
flock 9

if "$PODMAN" image exists "$IMAGE"; then
  echo "container-base: $IMAGE already present"
  exit 0
fi

# The first http(s) URI that serves bookworm itself (not -security) in apt's own sources,
# one-line (sources.list) or deb822 (*.sources) format; deb.debian.org if none.
apt_uris () {
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {
      print $i, $(i + 1); break } }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && awk 'tolower($1) == "uris:" { u = $2 } tolower($1) == "suites:" {
      for (i = 2; i <= NF; i++) print u, $i }' "$f"
  done
}
MIRROR=$(apt_uris | awk '$2 == "bookworm" { print $1; exit }')
SECURITY=$(apt_uris | awk '$2 == "bookworm-security" { print $1; exit }')
MIRROR=${MIRROR:-http://deb.debian.org/debian}

dir=$(mktemp -d "$store/rootfs.XXXXXX")
trap 'rm -rf "$dir"' EXIT
echo "container-base: debootstrap --variant=minbase bookworm from $MIRROR"
start=$(date +%s)
debootstrap --variant=minbase bookworm "$dir" "$MIRROR" > "$store/debootstrap.log" 2>&1 || {
  tail -20 "$store/debootstrap.log" >&2
  echo "container-base: debootstrap failed (full log: $store/debootstrap.log)" >&2
  exit 1
}
{
  echo "deb $MIRROR bookworm main"
  echo "deb $MIRROR bookworm-updates main"
  [ -z "$SECURITY" ] || echo "deb $SECURITY bookworm-security main"
} > "$dir/etc/apt/sources.list"
# Keep images small: no apt caches or docs in layers built on this base.
rm -rf "$dir/var/cache/apt/archives/"*.deb "$dir/var/lib/apt/lists/"*
cat > "$dir/etc/dpkg/dpkg.cfg.d/01-callrec-nodoc" <<'CFG'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
CFG
tar -C "$dir" -c . | "$PODMAN" import --quiet - "$IMAGE" > /dev/null
echo "container-base: imported $IMAGE in $(( $(date +%s) - start )) s"
"$PODMAN" images --format '{{.Repository}}:{{.Tag}} {{.Size}}' "$IMAGE"
