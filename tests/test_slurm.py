"""The smoke config run through the real SLURM profile gives the same numbers as a local run.

Needs a running SLURM (tests/slurm/start_slurm.sh starts a single-node one on localhost). Without
one the test is skipped on a laptop and FAILS under CI (env var CI set), so CI cannot silently skip it.
"""
from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from workflow_helpers import REPO, SMOKE, assert_same_numbers, copy_workflow, snakemake

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

PROFILE = REPO / "workflow" / "profiles" / "slurm" / "config.yaml"
GPU_KEYS = ("gpu", "gpu_model", "gres")    # the test cluster has no GPU: these are dropped, nothing else


def require_slurm() -> None:
    """Skip (or fail under CI) with the reason when no SLURM controller answers."""
    try:
        out = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, timeout=30)
        reason = None if out.returncode == 0 and out.stdout.strip() else (out.stderr.strip() or "no nodes")
    except (FileNotFoundError, subprocess.TimeoutExpired) as err:
        reason = repr(err)
    if reason:
        msg = f"SLURM not available (sinfo: {reason}); start it with tests/slurm/start_slurm.sh"
        pytest.fail(msg) if os.environ.get("CI") else pytest.skip(msg)


def test_cluster_profile_requests_gpu_for_train_only():
    profile = yaml.safe_load(PROFILE.read_text())
    assert profile["executor"] == "slurm"
    assert int(profile["set-resources"]["train"]["gpu"]) >= 1
    others = {r: res for r, res in profile["set-resources"].items() if r != "train"}
    assert not any(k in res for res in others.values() for k in GPU_KEYS)
    assert not any(k in profile["default-resources"] for k in GPU_KEYS)


def test_test_cluster_profile_is_the_real_one_minus_gpus(tmp_path):
    real, test = yaml.safe_load(PROFILE.read_text()), yaml.safe_load(test_profile(tmp_path).read_text())
    for key, value in real.items():
        if key != "set-resources":
            assert test[key] == value, key
    for rule, resources in real["set-resources"].items():
        assert test["set-resources"][rule] == {k: v for k, v in resources.items() if k not in GPU_KEYS}


CLUSTER_STUDIES = ["signgd"]     # every stage and rule, through sbatch; one study keeps the test at ~2 minutes


def test_slurm_smoke_equals_local(tmp_path, smoke_run):
    """The smoke config through the real SLURM profile gives the same numbers as a local run (for the study in
    CLUSTER_STUDIES: the rules are generic, so one study exercises every rule on the cluster)."""
    require_slurm()
    profile = test_profile(tmp_path)
    local, cluster = smoke_run, copy_workflow(tmp_path / "slurm")
    (cluster / "cluster.yaml").write_text(yaml.safe_dump({"studies": CLUSTER_STUDIES}))
    started = time.monotonic()
    run = snakemake(cluster, *SMOKE, "cluster.yaml", "--workflow-profile", str(profile.parent), timeout=1500)
    print(f"smoke wall time through SLURM: {time.monotonic() - started:.1f} s")

    assert_jobs_ran_on_slurm(run.stdout + run.stderr)
    experiments = sorted(p for s in CLUSTER_STUDIES for p in (local / "results" / s).glob("*.nc"))
    assert experiments, "local run produced no results/<study>/<experiment>.nc"
    for nc in experiments:
        assert_same_numbers(nc, cluster / nc.relative_to(local))
    for study in CLUSTER_STUDIES:
        a, b = (pd.read_csv(run_dir / "results" / study / "claims.csv") for run_dir in (local, cluster))
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-10)


def test_profile(tmp_path: Path) -> Path:
    """Write the real SLURM profile, minus GPU requests, plus test-cluster status settings."""
    profile = yaml.safe_load(PROFILE.read_text())
    for resources in profile.get("set-resources", {}).values():
        for key in GPU_KEYS:
            resources.pop(key, None)
    # The test cluster has no accounting database: job status comes from squeue (MinJobAge=3600 there).
    profile["slurm-status-command"] = "squeue"
    # Poll early: smoke jobs take seconds, the plugin's default first poll is after 40 s.
    profile["slurm-init-seconds-before-status-checks"] = 5
    out = tmp_path / "slurm-test-profile" / "config.yaml"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(profile))
    return out


test_profile.__test__ = False   # a helper, not a test (its name starts with test_)


def assert_jobs_ran_on_slurm(log: str) -> None:
    """Every non-local rule had jobs submitted through sbatch (the plugin logs each submission)."""
    rules = set(re.findall(r"submitted with SLURM jobid \d+ \(log: \S*/slurm_logs/rule_(\w+)/", log))
    assert {"data", "train", "aggregate", "figure", "claims"} <= rules, f"SLURM jobs only for rules {rules}"
