#!/bin/bash
# The integration suite on a Docker engine that has never seen netsim, then the machine as it was.
#
#   sudo flock /tmp/netsim-engine.lock bash scripts/fresh-engine-check.sh [PYTEST ARGS...]
#
# 1. stops this machine's dockerd (the one whose pid is in /var/run/docker.pid, started by
#    scripts/setup.sh --engine as `setsid dockerd`, or by systemd),
# 2. starts dockerd on an empty data root (a new directory beside /var/lib/docker: no image,
#    no network, no container, no swarm state; its own containerd state under that root),
# 3. checks that it is empty and runs `CI=true python3 -m pytest -q tests/integration`
#    (extra arguments go to pytest),
# 4. stops that dockerd, deletes its data root and starts the original daemon again, with
#    the same command line and data root — also on failure, Ctrl-C or SIGTERM (trap).
# Prints the suite's last lines and one verdict line; exits with the suite's exit code
# (or 3 when the machine could not be prepared or restored).
#
# It stops the engine: hold the lock that every other user of the engine takes for the
# whole run (flock /tmp/netsim-engine.lock), as above.  The daemons it starts (the fresh one,
# the original again) do not inherit the lock: they are started with every file descriptor
# above 2 closed, so the lock is free again when the script ends.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PIDFILE=/var/run/docker.pid
FRESH_LOG=/var/log/netsim-dockerd-fresh.log
ORIG_LOG=/var/log/netsim-dockerd.log

say() { echo "fresh-engine: $*" >&2; }
die() { say "$*"; exit 3; }

[ "$(id -u)" = 0 ] || die "needs root (it stops and starts dockerd)"
command -v dockerd >/dev/null || die "no dockerd: run scripts/setup.sh --engine first"

engine_up() { timeout 5 docker info >/dev/null 2>&1; }
wait_up() {  # seconds
  for _ in $(seq 1 "$(( $1 * 4 ))"); do engine_up && return 0; sleep 0.25; done
  return 1
}
wait_gone() {  # pid seconds
  for _ in $(seq 1 "$(( $2 * 4 ))"); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.25; done
  return 1
}
# A daemon started from here must not inherit this script's file descriptors: above all the
# engine lock's (flock passes it to its command), which a daemon would then hold for as long
# as it runs — every later `flock /tmp/netsim-engine.lock` would wait forever.
spawn_daemon() {  # LOG ARGV...
  local log=$1; shift
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null
    done
    exec setsid "$@" >>"$log" 2>&1 </dev/null
  ) &
}
stop_pid() {  # pid: TERM, then KILL after 60 s
  kill -TERM "$1" 2>/dev/null || return 0
  wait_gone "$1" 60 && return 0
  say "dockerd $1 ignored SIGTERM for 60 s: SIGKILL"
  kill -KILL "$1" 2>/dev/null
  wait_gone "$1" 10
}

# --- the daemon as found -------------------------------------------------------------------
SYSTEMD=0
ORIG_CMD=()
if [ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  ORIG_PID=$(cat "$PIDFILE")
  mapfile -d '' ORIG_CMD < "/proc/$ORIG_PID/cmdline"
  if command -v systemctl >/dev/null && systemctl is-active --quiet docker 2>/dev/null; then SYSTEMD=1; fi
else
  die "no running dockerd (no live pid in $PIDFILE): start it with scripts/setup.sh --engine"
fi
engine_up || die "dockerd $ORIG_PID does not answer"
ORIG_ROOT=$(docker info --format '{{.DockerRootDir}}')
ORIG_IMAGES=$(docker images -q | wc -l)
say "found dockerd $ORIG_PID (${ORIG_CMD[*]}), data root $ORIG_ROOT, $ORIG_IMAGES image(s)"

FRESH_ROOT=$(mktemp -d "$(dirname "$ORIG_ROOT")/netsim-fresh-engine.XXXXXX") || die "cannot create an empty data root"
FRESH_PID=""
RESTORED=0

restore() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "$RESTORED" = 1 ]; then exit "$rc"; fi
  if [ -n "$FRESH_PID" ] && kill -0 "$FRESH_PID" 2>/dev/null; then
    say "stopping the fresh dockerd $FRESH_PID"
    stop_pid "$FRESH_PID"
  fi
  if grep -qs " $FRESH_ROOT" /proc/mounts; then  # nothing may stay mounted under it
    grep " $FRESH_ROOT" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  fi
  rm -rf --one-file-system "$FRESH_ROOT"
  say "starting the original daemon again"
  if [ "$SYSTEMD" = 1 ]; then
    systemctl start docker
  else
    spawn_daemon "$ORIG_LOG" "${ORIG_CMD[@]}"
  fi
  if wait_up 60 && [ "$(docker info --format '{{.DockerRootDir}}')" = "$ORIG_ROOT" ]; then
    say "restored: dockerd $(cat "$PIDFILE" 2>/dev/null) on $ORIG_ROOT, $(docker images -q | wc -l) image(s) (before: $ORIG_IMAGES)"
  else
    say "FAILED to restore the original daemon: see $ORIG_LOG; start it with: setsid ${ORIG_CMD[*]} &"
    rc=3
  fi
  RESTORED=1
  exit "$rc"
}
trap restore EXIT
trap 'say "interrupted"; exit 130' INT
trap 'say "terminated"; exit 143' TERM

# --- a daemon on an empty data root ------------------------------------------------------------
say "stopping dockerd $ORIG_PID"
if [ "$SYSTEMD" = 1 ]; then
  systemctl stop docker.socket docker 2>/dev/null || systemctl stop docker
else
  stop_pid "$ORIG_PID" || die "dockerd $ORIG_PID would not stop"
fi
# the original's command line, its data root replaced by the empty one (same exec root, pid file)
FRESH_CMD=()
skip=0
for arg in "${ORIG_CMD[@]}"; do
  if [ "$skip" = 1 ]; then skip=0; continue; fi
  case "$arg" in
    --data-root|-g|--graph) skip=1 ;;
    --data-root=*|--graph=*|-g=*) ;;
    *) FRESH_CMD+=("$arg") ;;
  esac
done
FRESH_CMD+=(--data-root "$FRESH_ROOT")
say "starting ${FRESH_CMD[*]} (log: $FRESH_LOG)"
: >"$FRESH_LOG"
spawn_daemon "$FRESH_LOG" "${FRESH_CMD[@]}"
FRESH_PID=$!
wait_up 60 || { say "the fresh dockerd did not come up:"; tail -5 "$FRESH_LOG" >&2; exit 3; }
FRESH_PID=$(cat "$PIDFILE")
[ "$(docker info --format '{{.DockerRootDir}}')" = "$FRESH_ROOT" ] || { say "the engine answering is not the fresh one"; exit 3; }
images=$(docker images -q | wc -l)
containers=$(docker ps -aq | wc -l)
networks=$(docker network ls -q | wc -l)
say "fresh engine $(docker version --format '{{.Server.Version}}'): $images image(s), $containers container(s), $networks network(s) (bridge, host, none)"
[ "$images" = 0 ] && [ "$containers" = 0 ] && [ "$networks" = 3 ] || { say "the fresh engine is not empty"; exit 3; }

# --- the suite ---------------------------------------------------------------------------------
say "running: CI=true python3 -m pytest -q tests/integration $*"
started=$(date +%s)
cd "$ROOT" || exit 3
CI=true python3 -m pytest -q -p no:cacheprovider tests/integration "$@" 2>&1 | tee /tmp/netsim-fresh-engine-pytest.log | tail -25
rc=${PIPESTATUS[0]}
say "suite exit code $rc after $(( $(date +%s) - started )) s (full output: /tmp/netsim-fresh-engine-pytest.log)"
left=$(docker ps -aq --filter label=netsim.managed=1 | wc -l)
leftnets=$(docker network ls -q --filter label=netsim.managed=1 | wc -l)
say "left on the fresh engine by the suite: $left netsim container(s), $leftnets netsim network(s)"
if [ "$rc" = 0 ] && [ "$left" = 0 ] && [ "$leftnets" = 0 ]; then
  say "PASS: the integration suite passes on an engine that has never seen netsim"
else
  say "FAIL"
  [ "$rc" = 0 ] && rc=1
fi
exit "$rc"
