#!/usr/bin/env bash
# Set up netsim on a fresh Debian machine (as root): system packages, the Python
# package with its test extras, and (with --engine) a running Docker engine.
#
#   bash scripts/setup.sh            # simulator only: graphviz, docker-compose (for tests) + netsim
#   bash scripts/setup.sh --engine   # also docker.io, busybox-static, gcc; starts dockerd
set -euo pipefail
cd "$(dirname "$0")/.."

want_engine=0
[ "${1:-}" = "--engine" ] && want_engine=1

# docker-compose (1.29.2, Debian's): the unit tests compare netsim's reading of compose projects with it
pkgs=(graphviz docker-compose)
if [ "$want_engine" = 1 ]; then
  pkgs+=(docker.io busybox-static gcc libc6-dev iproute2 iptables chromium)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# A failed install stops here with pip's own message (set -e; no pipe that could hide its status).
# PIP_ROOT_USER_ACTION=ignore only silences pip's warning about running as root.
if ! PIP_ROOT_USER_ACTION=ignore python3 -m pip install -q --disable-pip-version-check -e '.[test]'; then
  echo "setup: pip install -e '.[test]' failed (see pip's message above); netsim is not installed" >&2
  exit 1
fi
# pyenv finds a new command only after a rehash
if ! command -v netsim >/dev/null 2>&1 && command -v pyenv >/dev/null 2>&1; then
  pyenv rehash
fi
if ! command -v netsim >/dev/null 2>&1; then
  echo "setup: netsim was installed but the netsim command is not on PATH; add Python's scripts directory to PATH" >&2
  exit 1
fi
echo "setup: $(netsim --version)" >&2

if [ "$want_engine" = 1 ]; then
  if ! timeout 10 docker info >/dev/null 2>&1; then
    echo "setup: starting dockerd (log: /var/log/netsim-dockerd.log)" >&2
    (setsid dockerd >/var/log/netsim-dockerd.log 2>&1 &)
    for _ in $(seq 1 60); do
      timeout 5 docker info >/dev/null 2>&1 && break
      sleep 1
    done
    timeout 10 docker info >/dev/null 2>&1 || { echo "setup: dockerd did not come up; see /var/log/netsim-dockerd.log" >&2; exit 1; }
  fi
  echo "setup: Docker engine $(docker version --format '{{.Server.Version}}') is running" >&2
fi
