"""What the Snakefile asks of the package: the job plan, each job's parameters (its rerun triggers), captions.

A cell whose dataset, coordinates and settings equal an earlier cell's (another experiment of the same
study asking for the same run) is trained once: both experiments aggregate the same file.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from .settings import canonical_json
from .studies import get_study
from .studies.base import CellSpec, DatasetSpec, FigureSpec, StudyPlan

CellKey = tuple[str, str, str]          # (study, experiment, cell id)


RST_SPECIAL = "\\`*_|[]<>"


def rst_text(text: str) -> str:
    """`text` as reStructuredText shows it verbatim (a report caption): every markup character backslash-escaped,
    so '|x|' or 'lr_' is text, not a substitution or a link."""
    return "".join("\\" + c if c in RST_SPECIAL else c for c in text)


@dataclass
class Plan:
    """All jobs of a normalized config (config.validate), keyed the way the rules' wildcards name them."""
    config: dict

    @cached_property
    def studies(self) -> dict[str, StudyPlan]:
        out = {}
        for name in self.config["studies"]:
            study = get_study(name)
            out[name] = batched(study.plan(study.settings(self.config[name], self.config)), name)
        return out

    def dataset(self, study: str, name: str) -> DatasetSpec:
        return self.studies[study].datasets[name]

    def cells(self, study: str, experiment: str) -> list[CellSpec]:
        return self.studies[study].experiments[experiment]

    @cached_property
    def _cell_index(self) -> dict[CellKey, CellSpec]:
        return {(study, experiment, cell.id): cell for study, sp in self.studies.items()
                for experiment, cells in sp.experiments.items() for cell in cells}

    @cached_property
    def _source(self) -> dict[CellKey, CellKey]:
        """Each cell -> the first cell of its study with the same dataset, coordinates and settings."""
        first: dict[tuple, CellKey] = {}
        out = {}
        for key, cell in self._cell_index.items():
            identity = (key[0], cell.dataset, cell.id, canonical_json(cell.settings), cell.needs)
            out[key] = first.setdefault(identity, key)
        return out

    def cell(self, study: str, experiment: str, cell_id: str) -> CellSpec:
        try:
            return self._cell_index[study, experiment, cell_id]
        except KeyError:
            raise KeyError(f"no cell {cell_id!r} in {study}/{experiment}") from None

    def figure(self, study: str, name: str) -> FigureSpec:
        return self.studies[study].figures[name]

    # ---- rule parameters (rerun triggers) -------------------------------------------------------------------
    def cell_params(self, study: str, experiment: str, cell_id: str) -> str:
        return self.cell(study, experiment, cell_id).to_json()

    def cell_data(self, study: str, experiment: str, cell_id: str, results: str = "results") -> list[str]:
        """The data files a train job reads (a batched cell: every member's)."""
        from .batching import data_files

        cell = self.cell(study, experiment, cell_id)
        return [f"{results}/{study}/data/{name}.npz" for name in data_files(cell)]

    def dataset_params(self, study: str, name: str) -> str:
        return canonical_json(self.dataset(study, name).settings)

    def study_params(self, study: str) -> str:
        """The study's whole typed settings: figure and claims jobs read them."""
        return self.studies[study].settings_json()

    def caption(self, study: str, figure: str) -> str:
        return get_study(study).caption(figure, self.studies[study].settings, self.config[study])

    def map_experiment(self, study: str, name: str) -> str:
        return self.studies[study].settings.maps[name].experiment_name

    def map_caption(self, study: str, name: str) -> str:
        """What a map shows: its claim, axes, fixed settings and the boundary drawn (maps.describe)."""
        from .maps import describe

        settings = self.studies[study].settings
        m = settings.maps[name]
        statistic = get_study(study).map_registry()[0][m.statistic]
        return describe(m, statistic, settings)

    # ---- path lists for rule inputs -------------------------------------------------------------------------
    def cell_path(self, key: CellKey, results: str = "results") -> str:
        study, experiment, cell_id = self._source[key]
        return f"{results}/{study}/cells/{experiment}/{cell_id}.nc"

    def cell_paths(self, study: str, experiment: str, results: str = "results") -> list[str]:
        return [self.cell_path((study, experiment, c.id), results) for c in self.cells(study, experiment)]

    def needed_cell_paths(self, study: str, experiment: str, cell_id: str, results: str = "results") -> list[str]:
        """Cell files this cell reads (CellSpec.needs), in the order of `needs`."""
        return [self.cell_path((study, *need), results) for need in self.cell(study, experiment, cell_id).needs]

    @cached_property
    def _needed_cells(self) -> set[CellKey]:
        return {self._source[(study, *need)] for study, sp in self.studies.items()
                for cells in sp.experiments.values() for cell in cells for need in cell.needs}

    def cell_priority(self, study: str, experiment: str, cell_id: str) -> int:
        """2 for a cell another cell reads (it starts first, so the reader is not left at the end); 1 for a reader of
        another cell (it starts as soon as that one is done) and for a cell its study marks as long (minutes, e.g. a
        minibatch task: started early, it does not end the run alone); else 0."""
        if (study, experiment, cell_id) in self._needed_cells:
            return 2
        cell = self.cell(study, experiment, cell_id)
        return int(bool(cell.needs) or get_study(study).long_cell(cell))

    def experiment_paths(self, study: str, results: str = "results") -> list[str]:
        return [f"{results}/{study}/{e}.nc" for e in self.studies[study].experiments]

    def map_paths(self, study: str, results: str = "results", ext: str = "nc") -> list[str]:
        return [f"{results}/{study}/maps/{m}.{ext}" for m in self.studies[study].settings.maps]

    def figure_paths(self, study: str, results: str = "results") -> list[str]:
        return [f"{results}/{study}/figures/{f}.{ext}" for f in self.studies[study].figures for ext in ("png", "pdf")]

    def final_targets(self, results: str = "results") -> list[str]:
        targets = [f"{results}/claims.csv", f"{results}/claims.html"]
        if any(self.studies[study].settings.maps for study in self.studies):
            targets += [f"{results}/sensitivity.csv", f"{results}/sensitivity.html"]
        for study in self.studies:
            targets += self.experiment_paths(study, results) + self.figure_paths(study, results)
            targets += [p for ext in ("nc", "png", "pdf") for p in self.map_paths(study, results, ext)]
            targets += [f"{results}/{study}/claims.csv", f"{results}/{study}/claims.html"]
        return targets


def batched(plan: StudyPlan, study: str) -> StudyPlan:
    """Group each experiment's cells along its `batch` keys (batching.group); those keys leave the aggregate's
    sweep axes (they are dimensions inside the cells' files)."""
    from .batching import group

    for name, cells in plan.experiments.items():
        keys = tuple(plan.settings.experiments[name].batch)
        if keys:
            plan.experiments[name] = group(cells, keys, f"{study}.experiments.{name}")
            plan.axes[name] = tuple(a for a in plan.axes[name] if a not in keys)
    return plan


def validated_plan(config: dict) -> Plan:
    """Normalize and validate the config in place (defaults filled) and build the plan; ConfigError if bad."""
    from .config import validate

    normalized = validate(config, cross_checks=False)
    config.clear()
    config.update(normalized)
    plan = Plan(config)
    _ = plan.studies                                   # cross-key errors surface here, before any job
    return plan


def plan_or_exit(config: dict) -> Plan:
    """At Snakefile parse time: the plan, or one line on stderr and exit before any job runs."""
    import sys

    from .errors import ConfigError

    try:
        return validated_plan(config)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        sys.exit(1)
