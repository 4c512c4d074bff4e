#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages callrec builds, tests and benchmarks with.
# (clang, for the libFuzzer builds, is not needed by `make test`: apt-get install clang.)
# Idempotent: packages already present are not fetched again, and apt-get is
# skipped entirely when nothing is missing (so `make test` is fast the second time).
set -eu

PACKAGES="
  meson ninja-build pkg-config gcc g++
  libglib2.0-dev libjson-glib-dev libcairo2-dev libpango1.0-dev fonts-dejavu-core
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  libnice-dev gstreamer1.0-nice libavcodec-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools
  gstreamer1.0-plugins-base-apps gstreamer1.0-x
  ffmpeg time procps libssl-dev libsrtp2-dev libsoup-3.0-dev libsqlite3-dev chromium
  podman debootstrap runc python3-yaml iptables iproute2
"

# The browser tests run playwright-core under Node.js: Debian's npm (which brings nodejs)
# unless a Node.js with npm is installed already.
command -v npm >/dev/null 2>&1 || PACKAGES="$PACKAGES npm"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "install-deps: all Debian packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing:$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
