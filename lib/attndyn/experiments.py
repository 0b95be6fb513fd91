"""The shared experiment vocabulary (torch-free): typed experiments, their sweep points, resolved optimizers.

Every study section has `seeds`, `dtype`, `optimizers`, `log` and `experiments`; an experiment is the
product of its `sweep` and its `optimizers`, each point one cell. An optimizer's settings in an experiment
are the `optimizers` table's entry, then the experiment's `steps`, then its `overrides` for that name.
"""
from __future__ import annotations

import itertools
from collections.abc import Mapping
from functools import cache
from dataclasses import dataclass
from typing import Any

from .config import deep_merge
from .errors import ConfigError
from .maps import MapSettings, build_maps, map_experiment_entries
from .optim.spec import OptimizerSpec, optimizer_spec
from .settings import build, convert


@dataclass(frozen=True)
class LogSettings:
    """The logging step grid (see grid.step_grid)."""
    points_per_decade: int
    dense_until: int
    extra_steps: tuple[int, ...]
    every: int | None


@dataclass(frozen=True)
class Experiment:
    """One entry of a study's `experiments` (a study with its own experiment keys subclasses this)."""
    name: str
    kind: str | None
    optimizers: tuple[str, ...]
    sweep: dict[str, tuple]
    steps: int | None
    overrides: dict[str, dict]
    seeds: tuple[int, ...] | None
    batch: tuple[str, ...]
    dtype: str | None
    data: dict[str, Any]
    model: dict[str, Any]
    log: dict[str, Any]

    def points(self) -> list[dict[str, Any]]:
        """Every combination of the sweep values, in the order the sweep lists its keys."""
        return [dict(zip(self.sweep, values)) for values in itertools.product(*self.sweep.values())]


@dataclass(frozen=True)
class StudySettings:
    """The vocabulary every study section shares; a study's `Settings` subclasses it with its own blocks."""
    seeds: tuple[int, ...]
    dtype: str                                   # the section's, else the top-level one
    optimizers: dict[str, dict]                  # entries as written; resolved per experiment
    log: LogSettings
    experiments: dict[str, Experiment]           # the study's, and one `map_<name>` per claim map
    maps: dict[str, MapSettings]


def build_experiments(section: Mapping, cls=Experiment, prefix: str = "",
                      study_keys: tuple[str, ...] = ()) -> dict[str, Experiment]:
    """Typed experiments of a section; their optimizers and overrides must name `optimizers` entries, and every
    entry of the table must name a registry rule and only that rule's settings."""
    for name, entry in section["optimizers"].items():
        own = {k: v for k, v in entry.items() if k not in study_keys}
        optimizer_spec(name, own, f"{prefix}optimizers.{name}")
    out = {}
    for name, entry in section["experiments"].items():
        where = f"{prefix}experiments.{name}"
        experiment = build(cls, {"name": name, "kind": None, **entry}, where)
        for opt in experiment.optimizers:
            if opt not in section["optimizers"]:
                raise ConfigError(f"config error: {where}.optimizers: unknown optimizer {opt!r}; defined in "
                                  f"{prefix}optimizers: {', '.join(section['optimizers'])}")
        for opt in experiment.overrides:
            if opt not in experiment.optimizers:
                raise ConfigError(f"config error: {where}.overrides: {opt!r} is not one of this experiment's "
                                  f"optimizers ({', '.join(experiment.optimizers)})")
        out[name] = experiment
    return out


def section_settings(cls, section: Mapping, top: Mapping, study: str, experiment_cls=Experiment,
                     study_keys: tuple[str, ...] = ()):
    """A study's typed section `cls`: the shared vocabulary (seeds, dtype, optimizers, log, experiments) resolved
    here, every other field built from the section's key of the same name."""
    import dataclasses
    import typing

    maps = map_experiment_entries(section, f"{study}.")
    for name, entry in maps.items():                      # a map's fixed settings are checked like an experiment
        check_entry(study, entry, f"{study}.maps.{name[len('map_'):]} (as experiment {name})")
    with_maps = {**section, "experiments": {**section["experiments"], **maps}}
    shared = dict(seeds=tuple(section["seeds"]), dtype=section["dtype"] or top["dtype"],
                  optimizers=dict(section["optimizers"]), log=log_settings(section["log"]),
                  experiments=build_experiments(with_maps, experiment_cls, f"{study}.", study_keys),
                  maps=build_maps(section))
    hints = typing.get_type_hints(cls)
    own = {f.name: convert(hints[f.name], section[f.name], f"{study}.{f.name}")
           for f in dataclasses.fields(cls) if f.name not in shared}
    return cls(**shared, **own)


def resolved_entry(optimizers: Mapping, experiment: Experiment, name: str) -> dict:
    """The `optimizers` entry of `name` as this experiment runs it: + the experiment's steps, + its overrides."""
    entry = dict(optimizers[name])
    if experiment.steps is not None:
        entry["steps"] = experiment.steps
    return deep_merge(entry, experiment.overrides.get(name, {}))


def experiment_optimizer(optimizers: Mapping, experiment: Experiment, name: str, prefix: str = "",
                         study_keys: tuple[str, ...] = (), point: Mapping | None = None) -> tuple[OptimizerSpec, dict]:
    """(OptimizerSpec, the entry's study-specific keys) of optimizer `name` in `experiment`, with a sweep
    point's optimizer keys (e.g. {'lr': 0.1}) applied last."""
    from .config import validate_schema

    entry = {**resolved_entry(optimizers, experiment, name), **_betas(point or {}, optimizers[name])}
    where = f"{prefix}experiments.{experiment.name}.overrides.{name}"   # the table itself was validated already
    validate_schema(entry, _entry_schema(prefix.rstrip(".")), prefix=where + ".")
    own = {k: entry.pop(k) for k in study_keys if k in entry}
    return optimizer_spec(name, entry, where), own


def _betas(point: Mapping, entry: Mapping) -> dict:
    """A sweep point's optimizer keys, `beta1`/`beta2` folded into Adam's `betas` pair (so a map can sweep one)."""
    out = {k: v for k, v in point.items() if k not in ("beta1", "beta2")}
    if "beta1" in point or "beta2" in point:
        b1, b2 = point.get("betas", entry.get("betas", [0.9, 0.999]))
        out["betas"] = [point.get("beta1", b1), point.get("beta2", b2)]
    return out


def _entry_schema(study: str) -> dict:
    """The study's optimizer-entry schema (registry keys + its own keys), or the registry's alone."""
    from .optim.rules import entry_schema

    if not study:
        return entry_schema()
    schema = _schema(study)
    return {**schema["$defs"]["optimizer"], "$defs": schema["$defs"]}


def run_seeds(section_seeds, experiment: Experiment) -> tuple[int, ...]:
    return tuple(experiment.seeds if experiment.seeds is not None else section_seeds)


def run_dtype(study_dtype: str, experiment: Experiment) -> str:
    """The dtype a run really uses: the experiment's, else the study's (its section's, else the top-level one)."""
    return experiment.dtype if experiment.dtype is not None else study_dtype


def log_settings(section_log: Mapping) -> LogSettings:
    return build(LogSettings, dict(section_log), "log")


def block(base: Mapping, override: Mapping) -> dict:
    """A settings block with an experiment's (or a sweep point's) values merged in."""
    return deep_merge(dict(base), dict(override))


@dataclass(frozen=True)
class PointParts:
    """A sweep point split by what each key changes: the data file, the model, the optimizer or the cell."""
    data: dict[str, Any]
    model: dict[str, Any]
    optimizer: dict[str, Any]
    cell: dict[str, Any]


def split_point(point: Mapping, data_keys, model_keys, cell_keys=(), data_aliases=(), where: str = "") -> PointParts:
    """Sort a sweep point's keys: 'data.k' / 'model.k' / 'optimizer.k', a study's data alias (e.g. snr) or
    cell field (e.g. heads), or a bare data or model key. Anything else is a one-line ConfigError."""
    parts = PointParts({}, {}, {}, {})
    for key, value in point.items():
        block, _, field = key.partition(".")
        if field and block in ("data", "model", "optimizer"):
            getattr(parts, block)[field] = value
        elif key in data_aliases or key in data_keys:
            parts.data[key] = value
        elif key in cell_keys:
            parts.cell[key] = value
        elif key in model_keys:
            parts.model[key] = value
        else:
            allowed = sorted({*data_keys, *data_aliases, *cell_keys, *model_keys})
            raise ConfigError(f"config error: {where}.sweep: unknown key {key!r}; allowed: {', '.join(allowed)} "
                              "(or data.<key>, model.<key>, optimizer.<key>)")
    return parts


def with_log(base: LogSettings, experiment: Experiment) -> LogSettings:
    """The study's log grid with the experiment's `log` keys replacing its own."""
    from .settings import as_plain

    return build(LogSettings, {**as_plain(base), **experiment.log}, f"experiments.{experiment.name}.log")


def check_block(study: str, path: str, values: Mapping, where: str) -> None:
    """Validate a resolved settings block (e.g. one sweep point's data) against the study schema at `path`
    ('data.synthetic'): a swept value out of range is a one-line ConfigError naming the point."""
    from .config import resolve, validate_schema

    schema = _schema(study)
    sub = schema
    for part in path.split("."):
        sub = resolve(sub, schema)["properties"][part]
    validate_schema(dict(values), {**resolve(sub, schema), "$defs": schema["$defs"]}, prefix=f"{where}.")


def check_entry(study: str, entry: Mapping, where: str) -> None:
    """Validate a derived experiment entry against the study's experiment schema (one line naming the key)."""
    from .config import resolve, validate_schema

    schema = _schema(study)
    validate_schema(dict(entry), {**resolve(schema["$defs"]["experiment"], schema), "$defs": schema["$defs"]},
                    prefix=f"{where}.")


@cache
def _schema(study: str) -> dict:
    """A study's full schema (read once per process)."""
    from .studies import get_study

    return get_study(study).schema()
