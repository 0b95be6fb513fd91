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
    (lambda c: c["signgd"]["data"]["synthetic"].update(n=0), "signgd.data.synthetic.n"),
    (lambda c: c["signgd"]["model"].update(m_k="ten"), "signgd.model.m_k"),
    (lambda c: c["signgd"]["data"]["synthetic"].update(nn=3), "unknown key 'nn'"),
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


def test_study_listed_without_section_gets_every_default(default_config):
    """Defaults live in the schemas now: listing a study is enough (it used to need a section)."""
    config = copy.deepcopy(default_config)
    del config["signgd"]
    assert validate(config)["signgd"] == default_config["signgd"]


def test_unlisted_study_section_is_still_checked():
    assert "signgd.data.synthetic.n" in _error({"studies": ["precond"], "signgd": {"data": {"synthetic": {"n": 0}}}})


def test_default_config_file_exists():
    assert (REPO / "config" / "config.yaml").exists()


def test_defaults_live_in_the_schemas(default_config):
    """config/config.yaml lists no study section: every study key comes from its schema's default."""
    raw = load_yaml(REPO / "config" / "config.yaml")
    assert not any(name in raw for name in default_config["studies"])
    assert validate({"studies": ["signgd"]})["signgd"] == default_config["signgd"]


def test_a_mapping_merges_over_its_defaults_key_by_key(default_config):
    config = validate({"studies": ["signgd"], "signgd": {"log": {"points_per_decade": 7},
                                                         "optimizers": {"adam": {"lr": 1e-3}}}})
    log, adam = config["signgd"]["log"], config["signgd"]["optimizers"]["adam"]
    assert log["points_per_decade"] == 7 and log["extra_steps"] == default_config["signgd"]["log"]["extra_steps"]
    assert adam["lr"] == 1e-3 and adam["steps"] == default_config["signgd"]["optimizers"]["adam"]["steps"]


def test_null_empties_a_mapping_and_removes_a_table_entry():
    config = validate({"studies": ["signgd"],
                       "signgd": {"experiments": {"digits": {"overrides": None}, "snr": None},
                                  "maps": {"snr_sparsity": None}}})
    experiments = config["signgd"]["experiments"]
    assert "snr" not in experiments and experiments["digits"]["overrides"] == {}


@pytest.mark.parametrize("section, replacement", [
    ({"digits": {"n_train": 3}}, "signgd.digits is no longer a key: the digits data block moved to signgd.data.digits"),
    ({"plot": {}}, "signgd.plot is no longer a key: plot settings are under signgd.figures"),
    ({"experiments": {"snr": {"iters": 5}}},
     "signgd.experiments.snr.iters is no longer a key: the run length is `steps`"),
])
def test_an_old_key_names_its_replacement(section, replacement):
    assert replacement in _error({"studies": ["signgd"], "signgd": section})


def test_any_registry_rule_and_its_settings_are_checked():
    assert "rule 'adam' has no setting 'beta'" in _error({"studies": ["signgd"],
                                                          "signgd": {"optimizers": {"adam": {"beta": 0.5}}}})
    assert "overrides.gd.lr" in _error({"studies": ["signgd"], "signgd": {
        "experiments": {"snr": {"overrides": {"gd": {"lr": -1.0}}}}}})


def _schema_keys(schema: dict, root: dict, path: str):
    from attndyn.config import resolve

    schema = resolve(schema, root)
    for key, sub in schema.get("properties", {}).items():
        sub = resolve(sub, root)
        yield f"{path}{key}", sub
        yield from _schema_keys(sub, root, f"{path}{key}.")


@pytest.mark.parametrize("study", ["signgd", "multihead", "precond", "kernels"])
def test_every_schema_key_has_a_description_and_a_default(study):
    from attndyn.studies import get_study

    schema = get_study(study).schema()
    keys = list(_schema_keys(schema, schema, f"{study}."))
    keys += list(_schema_keys(schema["$defs"]["experiment"], schema, f"{study}.experiments.<name>."))
    keys += list(_schema_keys(schema["$defs"]["optimizer"], schema, f"{study}.optimizers.<name>."))
    from attndyn.optim.rules import rule_setting_names

    required = {"optimizers", "rule", "lr"} | set(rule_setting_names())   # a rule setting's default: the registry
    assert not [k for k, s in keys if not s.get("description")], "keys without a description"
    assert not [k for k, s in keys if "default" not in s and k.rsplit(".", 1)[-1] not in required
                and not k.endswith((".kind",))], "keys without a default"


def test_config_reference_is_current():
    from attndyn.config_docs import render

    assert (REPO / "config" / "README.md").read_text() == render(), \
        "regenerate: python -m attndyn.config_docs > config/README.md"


def test_the_readme_example_config_is_valid():
    """The YAML example under "Changing a setting" in README.md validates (and keeps the vocabulary honest)."""
    import yaml

    text = (REPO / "README.md").read_text()
    block = text.split("## Changing a setting", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    config = validate({"studies": ["signgd", "multihead", "precond", "kernels"], **yaml.safe_load(block)})
    assert "s3" not in config["kernels"]["experiments"] and config["signgd"]["optimizers"]["adam"]["lr"] == 3.0e-4


def test_a_map_must_name_an_experiment_of_its_study():
    assert "signgd.maps.snr_sparsity.experiment: 'snr' is not one of" in _error(
        {"studies": ["signgd"], "signgd": {"experiments": {"snr": None}}})
