"""Caching: after a full smoke run, one new value on a sweep axis plans only the new cells.

Adds snr=2.0 to signgd's `snr` experiment through an extra --configfile (lists are replaced, so the
file repeats the existing values) and parses `snakemake -n`: train jobs must be exactly the new
cells; everything else planned must be a dependant of them (their data, the snr aggregate, figures,
claims), never a rerun of an existing cell.
"""
from __future__ import annotations

import pytest
import yaml

from conftest import merged_config
from workflow_helpers import planned_jobs, snakemake

pytestmark = pytest.mark.slow

NEW_SNR = 2.0


def test_finished_run_plans_nothing(smoke_run):
    out = snakemake(smoke_run, "-n", "--configfile", "config/smoke.yaml")
    assert planned_jobs(out.stdout + out.stderr) == []


def test_new_sweep_value_trains_only_new_cells(smoke_run):
    workdir = smoke_run
    config = merged_config("smoke.yaml")          # the values the finished smoke run used
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
    # figures and maps take the study's settings as a param, so they redraw; the sensitivity table follows the maps
    assert set(outputs) <= {"data", "train", "aggregate", "figure", "map", "sensitivity", "claims", "all_claims",
                            "all"}, set(outputs)
    for path in outputs["train"]:     # nothing planned was already on disk before the change
        assert not (workdir / path).exists(), path


def test_report_has_figures_with_captions(smoke_run):
    """`snakemake --report` works on a finished run and renders each figure's caption (params.caption)."""
    snakemake(smoke_run, "--report", "report.html", "--configfile", "config/smoke.yaml")
    html = (smoke_run / "report.html").read_text()
    assert "each row is one claim" in html                     # workflow/report/claims.rst
    assert "<p>Fig. 1: SignGD dynamics" in html                 # figure.rst -> {{ snakemake.params.caption }}
    assert "snakemake.params" not in html                       # no unrendered template left
