"""What the precond study runs and produces (torch-free: the Snakefile imports it to build the DAG).

An experiment is the product of its sweep (data keys such as n or sigma_spec, model.<key>, optimizer.<key>)
and its optimizers (any registry rule; Algorithm 1 is rule algorithm1); each point is one cell whose seeds
train as one batch. Defaults (spec Sec. 7): `compare` (Figs. 1-2), `scaling` (S1), `ablations` (S2).
"""
from __future__ import annotations

import dataclasses
import hashlib

from ...errors import ConfigError
from ...experiments import check_block, run_dtype, run_seeds, split_point, with_log
from ...optim.spec import OptimizerSpec, run_length
from ...settings import as_plain, build, canonical_json
from ..base import CellSpec, DatasetSpec, FigureSpec, StudyPlan, point_id
from .settings import FIG1, FIG2, PREFIX, Cell, Data, Dataset, Init, Model, PrecondExperiment, Settings

FIGURES = {                                   # figure -> (experiment it reads, optimizers it needs)
    "fig1_spectral_vs_sgd": ("compare", FIG1),
    "fig2_same_random_init": ("compare", FIG2),
    "figS1_scaling": ("scaling", ()),
    "figS2_ablations": ("ablations", ()),
}
DATA_KEYS = tuple(f.name for f in dataclasses.fields(Data))
MODEL_KEYS = tuple(f.name for f in dataclasses.fields(Model))


def dataset_for(settings: Settings, experiment: PrecondExperiment, data_point: dict) -> Dataset:
    """The study's data block with the experiment's `data` and the point's data keys; instance seeds resolved."""
    where = f"{PREFIX}experiments.{experiment.name}"
    values = {**as_plain(settings.data), **experiment.data, **data_point}
    check_block("precond", "data", values, f"{where} (point {data_point}) data")
    data = build(Data, values, f"{where}.data")
    seeds = run_seeds(settings.seeds, experiment)
    instance = seeds if data.instance_seeds is None else data.instance_seeds
    if len(instance) != len(seeds):
        raise ConfigError(f"config error: {PREFIX}data.instance_seeds: {len(instance)} instance seeds for "
                          f"{len(seeds)} seeds in {where} (run r uses the r-th of each)")
    return Dataset(dataclasses.replace(data, instance_seeds=tuple(instance)), tuple(seeds))


def dataset_name(dataset: Dataset, settings: Settings, datasets: dict) -> str:
    """'sigma_spec-<s>__n-<n>' plus any other data key that differs from the study's block; a name already
    taken by other data (e.g. other seeds) gets a digest of the settings."""
    params = dataset.params
    shown = {"sigma_spec": params.sigma_spec, "n": params.n}
    for key in DATA_KEYS:
        value = getattr(params, key)
        if key not in shown and key != "instance_seeds" and value != getattr(settings.data, key):
            shown[key] = value
    name = point_id(shown)
    if name in datasets and datasets[name].settings != dataset:
        name += "__" + hashlib.sha256(canonical_json(dataset).encode()).hexdigest()[:8]
    return name


def check_run(spec: OptimizerSpec, init: Init, dataset: Dataset, where: str) -> None:
    """Cross-key checks of one cell's optimizer: the spectral rank, the run length, a constant lr."""
    if spec.lr_rule != "constant":
        raise ConfigError(f"config error: {where}.lr_rule: the precond study runs a constant lr only, "
                          f"got {spec.lr_rule!r}")
    if init.spectral_rank_k is not None and init.spectral_rank_k > dataset.params.d:
        raise ConfigError(f"config error: {where}.spectral_rank_k: {init.spectral_rank_k} exceeds data.d = "
                          f"{dataset.params.d}")
    run_length(spec, dataset.params.n)


def point_cells(settings: Settings, experiment: PrecondExperiment, point: dict, datasets: dict,
                model: Model) -> list[CellSpec]:
    """The cells of one sweep point: one per optimizer of the experiment."""
    where = f"{PREFIX}experiments.{experiment.name}"
    parts = split_point(point, DATA_KEYS, MODEL_KEYS, where=where)
    dataset = dataset_for(settings, experiment, parts.data)
    name = dataset_name(dataset, settings, datasets)
    datasets[name] = DatasetSpec(name, dataset)
    cell_model = build(Model, {**as_plain(model), **parts.model}, f"{where}.model")
    cells = []
    for opt_name in experiment.optimizers:
        spec, init = settings.optimizer(experiment.name, opt_name, parts.optimizer)
        check_run(spec, init, dataset, f"{where}.optimizers.{opt_name}")
        cells.append(CellSpec(experiment.name, {**point, "optimizer": opt_name}, name, Cell(
            data=dataset, model=cell_model, optimizer=spec, init=init, log=with_log(settings.log, experiment),
            spectral_reference=experiment.spectral_reference, dtype=run_dtype(settings.dtype, experiment))))
    return cells


def experiment_cells(settings: Settings, experiment: PrecondExperiment, datasets: dict) -> list[CellSpec]:
    where = f"{PREFIX}experiments.{experiment.name}.model"
    model = build(Model, {**as_plain(settings.model), **experiment.model}, where)
    return [cell for point in experiment.points()
            for cell in point_cells(settings, experiment, point, datasets, model)]


def check_claim_time(settings: Settings, experiments: dict[str, list[CellSpec]]) -> None:
    """C1/C2 read E_inf at checks.C1_C2_time: no compared optimizer may stop before it."""
    time = settings.checks.C1_C2_time
    for cell in experiments.get("compare", []):
        name = cell.coords["optimizer"]
        steps = run_length(cell.settings.optimizer, cell.settings.data.params.n)
        if name in FIG1 + FIG2 and steps < time:
            raise ConfigError(f"config error: {PREFIX}checks.C1_C2_time: {time} exceeds the {steps} steps of "
                              f"optimizer {name!r} in {PREFIX}experiments.compare")


def plan(settings: Settings) -> StudyPlan:
    datasets, experiments, axes = {}, {}, {}
    for experiment in settings.experiments.values():
        axes[experiment.name] = tuple(experiment.sweep) + ("optimizer",)
        experiments[experiment.name] = experiment_cells(settings, experiment, datasets)
    check_claim_time(settings, experiments)
    figures = {name: FigureSpec(name, (exp,)) for name, (exp, opts) in FIGURES.items()
               if exp in experiments and set(opts) <= set(settings.experiments[exp].optimizers)}
    return StudyPlan(settings, datasets, experiments, axes, figures)
