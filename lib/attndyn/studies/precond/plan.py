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
from .settings import (BASELINE_LR, CONDITIONING, FIG1, FIG2, PREFIX, TUNING, Cell, Data, Dataset, Init, Model,
                       PrecondExperiment, Settings, dataset_for, matched_step)

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
    parts = split_point(point, DATA_KEYS, MODEL_KEYS, cell_keys=(BASELINE_LR,), where=where)
    dataset = dataset_for(settings, experiment, parts.data)
    check_sigma_cond(dataset, {**experiment.data, **parts.data}, where)
    name = dataset_name(dataset, settings, datasets)
    datasets[name] = DatasetSpec(name, dataset)
    cell_model = build(Model, {**as_plain(model), **parts.model}, f"{where}.model")
    runs = {opt: settings.optimizer(experiment.name, opt, optimizer_point(settings, opt, parts, where))
            for opt in experiment.optimizers}
    matched = baseline_steps(settings, runs, dataset) if BASELINE_LR in experiment.sweep else ()
    log = cell_log(settings, experiment, matched)
    cells = []
    for opt_name, (spec, init) in runs.items():
        check_run(spec, init, dataset, f"{where}.optimizers.{opt_name}")
        cells.append(CellSpec(experiment.name, {**point, "optimizer": opt_name}, name, Cell(
            data=dataset, model=cell_model, optimizer=spec, init=init, log=log,
            spectral_reference=experiment.spectral_reference, test_risk=experiment.test_risk,
            dtype=run_dtype(settings.dtype, experiment))))
    return cells


def check_sigma_cond(dataset: Dataset, data_keys: dict, where: str) -> None:
    """data.sigma_cond set by an experiment or a sweep point acts only with sigma_spec diag_logspaced."""
    if "sigma_cond" in data_keys and dataset.params.sigma_spec != "diag_logspaced":
        raise ConfigError(f"config error: {where}: sigma_cond sets the condition number of sigma_spec "
                          f"diag_logspaced only, but this experiment's sigma_spec is {dataset.params.sigma_spec!r} "
                          "(set data: {sigma_spec: diag_logspaced})")


def optimizer_point(settings: Settings, name: str, parts, where: str) -> dict:
    """A sweep point's optimizer keys for optimizer `name`: optimizer.<key>, and baseline_lr as the lr of every
    optimizer whose rule is not algorithm1 (Algorithm 1 keeps its own rate)."""
    out = dict(parts.optimizer)
    if BASELINE_LR in parts.cell:
        if "lr" in out:
            raise ConfigError(f"config error: {where}.sweep: {BASELINE_LR} and optimizer.lr both set the baselines' "
                              "lr; sweep one of them")
        if settings.rule(name) != "algorithm1":
            out["lr"] = parts.cell[BASELINE_LR]
    return out


def baseline_steps(settings: Settings, runs: dict, dataset: Dataset) -> tuple[int, ...]:
    """An experiment that sweeps baseline_lr (C1/C2 maps): the baseline steps matched in compute to Algorithm 1
    at checks.C1_C2_time (logged; check_baselines: the baselines run that long); () without Algorithm 1 or
    baselines."""
    T, n = settings.checks.C1_C2_time, dataset.params.n
    algs = [spec for spec, _ in runs.values() if spec.rule == "algorithm1"]
    bases = [spec for spec, _ in runs.values() if spec.rule != "algorithm1"]
    return tuple(sorted({matched_step(T, a.batch_size or n, b.batch_size or n) for a in algs for b in bases}))


def _own(cell: CellSpec) -> Cell:
    return cell.settings.members[0] if hasattr(cell.settings, "members") else cell.settings


def check_baselines(settings: Settings, experiments: dict[str, list[CellSpec]]) -> None:
    """Each baseline of an experiment that sweeps baseline_lr runs at least to its matched-compute step."""
    for name, cells in experiments.items():
        if BASELINE_LR not in settings.experiments[name].sweep:
            continue
        runs = {_own(c).optimizer.name: (_own(c).optimizer, None) for c in cells}
        for cell in cells:
            s = _own(cell)
            need = max(baseline_steps(settings, runs, s.data), default=0)
            steps = run_length(s.optimizer, s.data.params.n)
            if s.optimizer.rule != "algorithm1" and steps < need:
                where = (f"{PREFIX}maps.{name[len('map_'):]}.fixed" if name.startswith("map_")
                         else f"{PREFIX}experiments.{name}")
                raise ConfigError(f"config error: {where}.overrides.{cell.coords['optimizer']}.steps: {steps} steps "
                                  f"stop before step {need}, where the baseline has processed as many examples as "
                                  "Algorithm 1 at checks.C1_C2_time")


def matched_steps(settings: Settings) -> tuple[int, ...]:
    """The SGD steps of experiment sgd_tuning matched in compute to the Algorithm 1 runs that C1/C2 compare
    (Settings.matched_sgd_step); empty unless both compare and sgd_tuning are run."""
    if TUNING not in settings.experiments or "compare" not in settings.experiments:
        return ()
    names = [pair[0] for pair in (FIG1, FIG2) if pair[0] in settings.experiments["compare"].optimizers]
    return tuple(sorted({settings.matched_sgd_step(name) for name in names}))


def cell_log(settings: Settings, experiment: PrecondExperiment, matched: tuple[int, ...] = ()) -> LogSettings:
    """The experiment's logging grid; sgd_tuning also logs the matched-compute steps C1/C2 read, an experiment
    with Algorithm 1 and baselines its own (`matched`)."""
    log = with_log(settings.log, experiment)
    if experiment.name == TUNING:
        matched = (*matched, *matched_steps(settings))
    if not matched:
        return log
    return dataclasses.replace(log, extra_steps=tuple(sorted({*log.extra_steps, *matched})))


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
    check_baselines(settings, experiments)
    figures = {name: FigureSpec(name, (exp, *[e for e in extra if e in experiments]))
               for name, (exp, opts, extra) in FIGURES.items()
               if exp in experiments and set(opts) <= set(settings.experiments[exp].optimizers)}
    return StudyPlan(settings, datasets, experiments, axes, figures)
