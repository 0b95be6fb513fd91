"""Study registry: name -> package. A study plugs in by adding its package and one line here.

A study package follows one layout (see `Study`); signgd is the reference:
  plan.py     schema() -> dict, check_config(section), plan(section, top) -> StudyPlan   (torch-free)
  data.py     make_dataset(settings) -> dict[str, np.ndarray]
  runner.py   train_cell(cell, data, ctx) -> xarray.Dataset
  figures.py  make_figure(name, experiments, section, png, pdf)
  claims.py   claims(experiments, section) -> list[Claim]
  schema.yaml JSON schema of the study's config section
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

STUDIES: dict[str, str] = {
    "signgd": "attndyn.studies.signgd",
    "precond": "attndyn.studies.precond",
    "kernels": "attndyn.studies.kernels",
    "multihead": "attndyn.studies.multihead",
}


@dataclass(frozen=True)
class Study:
    """A study package's API. plan.py is imported at once (the Snakefile builds the DAG from it and
    stays torch-free); data, runner, figures and claims are imported only when a job runs."""
    name: str
    package: str

    def _module(self, name: str) -> ModuleType:
        return importlib.import_module(f"{self.package}.{name}")

    def schema(self) -> dict:
        return self._module("plan").schema()

    def check_config(self, section: dict) -> None:
        self._module("plan").check_config(section)

    def plan(self, section: dict, top: dict):
        return self._module("plan").plan(section, top)

    def make_dataset(self, spec, top: dict) -> dict:
        return self._module("data").make_dataset(spec.settings)

    def train_cell(self, cell, data: dict, ctx):
        return self._module("runner").train_cell(cell, data, ctx)

    def make_figure(self, name: str, experiments: dict, section: dict, png, pdf) -> None:
        self._module("figures").make_figure(name, experiments, section, png, pdf)

    def claims(self, experiments: dict, section: dict) -> list:
        return self._module("claims").claims(experiments, section)


def known_studies() -> list[str]:
    return list(STUDIES)


def get_study(name: str) -> Study:
    if name not in STUDIES:
        raise KeyError(f"unknown study {name!r}; known: {', '.join(STUDIES)}")
    return Study(name, STUDIES[name])
