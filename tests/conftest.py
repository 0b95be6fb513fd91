"""Shared fixtures: the validated configs and a tiny signgd cell."""
from __future__ import annotations

from pathlib import Path

import pytest

from attndyn.config import deep_merge, load_yaml, validate

REPO = Path(__file__).resolve().parents[1]


def merged_config(*overrides: str) -> dict:
    config = load_yaml(REPO / "config" / "config.yaml")
    for name in overrides:
        config = deep_merge(config, load_yaml(REPO / "config" / name))
    return validate(config)


@pytest.fixture(scope="session")
def default_config() -> dict:
    return merged_config()


@pytest.fixture(scope="session")
def smoke_config() -> dict:
    return merged_config("smoke.yaml")


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory) -> Path:
    """One finished smoke-config run (all studies) in a temporary copy of the workflow and package,
    shared by the end-to-end, incremental and SLURM tests."""
    import time

    from workflow_helpers import SMOKE, copy_workflow, snakemake

    workdir = copy_workflow(tmp_path_factory.mktemp("smoke"))
    started = time.perf_counter()
    snakemake(workdir, *SMOKE, "--cores", "2")
    print(f"\nsmoke pipeline wall time: {time.perf_counter() - started:.1f} s")
    return workdir
