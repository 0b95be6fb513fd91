"""Study registry: name -> package. A study plugs in by adding its package and one line here.

Every study package has the same modules (signgd is the reference):
  schema.yaml  its config section: every key with a default and a description (shared vocabulary: ../vocabulary.yaml)
  settings.py  frozen typed settings and `study_settings(section, top)`            (torch-free)
  plan.py      plan(settings) -> StudyPlan: datasets, cells, figures              (torch-free, Snakefile only)
  captions.py  figure captions                                                     (figure jobs and the report)
  data.py      make_dataset(settings) -> dict[str, np.ndarray]                     (data jobs)
  runner.py    train_cell(cell, data, ctx) -> xarray.Dataset                       (train jobs)
  figures.py   make_figure(name, experiments, settings, png, pdf, caption)         (figure jobs)
  claims.py    claims(experiments, settings) -> list[Claim]                        (claims jobs)
  maps.py      STATISTICS (name -> maps.Statistic) and BOUNDARIES for claim maps   (map and claims jobs)
  meta.py      TITLE, AUTHORS, ARXIV, DIMS, AXES: what its netCDF files say        (jobs that write netCDF)
A job imports only its stage's module (STAGE_MODULES); the code digest of each stage follows those imports.
"""
from __future__ import annotations

import copy
import importlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

STUDIES: dict[str, str] = {
    "signgd": "attndyn.studies.signgd",
    "precond": "attndyn.studies.precond",
    "kernels": "attndyn.studies.kernels",
    "multihead": "attndyn.studies.multihead",
}
STAGE_MODULES: dict[str, tuple[str, ...]] = {
    "data": ("settings", "data"), "train": ("settings", "runner", "meta"), "aggregate": ("meta",),
    "figures": ("settings", "figures"), "claims": ("settings", "claims"), "maps": ("settings", "maps", "meta"),
}


@cache
def _schema(name: str) -> dict:
    from ..config import load_yaml, study_schema

    return study_schema(load_yaml(Path(__file__).with_name(name) / "schema.yaml"))


@dataclass(frozen=True)
class Study:
    """A study package's API; each method imports only the module it needs."""
    name: str
    package: str

    def _module(self, name: str) -> ModuleType:
        return importlib.import_module(f"{self.package}.{name}")

    def schema(self) -> dict:
        """The study's config schema (parsed once per process; a copy, so callers may change it)."""
        return copy.deepcopy(_schema(self.name))

    def settings(self, section: dict, top: dict):
        """The study's typed settings from its normalized config section."""
        return self._module("settings").study_settings(section, top)

    def cell_type(self):
        """The typed settings class (or union) of the study's cells, as train jobs read them back."""
        return self._module("settings").Cell

    def check_config(self, section: dict, top: dict) -> None:
        """Cross-key checks the schema cannot express: building the typed settings and the plan raises them."""
        self.plan(self.settings(section, top))

    def plan(self, settings):
        return self._module("plan").plan(settings)

    def long_cell(self, cell) -> bool:
        """Whether the study's plan marks this cell as long (it should start early: plan.long_cell, if defined)."""
        judge = getattr(self._module("plan"), "long_cell", None)
        return bool(judge(cell)) if judge is not None else False

    def caption(self, figure: str, settings, section: dict | None = None) -> str:
        """A figure's caption (the report's text and the figure's footer), ending with the claim rows the figure
        supports and the reconstructed or proposed values it depends on (from the study's config `section`)."""
        from ..caption_notes import claims_sentence, depends_sentence

        captions = self._module("captions")
        text = captions.caption(figure, settings)
        if section is None:
            return text
        claims, keys = captions.FIGURE_NOTES.get(figure, ([], []))
        return f"{text} {claims_sentence(claims)} {depends_sentence(self.schema(), section, keys)}"

    def make_dataset(self, settings_json: str) -> dict:
        return self._module("data").make_dataset(settings_json)

    def train_cell(self, cell, data: dict, ctx):
        return self._module("runner").train_cell(cell, data, ctx)

    def make_figure(self, name: str, experiments: dict, settings, png, pdf, caption: str) -> None:
        self._module("figures").make_figure(name, experiments, settings, png, pdf, caption)

    def claims(self, experiments: dict, settings) -> list:
        return self._module("claims").claims(experiments, settings)

    def meta(self) -> ModuleType:
        """The paper (TITLE, AUTHORS, ARXIV), extra dimensions (DIMS) and sweep-key meanings (AXES) its files carry."""
        return self._module("meta")

    def map_registry(self) -> tuple[dict, dict]:
        """(statistic name -> maps.Statistic, boundary name -> (settings, map) -> (x, y, label))."""
        module = self._module("maps")
        return module.STATISTICS, module.BOUNDARIES


def known_studies() -> list[str]:
    return list(STUDIES)


def get_study(name: str) -> Study:
    if name not in STUDIES:
        raise KeyError(f"unknown study {name!r}; known: {', '.join(STUDIES)}")
    return Study(name, STUDIES[name])
