#!/usr/bin/env bash
# CI: bring up a single-node SLURM on a fresh Debian machine before pytest, so tests/test_slurm.py
# runs (with CI set it fails rather than skips when SLURM is missing). Needs root.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export DEBIAN_FRONTEND=noninteractive
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq slurm-wlm munge >/dev/null
fi
exec bash "$here/start_slurm.sh"
