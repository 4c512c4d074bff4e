#!/bin/sh
# SPDX-License-Identifier: MIT
# Entrypoint of the recorder-node image: runs callrec-recorder in worker mode, configured
# by the environment:
#   CALLREC_SERVER    the call server's base URL, e.g. http://callrec-server:8065 (required)
#   CALLREC_TOKEN     the worker token the server issued (required; a secret)
#   CALLREC_MAX_JOBS  recordings this node runs at once (default 1)
# Any arguments replace worker mode with that command, for one-off jobs and debugging:
#   podman run --rm IMAGE callrec-sim --voices 2 --seconds 5 --record /tmp/x.mp4
set -eu

if [ "$#" -gt 0 ]; then
  exec "$@"
fi

if [ -z "${CALLREC_SERVER:-}" ]; then
  echo "recorder-entrypoint: set CALLREC_SERVER to the call server's URL" \
       "(e.g. http://callrec-server:8065)" >&2
  exit 2
fi
if [ -z "${CALLREC_TOKEN:-}" ]; then
  echo "recorder-entrypoint: set CALLREC_TOKEN to the worker token the server issued" >&2
  exit 2
fi
max_jobs=${CALLREC_MAX_JOBS:-1}
case "$max_jobs" in
  '' | *[!0-9]* | 0)
    echo "recorder-entrypoint: CALLREC_MAX_JOBS must be a positive integer, not '$max_jobs'" >&2
    exit 2
    ;;
esac

# The token stays in the environment, where callrec-recorder reads it: a command line is
# visible to every process on the node.
exec callrec-recorder worker --server "$CALLREC_SERVER" --max-jobs "$max_jobs"
