"""Helpers for the end-to-end tests: run Snakemake on a temporary copy of the workflow."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import xarray as xr

REPO = Path(__file__).resolve().parents[1]
# The venv's snakemake next to the running interpreter, so tests use the same environment as pytest.
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
JOB_RE = re.compile(r"^(?:local)?rule (\w+):\n((?:[ \t]+.*\n?)*)", re.MULTILINE)


def copy_workflow(dest: Path) -> Path:
    """Copy what a run needs (Snakefile, config/, workflow/, the package in lib/) into `dest`.

    Results land in dest/results; jobs import the copied package, so a test may edit it safely.
    """
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "Snakefile", dest / "Snakefile")
    for folder in ("config", "workflow", "lib"):
        shutil.copytree(REPO / folder, dest / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return dest


IMPORT_LOG = "import_log"          # jobs list the package modules they imported here (jobs/common.record_imports)


def workflow_env(workdir: Path | None = None) -> dict:
    """Environment for Snakemake subprocesses: the (copied) package importable (PYTHONPATH) and the
    venv first on PATH, so that cluster jobs (sbatch --export=ALL) find the same python and package.
    Jobs record the package modules they import under <workdir>/import_log (a testing hook)."""
    env = dict(os.environ)
    if workdir is not None:
        env["ATTNDYN_IMPORT_LOG"] = str(workdir / IMPORT_LOG)
    lib = str(workdir / "lib" if workdir is not None and (workdir / "lib").exists() else REPO / "lib")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (lib, env.get("PYTHONPATH", "")) if p)
    env["PATH"] = os.pathsep.join((str(Path(sys.executable).parent), env.get("PATH", "")))
    return env


def start_snakemake(workdir: Path, *args: str) -> subprocess.Popen:
    """Start snakemake in `workdir` in the background; finish it with `wait_snakemake`."""
    return subprocess.Popen([SNAKEMAKE, *args], cwd=workdir, env=workflow_env(workdir), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_snakemake(proc: subprocess.Popen, timeout: float = 900, check: bool = True) -> subprocess.CompletedProcess:
    """Wait for a started snakemake; on failure the assertion message carries the log tail."""
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()            # lets snakemake cancel its SLURM jobs
        stdout, stderr = proc.communicate(timeout=60)
    proc = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    args = proc.args[1:]
    assert not check or proc.returncode == 0, (f"snakemake {' '.join(args)} failed ({proc.returncode}):\n"
                                  f"{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc


def snakemake(workdir: Path, *args: str, timeout: float = 900, check: bool = True) -> subprocess.CompletedProcess:
    """Run snakemake in `workdir` and wait for it (asserting success unless check=False)."""
    return wait_snakemake(start_snakemake(workdir, *args), timeout, check)


SMOKE = ("--configfile", "config/smoke.yaml")


def planned_jobs(dry_run_output: str) -> list[tuple[str, list[str]]]:
    """(rule, outputs) for every job block of `snakemake -n` output."""
    jobs = []
    for rule, body in JOB_RE.findall(dry_run_output):
        outputs = re.search(r"^\s+output: (.*)$", body, re.MULTILINE)
        jobs.append((rule, outputs.group(1).split(", ") if outputs else []))
    return jobs


def planned(proc: subprocess.CompletedProcess, rule: str) -> list[str]:
    """Outputs of the jobs of one rule in a dry run."""
    return [o for r, outs in planned_jobs(proc.stdout + proc.stderr) if r == rule for o in outs]


def assert_same_numbers(a_path: Path, b_path: Path, rtol: float = 1e-10, atol: float = 1e-12) -> None:
    """Numeric variables and coordinates of two netCDF files agree; provenance attributes are ignored."""
    with xr.open_dataset(a_path) as a, xr.open_dataset(b_path) as b:
        assert set(a.data_vars) == set(b.data_vars), a_path.name
        assert dict(a.sizes) == dict(b.sizes), a_path.name
        for name in list(a.data_vars) + list(a.coords):
            x, y = a[name].values, b[name].values
            if np.issubdtype(x.dtype, np.number) or x.dtype == bool:
                np.testing.assert_allclose(x.astype(float), y.astype(float), rtol=rtol, atol=atol,
                                           equal_nan=True, err_msg=f"{a_path.name}:{name}")
            else:
                assert (x == y).all(), f"{a_path.name}:{name}"
