"""Job count and wall time of a whole run, with and without batched sweep values (issue #15's budget).

    python benchmarks/default_run.py                       # job counts only (dry runs, seconds)
    python benchmarks/default_run.py --run --cores 2       # also time a full --forceall run of each, in copies

"Batched" is the config as it is: sweep values an experiment or map lists under `batch` train as one ensemble in one
job. "Unbatched" is the same config with every `batch` list emptied, so each value is its own cell and job (the
pipeline before batching; the numbers are the same to rounding, tested to 1e-10). Prints one line per variant:
jobs, train jobs, and with --run the wall time. A full run writes into a temporary copy of the workflow, never
into this checkout's results/.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def unbatched_override(configfiles: list[str]) -> dict:
    """A config layer that empties every experiment's and every map's `batch` list."""
    sys.path.insert(0, str(REPO / "lib"))
    from attndyn.config import deep_merge, load_yaml, validate

    config = load_yaml(REPO / "config" / "config.yaml")
    for name in configfiles:
        config = deep_merge(config, load_yaml(REPO / name))
    config = validate(config)
    out: dict = {}
    for study in config["studies"]:
        section = config[study]
        for kind in ("experiments", "maps"):
            for name, entry in (section.get(kind) or {}).items():
                if isinstance(entry, dict) and entry.get("batch"):
                    out.setdefault(study, {}).setdefault(kind, {})[name] = {"batch": []}
    return out


def job_counts(workdir: Path, configfiles: list[str]) -> tuple[int, int]:
    """(all jobs, train jobs) a --forceall dry run plans."""
    proc = subprocess.run([SNAKEMAKE, "-n", "--forceall", "--configfile", *configfiles], cwd=workdir, text=True,
                          capture_output=True)
    if proc.returncode != 0:
        sys.exit(f"snakemake -n failed:\n{proc.stderr[-3000:]}")
    text = proc.stdout + proc.stderr
    total = re.search(r"^total\s+(\d+)", text, re.MULTILINE)
    train = re.search(r"^train\s+(\d+)", text, re.MULTILINE)
    return int(total.group(1)) if total else 0, int(train.group(1)) if train else 0


def timed_run(workdir: Path, configfiles: list[str], cores: int) -> float:
    start = time.perf_counter()
    proc = subprocess.run([SNAKEMAKE, "--cores", str(cores), "--forceall", "--configfile", *configfiles],
                          cwd=workdir, text=True, capture_output=True)
    if proc.returncode != 0:
        sys.exit(f"snakemake failed:\n{proc.stderr[-3000:]}")
    return time.perf_counter() - start


def copy_workflow(target: Path) -> Path:
    for name in ("Snakefile", "config", "workflow", "lib"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target / name)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configfile", nargs="*", default=["config/config.yaml"])
    parser.add_argument("--run", action="store_true", help="also time a full --forceall run of each variant")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--only", choices=("batched", "unbatched"), help="run one variant only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "unbatched.yaml").write_text(yaml.safe_dump(unbatched_override(args.configfile)))
        variants = {"batched": list(args.configfile),
                    "unbatched": [*args.configfile, str(Path(tmp) / "unbatched.yaml")]}
        for name, files in variants.items():
            if args.only and name != args.only:
                continue
            workdir = copy_workflow(Path(tmp) / name) if (Path(tmp) / name).mkdir() is None else None
            jobs, train = job_counts(workdir, files)
            line = f"{name:9s}: {jobs} jobs ({train} train)"
            if args.run:
                line += f"; --cores {args.cores} --forceall wall time {timed_run(workdir, files, args.cores):.0f} s"
            print(line, flush=True)


if __name__ == "__main__":
    main()
