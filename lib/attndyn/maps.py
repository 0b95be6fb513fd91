"""Claim maps: where a claim holds over a grid of the theory's parameters (torch-free).

A map is config: a study statistic (the claim's number per grid point and seed, and its criterion), an experiment
whose settings it varies, one or two axes with value grids, and settings held fixed. The plan turns it into the
experiment `map_<name>` (its sweep = the axes), so its cells are trained and cached like every other cell; the
`map` stage computes, per grid point and seed, the statistic, its margin against the criterion (positive = the
claim holds) and pass/fail, stores them as results/<study>/maps/<name>.nc and draws the heatmap.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .config import deep_merge
from .errors import ConfigError

PREFIX = "map_"


@dataclass(frozen=True)
class MapSettings:
    """One entry of a study's `maps` (typed)."""
    name: str
    statistic: str
    experiment: str
    axes: dict[str, tuple]
    fixed: dict[str, Any]
    batch: tuple[str, ...]
    threshold: float | None
    boundary: str | None

    @property
    def experiment_name(self) -> str:
        return PREFIX + self.name


@dataclass(frozen=True)
class Statistic:
    """A study's map statistic: `compute(ds, point, settings)` -> one value per seed (seed,) at grid point `point`
    (axis -> value) of the map's aggregated dataset `ds` (the whole grid, so a statistic may compare neighbours, e.g.
    H against H = 1); a curve (seed, x) is judged at its last x. The claim holds where `value direction threshold`
    (">=" or "<="), compared in log10 if `log`."""
    claim: str                                    # the claim, as its claims.csv row names it
    compute: Callable
    direction: str
    threshold: Callable                           # settings -> the default threshold (a `checks` key)
    log: bool = False
    source: str = ""                              # the spec sentence (docs/papers/<study>.md)
    needs: tuple[str, ...] = field(default=())    # optimizers the statistic reads (they must be in the experiment)
    x: Callable | None = None                     # a curve statistic (seed, step): (point, steps) -> x to draw against
    x_label: str = "step"


def map_experiment_entries(section: Mapping, prefix: str) -> dict[str, dict]:
    """Experiment entries `map_<name>`: the named experiment, the map's fixed settings merged over it, its axes as
    the sweep and its batched axes."""
    out = {}
    for name, entry in section.get("maps", {}).items():
        where = f"{prefix}maps.{name}"
        base = section["experiments"].get(entry["experiment"])
        if base is None:
            raise ConfigError(f"config error: {where}.experiment: {entry['experiment']!r} is not one of "
                              f"{prefix}experiments ({', '.join(section['experiments'])}); a map over a removed "
                              f"experiment is removed with it: {where}: null")
        if PREFIX + name in section["experiments"]:
            raise ConfigError(f"config error: {where}: an experiment is already called {PREFIX + name!r}")
        unknown = sorted(set(entry.get("batch", ())) - set(entry["axes"]))
        if unknown:
            raise ConfigError(f"config error: {where}.batch: {unknown[0]!r} is not one of the map's axes")
        merged = deep_merge(dict(base), entry.get("fixed", {}))
        inner = dict(entry.get("fixed", {}).get("sweep") or {})                 # inner sweeps a statistic reduces
        out[PREFIX + name] = {**merged, "sweep": {**inner, **entry["axes"]}, "batch": list(entry.get("batch", ()))}
    return out


def build_maps(section: Mapping) -> dict[str, MapSettings]:
    return {name: MapSettings(name=name, statistic=e["statistic"], experiment=e["experiment"],
                              axes={k: tuple(v) for k, v in e["axes"].items()}, fixed=dict(e.get("fixed", {})),
                              batch=tuple(e.get("batch", ())), threshold=e.get("threshold"),
                              boundary=e.get("boundary"))
            for name, e in section.get("maps", {}).items()}


def margin(values: np.ndarray, statistic: Statistic, threshold: float) -> np.ndarray:
    """How far each value is on the claim's side of the threshold (log10 units if the statistic says so)."""
    v, t = (np.log10(np.maximum(values, 1e-300)), np.log10(threshold)) if statistic.log else (values, threshold)
    return v - t if statistic.direction == ">=" else t - v


def describe(m: MapSettings, statistic: Statistic, settings) -> str:
    """The map's caption: the claim, the criterion, the axes, what is held fixed, the boundary, how to read it."""
    threshold = m.threshold if m.threshold is not None else statistic.threshold(settings)
    axes = " x ".join(f"{a} in {list(v)}" for a, v in m.axes.items())
    fixed = ", ".join(f"{k}: {v}" for k, v in m.fixed.items()) or "nothing beyond the experiment's settings"
    boundary = f" Dashed: the boundary the spec predicts ({m.boundary})." if m.boundary else ""
    scale = " in log10" if statistic.log else ""
    if statistic.x is not None:                                   # drawn as curves, judged at their last x
        reading = (f"one curve per grid point (colour: {next(iter(m.axes))}, line style: the other axis), "
                   f"the seed mean of the statistic against {statistic.x_label}; dotted: the criterion, judged at "
                   f"each curve's last point (the map's netCDF holds the margin and pass/fail per seed)")
    else:
        reading = (f"colour: margin{scale} (positive: the claim holds), mean over seeds; 'k/S': seeds where it "
                   f"holds; thick outline: every seed holds")
    return (f"Claim map '{m.name}' for {statistic.claim}. Statistic '{m.statistic}' per grid point and seed, "
            f"criterion {statistic.direction} {threshold:g}; {reading}. Axes: {axes}. Experiment "
            f"'{m.experiment}', fixed: {fixed}.{boundary} Source: {statistic.source}")
