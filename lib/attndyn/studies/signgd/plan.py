"""What the signgd study runs and produces (torch-free: the Snakefile imports it to build the DAG).

An experiment is a product of sweeps (data keys, `snr`, which sets sigma_p through the SNR definition,
or model/optimizer keys) and a list of optimizers; each point is one cell whose seeds train as one batch.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ...errors import ConfigError
from ...experiments import Experiment, check_block, experiment_optimizer, run_dtype, run_seeds, split_point, with_log
from ...settings import as_plain, build
from ..base import CellSpec, DatasetSpec, FigureSpec, StudyPlan, point_id
from .settings import Cell, Dataset, DigitsData, Model, Settings, SyntheticData

FIGURES = {                                   # figure -> (experiment it reads, optimizers it draws)
    "fig1_signgd_dynamics": ("dynamics", ("signgd",)),
    "fig2_signgd_vs_adam": ("dynamics", ("signgd", "adam")),
    "fig2d_snr_test_loss": ("snr", ()),
    "fig_noisy_digits": ("digits", ()),
}
BLOCKS = {"synthetic": SyntheticData, "digits": DigitsData}


def sigma_p_for_snr(snr: float, mu_norm: float, s: int) -> float:
    """SNR := ||mu||_2 / (sigma_p sqrt(s))  (spec Sec. 2, [PROPOSED] 'l2_sparse')."""
    return mu_norm / (snr * np.sqrt(s))


def dataset_for(settings: Settings, experiment: Experiment, data_point: dict) -> Dataset:
    """The data block of the experiment's kind, with the experiment's `data` and the point's data keys."""
    kind = experiment.kind
    values = {**as_plain(getattr(settings.data, kind)), **experiment.data}
    for key, value in data_point.items():
        if key == "snr":
            if not (isinstance(value, (int, float)) and value > 0):
                raise ConfigError(f"config error: signgd.experiments.{experiment.name}.sweep.snr: "
                                  f"{value!r} must be > 0")
            values["sigma_p"] = float(sigma_p_for_snr(value, values["mu_norm"], values["s"]))
        else:
            values[key] = value
    where = f"signgd.experiments.{experiment.name} (point {data_point}) data"
    check_block("signgd", f"data.{kind}", values, where)
    if kind == "synthetic" and values["s"] > values["d"] - int(values["noise_support_excludes_signal"]):
        raise ConfigError(f"config error: {where}.s: {values['s']} noise coordinates do not fit in d = {values['d']}")
    return Dataset(kind, run_seeds(settings.seeds, experiment), build(BLOCKS[kind], values, f"data.{kind}"))


def experiment_cells(settings: Settings, experiment: Experiment, datasets: dict) -> list[CellSpec]:
    model = build(Model, {**as_plain(settings.model), **experiment.model}, "signgd.model")
    log, cells = with_log(settings.log, experiment), []
    data_keys = {f.name for f in dataclasses.fields(BLOCKS[experiment.kind])}
    for point in experiment.points():
        parts = split_point(point, data_keys, {f.name for f in dataclasses.fields(Model)}, data_aliases=("snr",),
                            where=f"signgd.experiments.{experiment.name}")
        name = "__".join([experiment.kind] + [point_id({k: v}) for k, v in parts.data.items()])
        datasets[name] = DatasetSpec(name, dataset_for(settings, experiment, parts.data))
        cell_model = dataclasses.replace(model, **parts.model)
        for opt_name in experiment.optimizers:
            cells.append(CellSpec(experiment.name, {**point, "optimizer": opt_name}, name, Cell(
                data=datasets[name].settings, model=cell_model, log=log, features=experiment.kind == "synthetic",
                optimizer=experiment_optimizer(settings.optimizers, experiment, opt_name, "signgd.",
                                               point=parts.optimizer)[0],
                dtype=run_dtype(settings.dtype, experiment))))
    return cells


def plan(settings: Settings) -> StudyPlan:
    datasets, experiments, axes = {}, {}, {}
    for experiment in settings.experiments.values():
        axes[experiment.name] = tuple(experiment.sweep) + ("optimizer",)
        experiments[experiment.name] = experiment_cells(settings, experiment, datasets)
    figures = {name: FigureSpec(name, (exp,)) for name, (exp, opts) in FIGURES.items()
               if exp in experiments and set(opts) <= set(settings.experiments[exp].optimizers)}
    return StudyPlan(settings, datasets, experiments, axes, figures)
