"""Seconds `snakemake -n` takes on a finished run (the cost of "is anything out of date?").

    python benchmarks/noop_dryrun.py [--workdir DIR] [--configfile config/smoke.yaml] [--repeat 3]

DIR must hold a finished run (Snakefile, config/, workflow/, results/), e.g. the repository after
`snakemake --cores all --configfile config/smoke.yaml`. Prints each timing and the best; fails if the
dry run plans any job, because then it is not a no-op and the timing means something else.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def dry_run_seconds(workdir: Path, configfile: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run([SNAKEMAKE, "-n", "--configfile", configfile], cwd=workdir, text=True,
                          capture_output=True, env=os.environ)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"snakemake -n failed:\n{proc.stderr[-3000:]}")
    if re.search(r"^(local)?rule \w+:", proc.stdout + proc.stderr, re.MULTILINE):
        sys.exit("snakemake -n plans jobs: the run in --workdir is not finished (or is out of date)")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path.cwd())
    parser.add_argument("--configfile", default="config/smoke.yaml")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    times = [dry_run_seconds(args.workdir, args.configfile) for _ in range(args.repeat)]
    print("no-op dry run: " + ", ".join(f"{t:.2f}" for t in times) + f" s; best {min(times):.2f} s")


if __name__ == "__main__":
    main()
