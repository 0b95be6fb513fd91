"""Config loading and validation: every bad input is one clear line naming the key."""
from __future__ import annotations

import copy

import pytest

from attndyn.config import deep_merge, load_yaml, validate
from attndyn.errors import ConfigError
from conftest import REPO, merged_config


def _error(config: dict) -> str:
    with pytest.raises(ConfigError) as info:
        validate(config)
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("name", ["smoke.yaml", "paper.yaml"])
def test_shipped_configs_validate(name):
    merged_config(name)


def test_deep_merge_keeps_siblings_and_replaces_lists():
    merged = deep_merge({"a": {"b": 1, "c": [1, 2]}, "d": 0}, {"a": {"c": [3]}})
    assert merged == {"a": {"b": 1, "c": [3]}, "d": 0}


@pytest.mark.parametrize("edit, key_fragment", [
    (lambda c: c["signgd"]["optimizers"]["adam"].update(lr=-1e-3), "signgd.optimizers.adam.lr"),
    (lambda c: c["signgd"]["data"].update(n=0), "signgd.data.n"),
    (lambda c: c["signgd"]["model"].update(m_k="ten"), "signgd.model.m_k"),
    (lambda c: c["signgd"]["data"].update(nn=3), "unknown key 'nn'"),
    (lambda c: c.update(studies=["singgd"]), "studies.0"),
    (lambda c: c.update(dtype="float16"), "dtype"),
    (lambda c: c["signgd"]["experiments"]["dynamics"].update(optimizers=["adamx"]), "unknown optimizer 'adamx'"),
    (lambda c: c["signgd"]["optimizers"].update(lion={"lr": 1e-3, "steps": 10}), "unknown optimizer rule 'lion'"),
    (lambda c: c["signgd"]["experiments"]["snr"]["sweep"].update(n=[0]), "data.n"),
    (lambda c: c["signgd"]["experiments"]["snr"].update(overrides={"gd": {"lr": -1.0}}), "overrides.gd.lr"),
])
def test_bad_config_one_line_names_key(default_config, edit, key_fragment):
    config = copy.deepcopy(default_config)
    edit(config)
    assert key_fragment in _error(config)


def test_corrupt_yaml_is_config_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("signgd: [unclosed\n")
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_yaml(bad)


def test_study_listed_without_section(default_config):
    config = copy.deepcopy(default_config)
    del config["signgd"]
    assert "no 'signgd:' section" in _error(config)


def test_default_config_file_exists():
    assert (REPO / "config" / "config.yaml").exists()
