#!/usr/bin/env bash
# Start a single-node SLURM cluster on this machine, without systemd: munged, MariaDB,
# slurmdbd (accounting, so `sacct` works), slurmctld and slurmd, each started directly as a
# daemon, with every config, socket, database, spool folder and log inside one state folder.
#
#   tests/slurm/start_cluster.sh [STATE_DIR]     # default $INPUTGRAD_SLURM_DIR or /tmp/inputgrad-slurm
#   . STATE_DIR/env                              # exports SLURM_CONF for sbatch, sacct, ...
#                                                # (also linked from /etc/slurm/slurm.conf)
#   tests/slurm/stop_cluster.sh [STATE_DIR] [--purge]
#
# Idempotent: a second call with the same folder starts only the daemons that are not running
# and keeps the configs, ports, database and job records of the first. Ports come from the
# environment the first time (INPUTGRAD_SLURMCTLD_PORT, INPUTGRAD_SLURMD_PORT,
# INPUTGRAD_SLURMDBD_PORT, INPUTGRAD_MYSQL_PORT; defaults 6817, 6818, 6819, 3307) and are kept in
# STATE_DIR/ports.env. Needs root (slurmd runs jobs as their submitting user) and Debian's
# slurm-wlm, slurmdbd, munge and mariadb-server packages. The node gets this machine's CPUs and
# memory (`slurmd -C`); cores and memory are consumable (select/cons_tres), so a 2-core machine
# runs two 1-core jobs at once. Exit codes: 0 up, 3 a binary is missing, 1 anything else (the
# message names the log to read).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE=${1:-${INPUTGRAD_SLURM_DIR:-/tmp/inputgrad-slurm}}
mkdir -p "$STATE"
STATE=$(cd "$STATE" && pwd)

export PATH="$PATH:/usr/sbin:/sbin"   # the daemons live in sbin
say() { echo "start_cluster.sh: $*" >&2; }
die() { say "$*"; exit 1; }

# ---- binaries ------------------------------------------------------------------------------
MARIADBD=$(command -v mariadbd || command -v mysqld || true)
MARIADB=$(command -v mariadb || command -v mysql || true)
INSTALL_DB=$(command -v mariadb-install-db || command -v mysql_install_db || true)
missing=()
for bin in munged munge slurmctld slurmd slurmdbd sacctmgr sbatch sacct scontrol sinfo; do
  command -v "$bin" >/dev/null || missing+=("$bin")
done
[ -n "$MARIADBD" ] || missing+=(mariadbd)
[ -n "$MARIADB" ] || missing+=(mariadb)
[ -n "$INSTALL_DB" ] || missing+=(mariadb-install-db)
if [ ${#missing[@]} -gt 0 ]; then
  say "not found: ${missing[*]} (Debian: apt-get install slurm-wlm slurmdbd munge mariadb-server)"
  exit 3
fi
[ "$(id -u)" -eq 0 ] || die "must run as root (slurmd starts jobs as their submitting user)"

# ---- state folder, ports, configs ----------------------------------------------------------
mkdir -p "$STATE"/{etc,run,log,slurmctld,slurmd,munge,munge-key,mysql}
chmod 755 "$STATE" "$STATE/munge"   # munged: its socket's folder must be reachable by all
chmod 700 "$STATE/munge-key"
if [ ! -f "$STATE/ports.env" ]; then
  cat > "$STATE/ports.env" <<EOF
SLURMCTLD_PORT=${INPUTGRAD_SLURMCTLD_PORT:-6817}
SLURMD_PORT=${INPUTGRAD_SLURMD_PORT:-6818}
SLURMDBD_PORT=${INPUTGRAD_SLURMDBD_PORT:-6819}
MYSQL_PORT=${INPUTGRAD_MYSQL_PORT:-3307}
DB_PASSWORD=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
EOF
  chmod 600 "$STATE/ports.env"
fi
# shellcheck source=/dev/null
. "$STATE/ports.env"

HOST=$(hostname -s)
# this machine's node line (CPUs=2 ... RealMemory=24105); SLURM drains a node that has less
# than its configured RealMemory, so the configured value is what slurmd itself measures
NODE=$(slurmd -C | head -1)
CPUS=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$NODE")
MEMORY_MB=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$NODE")
[ -n "$CPUS" ] && [ -n "$MEMORY_MB" ] || die "cannot read CPUs and RealMemory from 'slurmd -C': $NODE"

fill() {  # template -> file, @NAME@ -> value
  sed -e "s|@STATE@|$STATE|g" -e "s|@HOST@|$HOST|g" -e "s|@CLUSTER@|inputgrad|g" \
      -e "s|@CPUS@|$CPUS|g" -e "s|@MEMORY_MB@|$MEMORY_MB|g" \
      -e "s|@SLURMCTLD_PORT@|$SLURMCTLD_PORT|g" -e "s|@SLURMD_PORT@|$SLURMD_PORT|g" \
      -e "s|@SLURMDBD_PORT@|$SLURMDBD_PORT|g" -e "s|@MYSQL_PORT@|$MYSQL_PORT|g" \
      -e "s|@DB_PASSWORD@|$DB_PASSWORD|g" "$1" > "$2.tmp"
  mv "$2.tmp" "$2"
}
fill "$HERE/slurm.conf.in" "$STATE/etc/slurm.conf"
fill "$HERE/slurmdbd.conf.in" "$STATE/etc/slurmdbd.conf"
chmod 644 "$STATE/etc/slurm.conf"
chmod 600 "$STATE/etc/slurmdbd.conf"   # slurmdbd refuses a readable file (it holds a password)
export SLURM_CONF="$STATE/etc/slurm.conf"   # slurmdbd reads slurmdbd.conf beside it
echo "export SLURM_CONF=$SLURM_CONF" > "$STATE/env"
# Inside a job, the Snakemake job step runs the rule through `srun` after removing every SLURM_*
# variable (SLURM_CONF too) from srun's environment, so srun finds the config only at SLURM's
# compiled-in place: link it there. A file that is not such a link (a real cluster's config) is
# left alone and stops the script; a link into another, stopped, state folder is replaced.
DEFAULT_CONF=/etc/slurm/slurm.conf
if [ "$(readlink "$DEFAULT_CONF" 2>/dev/null)" != "$SLURM_CONF" ]; then
  if [ -L "$DEFAULT_CONF" ]; then
    other=$(dirname "$(dirname "$(readlink "$DEFAULT_CONF")")")
    if [ -f "$other/run/slurmctld.pid" ] && kill -0 "$(cat "$other/run/slurmctld.pid")" 2>/dev/null; then
      die "$DEFAULT_CONF points at the running test cluster in $other; stop it first (tests/slurm/stop_cluster.sh $other)"
    fi
    rm -f "$DEFAULT_CONF"
  elif [ -e "$DEFAULT_CONF" ]; then
    die "$DEFAULT_CONF exists and is not a link made by this script (a real cluster?); not touching it"
  fi
  mkdir -p "$(dirname "$DEFAULT_CONF")"
  ln -s "$SLURM_CONF" "$DEFAULT_CONF"
fi

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
wait_for() {  # wait_for SECONDS WHAT LOG CMD...: poll CMD once a second
  local seconds=$1 what=$2 log=$3
  shift 3
  for _ in $(seq "$seconds"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  say "$what did not come up within ${seconds} s; last lines of $log:"
  tail -n 30 "$log" >&2 || true
  exit 1
}

# ---- munge ---------------------------------------------------------------------------------
SOCKET="$STATE/munge/munge.socket.2"
if [ ! -f "$STATE/munge-key/munge.key" ]; then
  (umask 077 && dd if=/dev/urandom of="$STATE/munge-key/munge.key" bs=1 count=1024 2>/dev/null)
  chmod 400 "$STATE/munge-key/munge.key"
fi
if ! alive "$STATE/run/munged.pid"; then
  rm -f "$SOCKET"
  munged --key-file="$STATE/munge-key/munge.key" --socket="$SOCKET" \
    --pid-file="$STATE/run/munged.pid" --log-file="$STATE/log/munged.log" \
    --seed-file="$STATE/munge-key/munged.seed" \
    || die "munged failed to start; see $STATE/log/munged.log"
fi
wait_for 30 munged "$STATE/log/munged.log" bash -c "munge -S '$SOCKET' -n | unmunge -S '$SOCKET'"

# ---- MariaDB (the accounting database) -----------------------------------------------------
MYSQL_SOCKET="$STATE/mysql/mysqld.sock"
if [ ! -d "$STATE/mysql/data/mysql" ]; then
  "$INSTALL_DB" --no-defaults --datadir="$STATE/mysql/data" --user=root \
    --auth-root-authentication-method=normal --skip-test-db > "$STATE/log/mariadb-install.log" 2>&1 \
    || die "$INSTALL_DB failed; see $STATE/log/mariadb-install.log"
fi
if ! alive "$STATE/run/mariadb.pid"; then
  nohup "$MARIADBD" --no-defaults --datadir="$STATE/mysql/data" --user=root \
    --socket="$MYSQL_SOCKET" --port="$MYSQL_PORT" --bind-address=127.0.0.1 \
    --pid-file="$STATE/run/mariadb.pid" --log-error="$STATE/log/mariadb.log" \
    --skip-name-resolve --innodb-buffer-pool-size=64M --innodb-log-file-size=48M \
    --innodb-lock-wait-timeout=900 --max-connections=100 > /dev/null 2>&1 &
fi
sql() { "$MARIADB" --no-defaults -S "$MYSQL_SOCKET" -uroot "$@"; }
wait_for 60 MariaDB "$STATE/log/mariadb.log" sql -e "SELECT 1"
sql <<EOF
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
EOF

# ---- slurmdbd, then the cluster, account and user in it ------------------------------------
if ! alive "$STATE/run/slurmdbd.pid"; then
  slurmdbd || die "slurmdbd failed to start; see $STATE/log/slurmdbd.log"
fi
wait_for 60 slurmdbd "$STATE/log/slurmdbd.log" sacctmgr -n list cluster
if [ -z "$(sacctmgr -n -P list cluster inputgrad format=cluster)" ]; then
  sacctmgr -i add cluster inputgrad >/dev/null
fi
if [ -z "$(sacctmgr -n -P list account inputgrad format=account)" ]; then
  sacctmgr -i add account inputgrad cluster=inputgrad Description="inputgrad tests" >/dev/null
fi
if [ -z "$(sacctmgr -n -P list user root format=user)" ]; then
  sacctmgr -i add user root account=inputgrad defaultaccount=inputgrad >/dev/null
elif [ -z "$(sacctmgr -n -P list assoc user=root account=inputgrad cluster=inputgrad format=user)" ]; then
  sacctmgr -i add user root account=inputgrad cluster=inputgrad >/dev/null
fi

# ---- slurmctld, slurmd ---------------------------------------------------------------------
if ! alive "$STATE/run/slurmctld.pid"; then
  slurmctld -i || die "slurmctld failed to start; see $STATE/log/slurmctld.log"
fi
wait_for 60 slurmctld "$STATE/log/slurmctld.log" scontrol ping
if ! alive "$STATE/run/slurmd.pid"; then
  slurmd || die "slurmd failed to start; see $STATE/log/slurmd.log"
fi
node_ready() {
  local state
  state=$(sinfo -h -n "$HOST" -o %T)
  case "$state" in
    idle | mixed | allocated | completing) return 0 ;;
    *) return 1 ;;
  esac
}
wait_for 60 "node $HOST" "$STATE/log/slurmd.log" node_ready
say "SLURM cluster 'inputgrad' up: node $HOST ($CPUS CPUs, $MEMORY_MB MB), state in $STATE"
echo "export SLURM_CONF=$SLURM_CONF"
