"""Sweep values trained as one batched ensemble in one job (an experiment's `batch` keys).

Cells that differ only in batched sweep keys become one job whose runs are members x seeds: the members' data
files are stacked on the run dimension, their optimizer settings become per-run hyperparameters (element-wise rules
keep runs exactly independent), and the result is split back into one dataset per member, stacked on the batched
axes inside the cell's file. A study's runner trains a `Batch` when it can (`runner.train_batch`).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError
from .studies.base import CellSpec, point_id


@dataclass(frozen=True)
class Batch:
    """The settings of one batched job: its members' own cell settings, in order."""
    axes: tuple[str, ...]                       # the batched sweep keys
    points: tuple[tuple, ...]                   # each member's values of those keys
    datasets: tuple[str, ...]                   # each member's data file name
    members: tuple[Any, ...]                    # each member's typed cell settings


def group(cells: Sequence[CellSpec], axes: tuple[str, ...], where: str) -> list[CellSpec]:
    """One cell per combination of the non-batched coordinates, holding every batched value as a member."""
    if not axes:
        return list(cells)
    missing = [a for a in axes if cells and a not in cells[0].coords]
    if missing:
        raise ConfigError(f"config error: {where}.batch: {missing[0]!r} is not one of the experiment's sweep keys")
    groups: dict[str, list[CellSpec]] = {}
    for cell in cells:
        outer = {k: v for k, v in cell.coords.items() if k not in axes}
        groups.setdefault(point_id(outer), []).append(cell)
    return [_merged(members, axes) for members in groups.values()]


def _merged(members: list[CellSpec], axes: tuple[str, ...]) -> CellSpec:
    first = members[0]
    outer = {k: v for k, v in first.coords.items() if k not in axes}
    batch = Batch(axes, tuple(tuple(c.coords[a] for a in axes) for c in members),
                  tuple(c.dataset for c in members), tuple(c.settings for c in members))
    return CellSpec(first.experiment, outer, first.dataset, batch, first.needs)


def data_files(cell: CellSpec) -> list[str]:
    """The data files a cell reads (a batch: every member's, each once, in member order)."""
    names = cell.settings.datasets if isinstance(cell.settings, Batch) else (cell.dataset,)
    return list(dict.fromkeys(names))


def parse_settings(settings_type, raw: dict):
    """A cell's settings from its JSON: a Batch (its members of `settings_type`) or one `settings_type`."""
    from .settings import parse

    if set(raw) == {"axes", "points", "datasets", "members"}:
        import json

        return Batch(tuple(raw["axes"]), tuple(tuple(p) for p in raw["points"]), tuple(raw["datasets"]),
                     tuple(parse(settings_type, json.dumps(m)) for m in raw["members"]))
    import json

    return parse(settings_type, json.dumps(raw))


def stacked_data(batch: Batch, datas: dict[str, dict]) -> dict:
    """The members' data files stacked on the run dimension (axis 0), member after member; arrays without a run
    dimension (0-d) must agree."""
    import numpy as np

    parts = [datas[name] for name in batch.datasets]
    out = {}
    for key, first in parts[0].items():
        if np.ndim(first) == 0:
            if any(not np.array_equal(p[key], first) for p in parts):
                raise ValueError(f"batched members disagree on {key!r}: they cannot train as one ensemble")
            out[key] = first
        else:
            out[key] = np.concatenate([p[key] for p in parts])
    return out


def per_run(values: Sequence, runs_per_member: int, dtype, device):
    """One value per member -> the value itself if all agree, else a per-run tensor (R,) (member after member)."""
    import torch

    if all(v == values[0] for v in values):
        return values[0]
    return torch.tensor([v for v in values for _ in range(runs_per_member)], dtype=dtype, device=device)


def per_run_optimizer(specs: Sequence, runs_per_member: int, dtype, device) -> tuple[Any, dict]:
    """(lr, rule settings) for one optimizer over every member's runs: per-run tensors where members differ.
    Members must share the rule (an element-wise one, where runs stay independent)."""
    from .optim.rules import RULES

    rules = {s.rule for s in specs}
    if len(rules) > 1 or not RULES[specs[0].rule].elementwise:
        raise ConfigError(f"config error: batched members need one element-wise rule, got {sorted(rules)}")
    settings = {}
    for key in specs[0].settings:
        values = [s.settings[key] for s in specs]
        if key == "betas":
            pairs = [per_run([v[i] for v in values], runs_per_member, dtype, device) for i in range(2)]
            settings[key] = tuple(pairs)
        else:
            settings[key] = per_run(values, runs_per_member, dtype, device)
    return per_run([s.lr for s in specs], runs_per_member, dtype, device), settings


def split_result(result, members: int):
    """A TrainResult over members x seeds runs (member-major) -> one TrainResult per member."""
    from dataclasses import replace

    S = len(result.diverged) // members
    return [replace(result, metrics={k: v[:, m * S:(m + 1) * S] for k, v in result.metrics.items()},
                    diverged=result.diverged[m * S:(m + 1) * S], diverged_step=result.diverged_step[m * S:(m + 1) * S])
            for m in range(members)]


def stacked_cells(parts: Sequence, batch: Batch):
    """The members' datasets with their batched values as dimensions, combined into one (dims: axes, seed, step...)."""
    import xarray as xr

    tagged = [ds.drop_vars([a for a in batch.axes if a in ds.coords])
              .expand_dims({a: [v] for a, v in zip(batch.axes, p)})
              for ds, p in zip(parts, batch.points)]
    return xr.combine_by_coords(tagged, data_vars="minimal", coords="minimal", compat="override", join="outer",
                                combine_attrs="override")
