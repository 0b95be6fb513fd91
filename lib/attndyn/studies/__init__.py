"""Study registry: name -> module path. A study plugs in by adding its package and one line here.

Each study module provides (see `attndyn.studies.base` for the types):
  schema() -> dict                          JSON schema of its config section
  check_config(section) -> None             checks the schema cannot express (ConfigError)
  plan(section, top) -> StudyPlan           datasets, experiments (cells) and figures
  make_dataset(spec, top) -> dict[str, np.ndarray]
  train_cell(cell, data, ctx) -> xarray.Dataset
  make_figure(name, experiments, section, png, pdf) -> None
  claims(experiments, section) -> list[Claim]
"""
from __future__ import annotations

import importlib
from types import ModuleType

STUDIES: dict[str, str] = {
    "signgd": "attndyn.studies.signgd",
    "multihead": "attndyn.studies.multihead",
}


def known_studies() -> list[str]:
    return list(STUDIES)


def get_study(name: str) -> ModuleType:
    if name not in STUDIES:
        raise KeyError(f"unknown study {name!r}; known: {', '.join(STUDIES)}")
    return importlib.import_module(STUDIES[name])
