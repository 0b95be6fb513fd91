"""What the Snakefile asks of the package: the job plan, rerun-trigger digests, and provenance."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from .config import resolved_json
from .studies import get_study
from .studies.base import CellSpec, DatasetSpec, FigureSpec, StudyPlan

PACKAGE = Path(__file__).parent

# Package files whose content determines each stage's outputs (globs relative to the package);
# a study's own files are added by `_study_files`.
CORE_FILES = {
    "data": ["studies/base.py"],
    "train": ["train.py", "cells.py", "optim/*.py", "grid.py", "runtime.py", "results.py", "checkpoint.py",
              "studies/base.py"],
    "aggregate": ["results.py"],
    "figures": ["figures/*.py"],
    "claims": ["claims.py"],
}
STUDY_STAGE_EXCLUDE = {"figures.py", "claims.py", "__init__.py"}   # __init__: docstring only


def _study_files(study: str, stage: str) -> list[Path]:
    root = PACKAGE / "studies" / study
    files = sorted(root.rglob("*.py"))
    if stage == "data":   # data generators: data*.py or a data/ package
        return [f for f in files if f.name.startswith("data") or f.parent.name == "data"]
    if stage == "train":
        return [f for f in files if f.name not in STUDY_STAGE_EXCLUDE]
    if stage in ("figures", "claims"):
        return [f for f in files if f.name == f"{stage}.py" or f.parent.name == stage]
    return []


@lru_cache(maxsize=None)
def code_digest(study: str, stage: str) -> str:
    """SHA-256 of the package sources a stage depends on (a Snakemake params rerun trigger).

    Cached: sources do not change while Snakemake builds its DAG."""
    files = [f for pattern in CORE_FILES[stage] for f in sorted(PACKAGE.glob(pattern))]
    files += _study_files(study, stage)
    digest = hashlib.sha256()
    for f in files:
        digest.update(str(f.relative_to(PACKAGE)).encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


@dataclass
class Plan:
    """All jobs of a validated config, keyed the way the rules' wildcards name them."""
    config: dict

    @cached_property
    def studies(self) -> dict[str, StudyPlan]:
        return {name: get_study(name).plan(self.config[name], self.config) for name in self.config["studies"]}

    def dataset(self, study: str, name: str) -> DatasetSpec:
        return self.studies[study].datasets[name]

    def cells(self, study: str, experiment: str) -> list[CellSpec]:
        return self.studies[study].experiments[experiment]

    @cached_property
    def _cell_index(self) -> dict[tuple[str, str, str], CellSpec]:
        return {(study, experiment, cell.id): cell for study, sp in self.studies.items()
                for experiment, cells in sp.experiments.items() for cell in cells}

    def cell(self, study: str, experiment: str, cell_id: str) -> CellSpec:
        try:
            return self._cell_index[study, experiment, cell_id]
        except KeyError:
            raise KeyError(f"no cell {cell_id!r} in {study}/{experiment}") from None

    def figure(self, study: str, name: str) -> FigureSpec:
        return self.studies[study].figures[name]

    def cell_settings_json(self, study: str, experiment: str, cell_id: str) -> str:
        return resolved_json(self.cell(study, experiment, cell_id).settings)

    def dataset_settings_json(self, study: str, name: str) -> str:
        return resolved_json(self.dataset(study, name).settings)

    # ---- path lists for rule inputs -------------------------------------------------------
    def cell_paths(self, study: str, experiment: str, results: str = "results") -> list[str]:
        return [f"{results}/{study}/cells/{experiment}/{c.id}.nc" for c in self.cells(study, experiment)]

    def needed_cell_paths(self, study: str, experiment: str, cell_id: str, results: str = "results") -> list[str]:
        """Cell files this cell reads (CellSpec.needs), in the order of `needs`."""
        return [f"{results}/{study}/cells/{e}/{c}.nc" for e, c in self.cell(study, experiment, cell_id).needs]

    @cached_property
    def _needed_cells(self) -> set[tuple[str, str, str]]:
        return {(study, *need) for study, sp in self.studies.items()
                for cells in sp.experiments.values() for cell in cells for need in cell.needs}

    def cell_priority(self, study: str, experiment: str, cell_id: str) -> int:
        """1 for a cell another cell reads (it starts first, so the reader is not left at the end), else 0."""
        return int((study, experiment, cell_id) in self._needed_cells)

    def experiment_paths(self, study: str, results: str = "results") -> list[str]:
        return [f"{results}/{study}/{e}.nc" for e in self.studies[study].experiments]

    def figure_paths(self, study: str, results: str = "results") -> list[str]:
        return [f"{results}/{study}/figures/{f}.{ext}" for f in self.studies[study].figures for ext in ("png", "pdf")]

    def final_targets(self, results: str = "results") -> list[str]:
        targets = [f"{results}/claims.csv"]
        for study in self.studies:
            targets += self.experiment_paths(study, results) + self.figure_paths(study, results)
            targets.append(f"{results}/{study}/claims.csv")
        return targets


def validate_or_exit(config: dict) -> None:
    """Validate at Snakefile parse time; on a bad config print one line and exit before any job runs."""
    import sys

    from .config import validate
    from .errors import ConfigError

    try:
        validate(config)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        sys.exit(1)
