"""Shared fixtures: the validated configs and a tiny signgd cell."""
from __future__ import annotations

import copy
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


@pytest.fixture
def smoke(smoke_config) -> dict:
    return copy.deepcopy(smoke_config)
