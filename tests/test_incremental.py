"""Caching: after a full smoke run, one new value on a sweep axis plans only the new cells.

Adds snr=2.0 to signgd's `snr` experiment through an extra --configfile (lists are replaced, so the
file repeats the existing values) and parses `snakemake -n`: train jobs must be exactly the new
cells; everything else planned must be a dependant of them (their data, the snr aggregate, figures,
claims), never a rerun of an existing cell.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from workflow_helpers import copy_workflow, snakemake

pytestmark = pytest.mark.slow

NEW_SNR = 2.0
JOB_RE = re.compile(r"^(?:local)?rule (\w+):\n((?:[ \t]+.*\n?)*)", re.MULTILINE)


def planned_jobs(dry_run_output: str) -> list[tuple[str, list[str]]]:
    """(rule, outputs) for every job block of `snakemake -n` output."""
    jobs = []
    for rule, body in JOB_RE.findall(dry_run_output):
        outputs = re.search(r"^\s+output: (.*)$", body, re.MULTILINE)
        jobs.append((rule, outputs.group(1).split(", ") if outputs else []))
    return jobs


@pytest.fixture(scope="module")
def finished_smoke_run(tmp_path_factory) -> Path:
    workdir = copy_workflow(tmp_path_factory.mktemp("incremental"))
    snakemake(workdir, "--configfile", "config/smoke.yaml", "--cores", "2")
    return workdir


def test_finished_run_plans_nothing(finished_smoke_run):
    out = snakemake(finished_smoke_run, "-n", "--configfile", "config/smoke.yaml")
    assert planned_jobs(out.stdout + out.stderr) == []


def test_new_sweep_value_trains_only_new_cells(finished_smoke_run):
    workdir = finished_smoke_run
    config = yaml.safe_load((workdir / "config" / "config.yaml").read_text())
    snr = config["signgd"]["experiments"]["snr"]
    old_values = snr["sweep"]["snr"]
    extra = {"signgd": {"experiments": {"snr": {"sweep": {"snr": [*old_values, NEW_SNR]}}}}}
    (workdir / "config" / "more_snr.yaml").write_text(yaml.safe_dump(extra))

    out = snakemake(workdir, "-n", "--configfile", "config/smoke.yaml", "config/more_snr.yaml")
    jobs = planned_jobs(out.stdout + out.stderr)
    outputs = {rule: [o for r, outs in jobs if r == rule for o in outs] for rule, _ in jobs}

    new_cells = {f"results/signgd/cells/snr/snr-{NEW_SNR}__optimizer-{opt}.nc" for opt in snr["optimizers"]}
    assert set(outputs["train"]) == new_cells, outputs["train"]
    assert all(f"snr-{NEW_SNR}" in path for path in outputs.get("data", [])), outputs.get("data")
    assert outputs["aggregate"] == ["results/signgd/snr.nc"]
    assert set(outputs) <= {"data", "train", "aggregate", "figure", "claims", "all_claims", "all"}, set(outputs)
    for path in outputs["train"]:     # nothing planned was already on disk before the change
        assert not (workdir / path).exists(), path


def test_report_has_figures_with_captions(finished_smoke_run):
    """`snakemake --report` works on a finished run and renders each figure's caption (params.caption)."""
    snakemake(finished_smoke_run, "--report", "report.html", "--configfile", "config/smoke.yaml")
    html = (finished_smoke_run / "report.html").read_text()
    assert "Each row is one claim" in html                     # workflow/report/claims.rst
    assert "<p>Fig. 1: SignGD dynamics" in html                 # figure.rst -> {{ snakemake.params.caption }}
    assert "snakemake.params" not in html                       # no unrendered template left
