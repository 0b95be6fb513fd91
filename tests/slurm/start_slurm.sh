#!/usr/bin/env bash
# Start a single-node SLURM cluster on localhost, for tests/test_slurm.py and CI.
#
# Usage (as root, on Debian):  bash tests/slurm/start_slurm.sh
# Idempotent: installs slurm-wlm + munge only when missing, rewrites the config, and
# (re)starts only the daemons that are not running. Exits non-zero with a reason if the
# node does not come up idle.
#
# Why each choice:
# - no systemd in containers/CI images: daemons are started directly, not via systemctl;
# - no cgroups (not mountable in most containers): proctrack/linuxproc + task/none;
# - no slurmdbd: accounting_storage/none, so the executor plugin must use `squeue` for
#   job status (sacct has no database); MinJobAge=3600 keeps finished jobs visible to
#   squeue long enough for the plugin to see their final state;
# - slurmd -N localhost: the node is "localhost" whatever the machine's hostname is;
# - select/cons_tres with CR_Core_Memory: jobs' --mem and CPU requests are enforced as on
#   a real cluster, so a profile that asks for too much fails here too.
set -euo pipefail

die() { echo "start_slurm.sh: ERROR: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (installs packages, writes /etc/slurm, starts daemons)"

# --- 1. install (only if missing) -------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    command -v apt-get >/dev/null || die "slurm/munge missing and apt-get not available (Debian expected)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || die "apt-get update failed"
    apt-get install -y -qq slurm-wlm munge >/dev/null || die "apt-get install slurm-wlm munge failed"
fi

# --- 2. munge (authentication between SLURM daemons and clients) ------------------------
mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
if [ ! -s /etc/munge/munge.key ]; then
    # Random 1 KiB key; `mungekey` is not present in every munge version.
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge
chmod 0700 /etc/munge /var/lib/munge /var/log/munge
chmod 0755 /run/munge
chmod 0400 /etc/munge/munge.key
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    # munged refuses to run as root by design; run it as the package's munge user.
    su -s /bin/sh munge -c "/usr/sbin/munged" || die "munged failed to start (see /var/log/munge/munged.log)"
    sleep 1
    munge -n | unmunge >/dev/null 2>&1 || die "munge round trip failed (see /var/log/munge/munged.log)"
fi

# --- 3. slurm.conf: this machine's CPUs and memory as one node -------------------------
CPUS=$(nproc --all)
MEM_MB=$(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo)
REAL_MEM=$(( MEM_MB * 90 / 100 ))      # leave 10% so slurmd does not drain the node for "low RealMemory"
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/slurm
cat > /etc/slurm/slurm.conf.new <<EOF
# Written by tests/slurm/start_slurm.sh: single-node test cluster on localhost.
ClusterName=attndyn-test
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
MinJobAge=3600
SlurmdTimeout=300
NodeName=localhost CPUs=${CPUS} RealMemory=${REAL_MEM} State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
CONF_CHANGED=0
if ! cmp -s /etc/slurm/slurm.conf.new /etc/slurm/slurm.conf 2>/dev/null; then
    mv /etc/slurm/slurm.conf.new /etc/slurm/slurm.conf
    CONF_CHANGED=1
else
    rm -f /etc/slurm/slurm.conf.new
fi

# --- 4. daemons: start the missing ones; restart both if the config changed -----------
running() { pgrep -x "$1" >/dev/null; }
if [ "$CONF_CHANGED" = 1 ]; then
    for d in slurmd slurmctld; do
        if running "$d"; then kill "$(pgrep -x "$d")" || true; fi
    done
    sleep 2
fi
running slurmctld || /usr/sbin/slurmctld || die "slurmctld failed to start (see /var/log/slurm/slurmctld.log)"
running slurmd    || /usr/sbin/slurmd -N localhost || die "slurmd failed to start (see /var/log/slurm/slurmd.log)"

# --- 5. wait until the node is idle (or resume it once if it came up down/drained) -----
for i in $(seq 1 60); do
    STATE=$(sinfo -h -n localhost -o '%t' 2>/dev/null | head -1 || true)
    case "$STATE" in
        idle|mix|alloc) echo "start_slurm.sh: SLURM up: node localhost $STATE, ${CPUS} CPUs, ${REAL_MEM} MB"; exit 0 ;;
        down*|drain*|drng*) scontrol update NodeName=localhost State=RESUME 2>/dev/null || true ;;
    esac
    sleep 1
done
echo "--- sinfo:" >&2; sinfo -N -l >&2 || true
echo "--- slurmctld.log tail:" >&2; tail -5 /var/log/slurm/slurmctld.log >&2 || true
echo "--- slurmd.log tail:" >&2; tail -5 /var/log/slurm/slurmd.log >&2 || true
die "node localhost not idle after 60 s (last state: '${STATE:-none}')"
