#!/usr/bin/env bash
# Debian's wrk (HTTP load generator) for `make bench`. Called by benchmarks/run.py only when wrk is
# missing and we are root; without it run.py falls back to its own Python load generator.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    echo "setup.sh: wrk is missing and we are not root; using the Python load generator" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq wrk >/dev/null
command -v wrk
