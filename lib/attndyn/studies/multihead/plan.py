"""What the multihead study runs and produces (torch-free: the Snakefile imports it to build the DAG).

An experiment is the product of its sweep (always `heads`, the number of heads H; optionally data or model
keys) and its optimizers; every point is one cell whose seeds (trials) train as one batch. The step size of
a cell is computed here from H (spec Sec. 4): `lr` with `lr_scaling: constant`, or lr sqrt(H) with
`lr_scaling: sqrt_heads`; the cell records both `lr` and the effective step. An experiment's
`reference_heads` adds that head count to its `heads` sweep (a map statistic compares every H with it), and
`batch: [heads, ...]` trains its head counts as one ensemble, which needs tied heads (the same shapes for every H).
"""
from __future__ import annotations

import dataclasses
import hashlib
import math

from ...errors import ConfigError
from ...experiments import Experiment, check_block, experiment_optimizer, run_dtype, run_seeds, split_point, with_log
from ...optim.spec import OptimizerSpec, run_length
from ...settings import as_plain, build, canonical_json
from ..base import CellSpec, DatasetSpec, FigureSpec, StudyPlan, point_id
from .figure_table import FIGURES
from .settings import OPTIMIZER_KEYS, Cell, Dataset, DM1Data, Model, MultiheadExperiment, PlantedData, Settings

BLOCKS = {"dm1": DM1Data, "planted": PlantedData}


def step_size(lr: float, lr_scaling: str, heads: int) -> float:
    """eta = lr (constant in H) or eta = lr sqrt(H) (spec Sec. 4), as float(lr) * math.sqrt(H)."""
    return float(lr) * math.sqrt(heads) if lr_scaling == "sqrt_heads" else float(lr)


def check_heads(value, where: str) -> int:
    """A swept number of heads: a positive integer."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"config error: {where}.sweep.heads: {value!r} must be a positive integer")
    return value


def dataset_for(settings: Settings, experiment: Experiment, data_point: dict, model: Model) -> Dataset:
    """The data block of the experiment's kind, with the experiment's `data` and the point's data keys."""
    kind, where = experiment.kind, f"multihead.experiments.{experiment.name}"
    values = {**as_plain(getattr(settings.data, kind)), **experiment.data, **data_point}
    check_block("multihead", f"data.{kind}", values, f"{where} (point {data_point}) data")
    if kind == "dm1" and values["d"] < values["M"] + 2:
        raise ConfigError(f"config error: {where} data: d={values['d']} must be >= M + 2 = {values['M'] + 2} "
                          "(orthogonal cluster means)")
    return Dataset(kind, run_seeds(settings.seeds, experiment), build(BLOCKS[kind], values, f"data.{kind}"),
                   model.pooling if kind == "planted" else None)


def dataset_name(datasets: dict, base: str, dataset: Dataset) -> str:
    """`base` (the kind and the swept data keys), or base + a settings digest if another dataset holds it."""
    if base not in datasets or datasets[base].settings == dataset:
        return base
    return f"{base}__{hashlib.sha256(canonical_json(dataset).encode()).hexdigest()[:8]}"


def cell_optimizer(settings: Settings, experiment: Experiment, name: str, point: dict) -> tuple[OptimizerSpec, str]:
    """The resolved optimizer of one cell and its lr_scaling (full batch, constant lr rule, a set run length)."""
    where = f"multihead.experiments.{experiment.name}.optimizers.{name}"
    spec, own = experiment_optimizer(settings.optimizers, experiment, name, "multihead.", OPTIMIZER_KEYS,
                                     point)
    scaling = own.get("lr_scaling", "constant")          # its values: the schema's enum (optimizer_extra)
    if spec.batch_size is not None or spec.lr_rule != "constant":
        raise ConfigError(f"config error: {where}: multihead trains full batch with a constant lr rule "
                          "(batch_size: null, lr_rule: constant)")
    run_length(spec)                                     # `steps` must be set: a one-line error here, not in a job
    return spec, scaling


def point_model(model: Model, model_point: dict, where: str) -> Model:
    if not model_point:
        return model
    values = {**as_plain(model), **model_point}
    check_block("multihead", "model", values, f"{where} (point {model_point}) model")
    return build(Model, values, "model")


def with_reference(experiment: MultiheadExperiment) -> MultiheadExperiment:
    """The experiment with its reference head count added to its `heads` sweep (sorted), if it names one."""
    ref, heads = experiment.reference_heads, tuple(experiment.sweep.get("heads", ()))
    if ref is None or ref in heads:
        return experiment
    return dataclasses.replace(experiment, sweep={**experiment.sweep, "heads": tuple(sorted((*heads, ref)))})


def check_batched_heads(experiment: Experiment, model: Model, where: str) -> None:
    """Head counts train as one ensemble only when the heads are tied (one stored head, same shapes for every H)."""
    if "heads" in experiment.batch and not (model.init == "zero" and model.tied_heads):
        raise ConfigError(f"config error: {where}.batch: heads can be batched only with tied heads (model.init: zero "
                          "and model.tied_heads: true); untied, every H has its own parameter shapes")


def experiment_cells(settings: Settings, experiment: MultiheadExperiment, datasets: dict) -> list[CellSpec]:
    where = f"multihead.experiments.{experiment.name}"
    model = build(Model, {**as_plain(settings.model), **experiment.model}, f"{where}.model")
    log, cells = with_log(settings.log, experiment), []
    data_keys = {f.name for f in dataclasses.fields(BLOCKS[experiment.kind])}
    for point in with_reference(experiment).points():
        parts = split_point(point, data_keys, {f.name for f in dataclasses.fields(Model)}, cell_keys=("heads",),
                            where=where)
        heads = check_heads(parts.cell.get("heads"), where)
        cell_model = point_model(model, parts.model, where)
        check_batched_heads(experiment, cell_model, where)
        dataset = dataset_for(settings, experiment, parts.data, cell_model)
        name = dataset_name(datasets, "__".join([experiment.kind] + [point_id({k: v}) for k, v in parts.data.items()]),
                            dataset)
        datasets[name] = DatasetSpec(name, dataset)
        for opt_name in experiment.optimizers:
            spec, scaling = cell_optimizer(settings, experiment, opt_name, parts.optimizer)
            cells.append(CellSpec(experiment.name, {**point, "optimizer": opt_name}, name, Cell(
                data=dataset, heads=heads, model=cell_model, optimizer=spec, lr_scaling=scaling,
                step_size=step_size(spec.lr, scaling, heads), log=log, dtype=run_dtype(settings.dtype, experiment))))
    return cells


def plan(settings: Settings) -> StudyPlan:
    datasets, experiments, axes = {}, {}, {}
    for experiment in settings.experiments.values():
        if "heads" not in experiment.sweep:
            raise ConfigError(f"config error: multihead.experiments.{experiment.name}.sweep: needs `heads` "
                              "(a list of head counts)")
        axes[experiment.name] = tuple(experiment.sweep) + ("optimizer",)
        experiments[experiment.name] = experiment_cells(settings, experiment, datasets)
    figures = {name: FigureSpec(name, (exp,)) for name, (exp, opts) in FIGURES.items()
               if exp in experiments and set(opts or ()) <= set(settings.experiments[exp].optimizers)}
    return StudyPlan(settings, datasets, experiments, axes, figures)
