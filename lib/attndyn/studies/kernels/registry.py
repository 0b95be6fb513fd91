"""The kernels study's experiment kinds: kind -> data block, cell settings, data builder, trainer, logged variables.

An experiment's `kind` picks its entry; the plan, the data job and the train job dispatch through it (no
name suffixes, no if-chains). Torch-free at import: builders and trainers are reached through function-level
imports, which the code digest (codegraph, a static import graph) follows.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ...errors import ConfigError
from .settings import S1Cell, S2Cell, S3Cell, TaskCell, TaskLandscapeCell

LANDSCAPE_KEYS = ("stage2_steps", "stage2_params", "params", "grid", "range", "direction_seed", "direction_pairs",
                  "hessian_iters")


@dataclass(frozen=True)
class Kind:
    """What an experiment kind reads, how its cells are laid out, and who builds and trains them."""
    name: str
    data: str | None                    # the `data` block it reads; None: its task's data file (lra_landscape)
    cell: type                          # its cells' settings class
    kernels_inside: bool                # one cell loops over the kernels (a shared stage 1), else one per kernel
    minibatch: bool                     # per-seed minibatch runs (batch_size, epochs or steps)
    cell_keys: tuple[str, ...]          # sweep keys that are cell settings (S1: train)
    experiment_keys: tuple[str, ...]    # the landscape keys of the experiment entry it reads
    figure: str                         # its figure's name, from the experiment's name
    build_data: Callable | None         # Dataset -> dict of arrays (the data job)
    train: Callable                     # (CellSpec, data, RunContext) -> xarray.Dataset (the train job)
    variables: Callable[[], dict]       # -> {name: results.Var} it logs on the step grid
    inner: tuple[str, str] | None = None    # (sweep key, data grid) of a dimension inside every cell (S1's D)
    batches: bool = False               # trains a batched cell (an experiment's `batch` keys) in one job


def _s1_data(dataset):
    from .synthetic.data import s1_data
    return s1_data(dataset)


def _s2_data(dataset):
    from .synthetic.data import s2_data
    return s2_data(dataset)


def _s3_data(dataset):
    from .synthetic.data import s3_data
    return s3_data(dataset)


def _pathfinder_data(dataset):
    from .lra.pathfinder import pathfinder_dataset
    return pathfinder_dataset(dataset.params)


def _text_data(dataset):
    from .lra.imdb import text_dataset
    return text_dataset(dataset.params)


def _train_s1(cell, data, ctx):
    from .synthetic.trainer import train_s1
    return train_s1(cell, data, ctx)


def _train_s2(cell, data, ctx):
    from .synthetic.trainer import train_s2
    return train_s2(cell, data, ctx)


def _train_s3(cell, data, ctx):
    from .synthetic.landscape import train_s3
    return train_s3(cell, data, ctx)


def _train_task(cell, data, ctx):
    from .lra.task import train_task
    return train_task(cell, data, ctx)


def _train_task_landscape(cell, data, ctx):
    from .lra.landscape import train_task_landscape
    return train_task_landscape(cell, data, ctx)


def _synthetic_variables() -> dict:
    from .synthetic.probes import SYNTH_VARS
    return SYNTH_VARS


def _task_variables() -> dict:
    from .lra.probes import LRA_VARS
    return LRA_VARS


def _stage2_variables() -> dict:
    from .lra.probes import STAGE2_VARS
    return STAGE2_VARS


KINDS: dict[str, Kind] = {
    "s1": Kind("s1", "s1", S1Cell, True, False, ("train",), (), "fig_{}_width_threshold", _s1_data, _train_s1,
               _synthetic_variables, inner=("D", "D_grid"), batches=True),
    "s2": Kind("s2", "s2", S2Cell, False, False, (), (), "fig_{}_wq_only", _s2_data, _train_s2, _synthetic_variables,
               inner=("sigma_Q", "sigma_Q_grid"), batches=True),
    "s3": Kind("s3", "s3", S3Cell, True, False, (), ("stage1_steps",) + LANDSCAPE_KEYS, "fig_{}_landscape",
               _s3_data, _train_s3, _synthetic_variables),
    "pathfinder": Kind("pathfinder", "pathfinder", TaskCell, False, True, (), (), "fig_{}", _pathfinder_data,
                       _train_task, _task_variables, batches=True),
    "text": Kind("text", "text", TaskCell, False, True, (), (), "fig_{}", _text_data, _train_task, _task_variables,
                 batches=True),
    "lra_landscape": Kind("lra_landscape", None, TaskLandscapeCell, True, True, (),
                          ("task", "n_examples") + LANDSCAPE_KEYS, "fig_{}", None, _train_task_landscape,
                          _stage2_variables),
}
TASK_KINDS = ("pathfinder", "text")         # what an lra_landscape's `task` may be


SCALE_MATCHED_KINDS = ("s1", "s2")         # kinds whose trainer resolves gaussian_temperature: scale_matched


def kind_of(experiment) -> Kind:
    """The registry entry of an experiment's kind (a one-line ConfigError without one)."""
    if experiment.kind not in KINDS:
        raise ConfigError(f"config error: kernels.experiments.{experiment.name}.kind: set one of "
                          f"{', '.join(KINDS)} (got {experiment.kind!r})")
    return KINDS[experiment.kind]


def figure_name(experiment) -> str:
    return kind_of(experiment).figure.format(experiment.name)
