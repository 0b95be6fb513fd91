"""End to end through Snakemake on the smoke config: output contract, caching, bad input, resume."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from attndyn.claims import COLUMNS, read_claims
from attndyn.config import deep_merge, load_yaml, validate
from attndyn.results import read_netcdf
from attndyn.workflow import Plan
from cf_check import cf_problems
from workflow_helpers import SMOKE, copy_workflow, planned, snakemake, workflow_env

pytestmark = pytest.mark.slow


def test_output_contract(smoke_run, smoke_config):
    results = smoke_run / "results"
    plan = Plan(smoke_config)
    for study, sp in plan.studies.items():
        for experiment, axes in sp.axes.items():
            ds = read_netcdf(results / study / f"{experiment}.nc")
            assert {"seed", "step", *axes} <= set(ds.dims), (study, experiment)
            for key in ("config", "attndyn_version", "git_commit", "torch_version", "device", "dtype", "wall_time_s"):
                assert key in ds.attrs, (study, experiment, key)
            assert "long_name" in ds["train_loss"].attrs and "diverged" in ds
        for figure in sp.figures:
            for ext in ("png", "pdf"):
                assert (results / study / "figures" / f"{figure}.{ext}").stat().st_size > 1000
        rows = read_claims(results / study / "claims.csv")
        assert rows and all(set(COLUMNS) <= set(r) for r in rows)
    joined = read_claims(results / "claims.csv")
    assert {r["study"] for r in joined} == set(plan.studies)


def test_every_netcdf_file_passes_the_cf_checker(smoke_run):
    """Cells, experiments and maps: CF-1.8 with no error or warning from the `cfchecker` package."""
    files = sorted((smoke_run / "results").rglob("*.nc"))
    assert len(files) > 20
    problems = {str(f.relative_to(smoke_run)): found for f in files if (found := cf_problems(f))}
    assert not problems, problems


def test_job_logs_hold_settings_progress_and_no_warnings(smoke_run):
    """Each train log names its cell, settings, device and dtype and reports progress with a loss per seed; no
    job log of a clean run holds a warning or a traceback."""
    logs = sorted((smoke_run / "logs").rglob("*.log"))
    train = [p for p in logs if p.parts[-3] == "train" or p.parts[-4] == "train"]
    assert train and len(logs) > len(train)
    for path in train:
        text = path.read_text()
        assert "cell " in text and "settings {" in text and ("on cpu, float64" in text or "on cpu, float32" in text)
        assert "(100%): loss of each run (seed) [" in text and "steps/s; ETA" in text, path
    for path in logs:
        text = path.read_text()
        assert "Warning" not in text and "Traceback" not in text, (path, text[-2000:])


def test_noop_after_finished_run(smoke_run):
    proc = snakemake(smoke_run, "-n", *SMOKE)
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_changing_one_lr_reruns_only_that_optimizer(smoke_run, smoke_config):
    """Exactly the cells whose resolved settings use the changed lr are planned (experiments that
    override Adam's lr keep theirs), all of them Adam cells, and no data is regenerated."""
    (smoke_run / "lr.yaml").write_text("signgd:\n  optimizers:\n    adam: {lr: 2.0e-3}\n")
    proc = snakemake(smoke_run, "-n", *SMOKE, "lr.yaml")
    before = Plan(smoke_config)
    after = Plan(validate(deep_merge(smoke_config, load_yaml(smoke_run / "lr.yaml"))))
    changed = {f"results/signgd/cells/{exp}/{cell.id}.nc" for exp, cells in after.studies["signgd"].experiments.items()
               for cell in cells if cell.settings != before.cell("signgd", exp, cell.id).settings}
    trained = set(planned(proc, "train"))
    assert trained == changed and changed and all("optimizer-adam" in path for path in trained), trained
    assert not planned(proc, "data")


def test_editing_package_code_reruns_affected_jobs(smoke_run):
    model = smoke_run / "lib/attndyn/studies/signgd/model.py"
    figures = smoke_run / "lib/attndyn/studies/signgd/figures.py"
    original_model, original_figures = model.read_text(), figures.read_text()
    try:
        model.write_text(original_model + "\n# edited\n")
        proc = snakemake(smoke_run, "-n", *SMOKE)
        n_cells = len(list((smoke_run / "results/signgd/cells").rglob("*.nc")))
        assert len([p for p in planned(proc, "train") if "/signgd/" in p]) == n_cells
        assert not planned(proc, "data")
        model.write_text(original_model)
        figures.write_text(original_figures + "\n# edited\n")
        proc = snakemake(smoke_run, "-n", *SMOKE)
        assert not planned(proc, "train") and not planned(proc, "aggregate")
        assert all("/signgd/figures/" in p for p in planned(proc, "figure")) and planned(proc, "figure")
    finally:
        model.write_text(original_model)
        figures.write_text(original_figures)


def test_bad_config_stops_before_any_job_and_touches_nothing(smoke_run):
    results = smoke_run / "results"
    before = {p: p.stat().st_mtime_ns for p in results.rglob("*") if p.is_file()}
    (smoke_run / "bad.yaml").write_text("signgd:\n  optimizers:\n    gd: {lr: -0.5}\n")
    proc = snakemake(smoke_run, "--cores", "2", *SMOKE, "bad.yaml", check=False)
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if line.startswith("config error")]
    assert errors == ["config error: signgd.optimizers.gd.lr: -0.5 is less than or equal to the minimum of 0"]
    after = {p: p.stat().st_mtime_ns for p in results.rglob("*") if p.is_file()}
    assert before == after


def test_diverging_run_is_flagged_and_workflow_goes_on(tmp_path):
    workdir = copy_workflow(tmp_path)
    (workdir / "diverge.yaml").write_text(
        "studies: [signgd]\nsigngd:\n  experiments:\n"
        "    snr: {overrides: {gd: {lr: 1.0e+200}}}   # weights overflow: softmax scores become inf -> NaN\n")
    snakemake(workdir, "--cores", "2", "results/signgd/claims.csv",
              "results/signgd/figures/fig2d_snr_test_loss.png", *SMOKE, "diverge.yaml")
    ds = read_netcdf(workdir / "results/signgd/snr.nc")
    assert bool(ds.diverged.sel(optimizer="gd").all()) and not bool(ds.diverged.sel(optimizer="signgd").any())
    assert np.isnan(ds.train_loss.sel(optimizer="gd").isel(step=-1)).all()


def _train_cmd(workdir: Path, out: str) -> list[str]:
    code = ("import sys; from attndyn.config import load_yaml, deep_merge; "
            "from attndyn.workflow import validated_plan; "
            "from attndyn.jobs.data import run_data; from attndyn.jobs.train import run_train; "
            "c = deep_merge(deep_merge(load_yaml('config/config.yaml'), load_yaml('config/smoke.yaml')), "
            "load_yaml('long.yaml')); p = validated_plan(c); cell = p.cell('signgd', 'dynamics', 'optimizer-adam'); "
            "out = sys.argv[1]; data = out.replace('.nc', '.npz'); "
            "run_data('signgd', p.dataset_params('signgd', cell.dataset), data); "
            "run_train(c, 'signgd', cell.to_json(), 'code-digest', data, out)")
    return [sys.executable, "-c", code, out]


def test_killed_train_job_resumes_bit_identical(tmp_path):
    workdir = copy_workflow(tmp_path)
    (workdir / "long.yaml").write_text("checkpoint_every: 100\nsigngd:\n  optimizers:\n    adam: {steps: 4000}\n")
    killed = "results/signgd/cells/dynamics/optimizer-adam.nc"
    ckpt = workdir / "results/.checkpoints/signgd/dynamics/optimizer-adam.pt"
    proc = subprocess.Popen(_train_cmd(workdir, killed), cwd=workdir, env=workflow_env(workdir))
    deadline = time.time() + 120
    while not ckpt.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert ckpt.exists() and not (workdir / killed).exists()
    subprocess.run(_train_cmd(workdir, killed), cwd=workdir, env=workflow_env(workdir), check=True)
    reference = "reference/signgd/cells/dynamics/optimizer-adam.nc"
    subprocess.run(_train_cmd(workdir, reference), cwd=workdir, env=workflow_env(workdir), check=True)
    resumed, fresh = read_netcdf(workdir / killed), read_netcdf(workdir / reference)
    assert resumed.attrs["resumed_from_step"] > 0 and fresh.attrs["resumed_from_step"] == 0
    for name in fresh.data_vars:
        np.testing.assert_array_equal(resumed[name].values, fresh[name].values)
    assert not ckpt.exists()
