"""What the precond study runs and produces (torch-free: the Snakefile imports it to build the DAG).

An experiment is the product of its sweep (data keys such as n or sigma_spec, model.<key>, optimizer.<key>)
and its optimizers (any registry rule; Algorithm 1 is rule algorithm1); each point is one cell whose seeds
train as one batch. Defaults (spec Sec. 7): `compare` (Figs. 1-2), `scaling` (S1), `ablations` (S2), and for
the claims' baselines `sgd_tuning` (SGD over an lr grid, C1-C2) and `conditioning` (whitening vs identity
preconditioner on two covariances over an lr grid, C8; Fig. S3).
"""
from __future__ import annotations

import dataclasses
import hashlib

from ...errors import ConfigError
from ...experiments import LogSettings, run_dtype, split_point, with_log
from ...optim.spec import OptimizerSpec, run_length
from ...settings import as_plain, build, canonical_json
from ..base import CellSpec, DatasetSpec, FigureSpec, StudyPlan, point_id
from .settings import (CONDITIONING, FIG1, FIG2, PREFIX, TUNING, Cell, Data, Dataset, Init, Model,
                       PrecondExperiment, Settings, dataset_for)

FIGURES = {              # figure -> (experiment it reads, optimizers it needs, experiments it also reads if run)
    "fig1_spectral_vs_sgd": ("compare", FIG1, (TUNING,)),
    "fig2_same_random_init": ("compare", FIG2, (TUNING,)),
    "figS1_scaling": ("scaling", (), ()),
    "figS2_ablations": ("ablations", (), ()),
    "figS3_conditioning": (CONDITIONING, (), ()),
}
DATA_KEYS = tuple(f.name for f in dataclasses.fields(Data))
MODEL_KEYS = tuple(f.name for f in dataclasses.fields(Model))


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
            data=dataset, model=cell_model, optimizer=spec, init=init, log=cell_log(settings, experiment),
            spectral_reference=experiment.spectral_reference, test_risk=experiment.test_risk,
            dtype=run_dtype(settings.dtype, experiment))))
    return cells


def matched_steps(settings: Settings) -> tuple[int, ...]:
    """The SGD steps of experiment sgd_tuning matched in compute to the Algorithm 1 runs that C1/C2 compare
    (Settings.matched_sgd_step); empty unless both compare and sgd_tuning are run."""
    if TUNING not in settings.experiments or "compare" not in settings.experiments:
        return ()
    names = [pair[0] for pair in (FIG1, FIG2) if pair[0] in settings.experiments["compare"].optimizers]
    return tuple(sorted({settings.matched_sgd_step(name) for name in names}))


def cell_log(settings: Settings, experiment: PrecondExperiment) -> LogSettings:
    """The experiment's logging grid; sgd_tuning also logs the matched-compute steps C1/C2 read."""
    log = with_log(settings.log, experiment)
    if experiment.name != TUNING:
        return log
    return dataclasses.replace(log, extra_steps=tuple(sorted({*log.extra_steps, *matched_steps(settings)})))


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


def check_tuning(settings: Settings, experiments: dict[str, list[CellSpec]]) -> None:
    """sgd_tuning runs on compare's data (the same instances and N(0, 1) points) long enough to reach the
    matched-compute steps of C1/C2."""
    if TUNING not in experiments or "compare" not in experiments:
        return
    where = f"{PREFIX}experiments.{TUNING}"
    if {c.dataset for c in experiments[TUNING]} != {c.dataset for c in experiments["compare"]}:
        raise ConfigError(f"config error: {where}: must run on the data of {PREFIX}experiments.compare (C1/C2 "
                          "compare on the same instances); drop its data keys and data sweep")
    need = max(matched_steps(settings), default=0)
    for cell in experiments[TUNING]:
        steps = run_length(cell.settings.optimizer, cell.settings.data.params.n)
        if steps < need:
            raise ConfigError(f"config error: {where}.steps: {steps} steps stop before step {need}, where SGD has "
                              f"processed as many examples as Algorithm 1 at checks.C1_C2_time")


def plan(settings: Settings) -> StudyPlan:
    datasets, experiments, axes = {}, {}, {}
    for experiment in settings.experiments.values():
        axes[experiment.name] = tuple(experiment.sweep) + ("optimizer",)
        experiments[experiment.name] = experiment_cells(settings, experiment, datasets)
    check_claim_time(settings, experiments)
    check_tuning(settings, experiments)
    figures = {name: FigureSpec(name, (exp, *[e for e in extra if e in experiments]))
               for name, (exp, opts, extra) in FIGURES.items()
               if exp in experiments and set(opts) <= set(settings.experiments[exp].optimizers)}
    return StudyPlan(settings, datasets, experiments, axes, figures)
