#!/usr/bin/env bash
# Stop the test cluster that tests/slurm/start_cluster.sh started in STATE_DIR: slurmd,
# slurmctld, slurmdbd, MariaDB and munged, each through its pid file (SIGTERM, then SIGKILL
# after 30 s). With --purge, also remove the state folder (configs, database, job records).
#
#   tests/slurm/stop_cluster.sh [STATE_DIR] [--purge]   # default $INPUTGRAD_SLURM_DIR or /tmp/inputgrad-slurm
set -uo pipefail

purge=0
args=()
for arg in "$@"; do
  if [ "$arg" = "--purge" ]; then purge=1; else args+=("$arg"); fi
done
STATE=${args[0]:-${INPUTGRAD_SLURM_DIR:-/tmp/inputgrad-slurm}}
[ -d "$STATE" ] || { echo "stop_cluster.sh: no state folder $STATE" >&2; exit 0; }

stop() {  # stop NAME: the daemon whose pid is in $STATE/run/NAME.pid
  local pidfile="$STATE/run/$1.pid" pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "stop_cluster.sh: $1 (pid $pid) ignored SIGTERM for 30 s; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null
    fi
  fi
  rm -f "$pidfile"
}
for daemon in slurmd slurmctld slurmdbd mariadb munged; do
  stop "$daemon"
done
# the link start_cluster.sh made from SLURM's default config place, if it is still ours
if [ "$(readlink /etc/slurm/slurm.conf 2>/dev/null)" = "$(cd "$STATE" && pwd)/etc/slurm.conf" ]; then
  rm -f /etc/slurm/slurm.conf
fi
if [ "$purge" -eq 1 ]; then
  rm -rf "$STATE"
fi
echo "stop_cluster.sh: stopped the cluster in $STATE" >&2
