#!/usr/bin/env bash
# Debian packages the test suite uses, then a single-node SLURM (tests/slurm/ci_setup.sh). Needs root.
# libudunits2-0: UDUNITS for the CF checker (cfchecker) that every smoke netCDF file must pass;
# chromium + chromium-driver: the headless browser that opens the Snakemake report (tests/test_report.py).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export DEBIAN_FRONTEND=noninteractive
if ! ldconfig -p | grep -q libudunits2 || ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends libudunits2-0 chromium chromium-driver >/dev/null
fi
exec bash "$here/slurm/ci_setup.sh"
