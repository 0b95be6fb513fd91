"""What the kernels study runs and produces (torch-free: the Snakefile imports it to build the DAG).

Every experiment is the product of its sweep and its optimizers; its `kind` (registry.KINDS) says which data
block it reads and how its cells are laid out: s1, s3 and the landscapes loop over the kernels inside one cell
(they share a stage 1), s2 and the LRA tasks have one cell per kernel. All seeds of a cell run in one job.
An lra_landscape experiment follows its task's cells: one cell per Softmax cell of the task (its stage 1,
read through CellSpec.needs). A text experiment runs only when its data has a `path`.
"""
from __future__ import annotations

import dataclasses
import hashlib
import itertools
import sys
from functools import cache
from pathlib import Path

from ...config import load_yaml
from ...errors import ConfigError
from ...experiments import PointParts, check_block, run_dtype, run_seeds, split_point, with_log
from ...maps import PREFIX as MAP_PREFIX
from ...optim.rules import RULES
from ...optim.step_size import check_step_rule
from ...settings import as_plain, canonical_json, replace_path
from ..base import CellSpec, DatasetSpec, FigureSpec, StudyPlan, point_id
from .registry import KINDS, SCALE_MATCHED_KINDS, TASK_KINDS, Kind, figure_name, kind_of
from .settings import (DATA_CLASSES, Dataset, KernelsExperiment, Landscape, Model, Settings, TaskCell,
                       experiment_data, experiment_model, experiment_optimizer_spec)

MODEL_KEYS = ("gaussian_rownorm", "gaussian_temperature")
_TEXT_NOTICE_SHOWN = False


def _where(experiment: KernelsExperiment) -> str:
    return f"kernels.experiments.{experiment.name}"


@cache
def _experiment_key_defaults() -> dict:
    """Schema defaults of the study's own experiment keys (a key a kind does not read must keep its default)."""
    props = load_yaml(Path(__file__).with_name("schema.yaml"))["$defs"]["experiment_extra"]["properties"]
    return {key: sub["default"] for key, sub in props.items() if "default" in sub}


def check_experiment_keys(experiment: KernelsExperiment, kind: Kind) -> None:
    """Landscape keys only where the kind reads them; a slice range [low, high] with low < high."""
    for key, default in _experiment_key_defaults().items():
        value = getattr(experiment, key)
        if key not in kind.experiment_keys and as_plain(value) != default:
            raise ConfigError(f"config error: {_where(experiment)}.{key}: a {kind.name} experiment does not read "
                              f"this key (kinds {', '.join(k.name for k in KINDS.values() if key in k.experiment_keys)}"
                              " do); remove it")
    if "range" in kind.experiment_keys and not experiment.range[0] < experiment.range[1]:
        raise ConfigError(f"config error: {_where(experiment)}.range: {list(experiment.range)} must be [low, high], "
                          "low < high")
    if experiment.batch and not kind.batches:
        raise ConfigError(f"config error: {_where(experiment)}.batch: a {kind.name} experiment trains one cell per "
                          f"sweep point (kinds {', '.join(k.name for k in KINDS.values() if k.batches)} batch); "
                          "remove it")
    if kind.inner and kind.inner[0] in experiment.batch:
        raise ConfigError(f"config error: {_where(experiment)}.batch: {kind.inner[0]!r} is inside every {kind.name} "
                          "cell already (one job trains all its values); remove it from batch")


def check_temperature(model: Model, kind: Kind, where: str) -> None:
    """gaussian_temperature scale_matched is resolved by the synthetic trainers of s1 and s2 only."""
    if model.gaussian_temperature == "scale_matched" and kind.name not in SCALE_MATCHED_KINDS:
        raise ConfigError(f"config error: {where}.gaussian_temperature: scale_matched is defined for the kinds "
                          f"{', '.join(SCALE_MATCHED_KINDS)} (a {kind.name} experiment); use a number or null")


def check_optimizer(kind: Kind, spec, where: str) -> None:
    """The rule needs nothing this study lacks, takes the entry's lr_rule, and its run length fits the kind:
    full-batch kinds run `steps`; minibatch kinds run `steps` or `epochs` of batch_size (null: full batch)
    with one lr for every run."""
    if RULES[spec.rule].needs:
        raise ConfigError(f"config error: {where}.rule: rule {spec.rule!r} needs a {RULES[spec.rule].needs[0]}, "
                          "which the kernels experiments do not provide")
    check_step_rule(spec, where)
    if kind.minibatch and spec.lr_rule != "constant":
        raise ConfigError(f"config error: {where}.lr_rule: a {kind.name} experiment trains one model per seed; "
                          "use lr_rule: constant")
    if kind.minibatch and spec.steps is None and spec.epochs is None:
        raise ConfigError(f"config error: {where}: a {kind.name} experiment needs `epochs` or `steps`")
    if not kind.minibatch and (spec.batch_size is not None or spec.epochs is not None or spec.steps is None):
        raise ConfigError(f"config error: {where}: a {kind.name} experiment is full batch; give the optimizer "
                          f"`steps` and null batch_size and epochs (an entry of its own, or "
                          f"{where.replace('.optimizers.', '.overrides.')}: {{steps: N, batch_size: null, "
                          "epochs: null}})")


def _text_notice() -> None:
    """Text cells need a local IMDb copy; without one print one line (once per process) and plan none."""
    global _TEXT_NOTICE_SHOWN
    if not _TEXT_NOTICE_SHOWN:
        print("kernels: data.text.path is null, so no text-classification cells are planned "
              "(set it to a local aclImdb folder to run them)", file=sys.stderr)
        _TEXT_NOTICE_SHOWN = True


def _runnable(dataset: Dataset, experiment: KernelsExperiment) -> bool:
    """False for a text experiment without an IMDb path (after one notice); a path that is no folder is an error."""
    if dataset.kind != "text":
        return True
    if dataset.params.path is None:
        _text_notice()
        return False
    if not Path(dataset.params.path).is_dir():
        raise ConfigError(f"config error: kernels.data.text.path: {dataset.params.path!r} is not a folder (expected "
                          f"an aclImdb folder with train/ and test/; null skips the text experiment "
                          f"{experiment.name})")
    return True


def point_parts(experiment: KernelsExperiment, kind: Kind, point: dict) -> PointParts:
    """A sweep point split into data, model, optimizer and cell keys (the kind's cell keys must be swept)."""
    data_keys = [f.name for f in dataclasses.fields(DATA_CLASSES[kind.data])] if kind.data else []
    parts = split_point(point, data_keys, MODEL_KEYS, kind.cell_keys, where=_where(experiment))
    for key in kind.cell_keys:
        if key not in parts.cell:
            raise ConfigError(f"config error: {_where(experiment)}.sweep: a {kind.name} experiment sweeps {key!r}")
    if kind.name == "s1" and parts.cell["train"] not in ("wv", "attention"):
        raise ConfigError(f"config error: {_where(experiment)}.sweep.train: {parts.cell['train']!r} is not one of "
                          "wv, attention")
    return parts


def point_model(model: Model, values: dict, experiment: KernelsExperiment, kind: Kind) -> Model:
    """The experiment's model with a sweep point's model keys ('gaussian_rownorm', 'lra.dim')."""
    for path, value in values.items():
        model = replace_path(model, path, value)
    if values:
        check_block("kernels", "model", as_plain(model), f"{_where(experiment)} (point {values}) model")
    check_temperature(model, kind, f"{_where(experiment)}.model")
    return model


def landscape_of(experiment: KernelsExperiment) -> Landscape:
    return Landscape(experiment.stage1_steps, experiment.stage2_steps, experiment.stage2_params, experiment.params,
                     experiment.grid, tuple(experiment.range), experiment.n_examples, experiment.direction_seed,
                     experiment.direction_pairs, experiment.hessian_iters)


def dataset_for(settings: Settings, experiment: KernelsExperiment, kind: Kind, data_point: dict,
                seeds: tuple[int, ...], grid: dict | None = None) -> tuple[str, Dataset]:
    """(file name, Dataset) of the experiment's data at one sweep point (`grid`: the inner grid a sweep sets, the
    same at every point); the LRA data do not depend on seeds. A claim map's data file is named by its content
    (kind, point, digest), so maps over the same data share it, and then their equal cells."""
    params = experiment_data(settings, experiment, kind.data, {**data_point, **(grid or {})})
    dataset = Dataset(kind.data, () if kind.minibatch else tuple(seeds), params)
    point = [point_id({k: v}) for k, v in data_point.items()]
    if experiment.name.startswith(MAP_PREFIX):
        digest = hashlib.sha256(canonical_json(dataset).encode()).hexdigest()[:10]
        return "__".join(["maps", kind.data] + point + [digest]), dataset
    return "__".join([experiment.name] + point), dataset


def _cell(kind: Kind, common: dict, extras: dict):
    """The kind's cell settings: the common fields, then the ones its class has of `extras`."""
    return kind.cell(**{f.name: common[f.name] if f.name in common else extras[f.name]
                        for f in dataclasses.fields(kind.cell)})


def _point_cells(settings, experiment, kind, point, parts, dataset_name, dataset, model) -> list[CellSpec]:
    """The cells of one sweep point: every optimizer, and every kernel unless the kernels loop inside."""
    cells = []
    for opt in experiment.optimizers:
        spec = experiment_optimizer_spec(settings, experiment, opt, parts.optimizer)
        check_optimizer(kind, spec, f"{_where(experiment)}.optimizers.{opt}")
        common = dict(kind=kind.name, seeds=run_seeds(settings.seeds, experiment), data=dataset,
                      attention=model.kernel_options(), optimizer=spec, log=with_log(settings.log, experiment),
                      dtype=run_dtype(settings.dtype, experiment))
        for kernel in ([None] if kind.kernels_inside else settings.kernels):
            extras = {"kernels": settings.kernels, "kernel": kernel, "network": model.lra,
                      "landscape": landscape_of(experiment), **parts.cell}
            coords = {**point, **({} if kernel is None else {"kernel": kernel}), "optimizer": opt}
            cells.append(CellSpec(experiment.name, coords, dataset_name, _cell(kind, common, extras)))
    return cells


def inner_key(experiment: KernelsExperiment, kind: Kind) -> str | None:
    """The sweep key that is a dimension inside every cell of this kind (S1's D, S2's sigma_Q), if swept."""
    return kind.inner[0] if kind.inner and kind.inner[0] in experiment.sweep else None


def outer_points(experiment: KernelsExperiment, kind: Kind) -> tuple[list[dict], dict]:
    """The sweep points that are cells, and the inner grid a swept inner key sets ({'D_grid': [...]} or {}): S1
    trains every D of its grid in one job (zero padding), S2 every sigma_Q, so sweeping D or sigma_Q sets that
    grid instead of adding cells."""
    inner = inner_key(experiment, kind)
    sweep = {k: v for k, v in experiment.sweep.items() if k != inner}
    points = [dict(zip(sweep, values)) for values in itertools.product(*sweep.values())]
    return points, ({kind.inner[1]: list(experiment.sweep[inner])} if inner else {})


def experiment_cells(settings: Settings, experiment: KernelsExperiment, kind: Kind,
                     datasets: dict) -> list[CellSpec] | None:
    """Cells of an experiment with its own data (not a landscape); None if it does not run (text, no path)."""
    model, cells = experiment_model(settings, experiment), []
    points, grid = outer_points(experiment, kind)
    for point in points:
        parts = point_parts(experiment, kind, point)
        name, dataset = dataset_for(settings, experiment, kind, parts.data, run_seeds(settings.seeds, experiment),
                                    grid)
        if not _runnable(dataset, experiment):
            return None
        datasets[name] = DatasetSpec(name, dataset)
        cells += _point_cells(settings, experiment, kind, point, parts, name, dataset,
                              point_model(model, parts.model, experiment, kind))
    return cells


def _task_of(settings: Settings, experiment: KernelsExperiment) -> KernelsExperiment:
    """The LRA experiment an lra_landscape reads; the landscape follows its data, model and sweep."""
    task = settings.experiments.get(experiment.task)
    if task is None or task.kind not in TASK_KINDS:
        tasks = [e.name for e in settings.experiments.values() if e.kind in TASK_KINDS]
        raise ConfigError(f"config error: {_where(experiment)}.task: {experiment.task!r} is not an experiment of "
                          f"kind {' or '.join(TASK_KINDS)} (those: {', '.join(tasks) or 'none'}); remove the landscape "
                          f"with {_where(experiment)}: null")
    for key in ("sweep", "data", "model"):
        if getattr(experiment, key):
            raise ConfigError(f"config error: {_where(experiment)}.{key}: a landscape follows its task's "
                              f"{key} (set it on kernels.experiments.{task.name})")
    missing = [o for o in experiment.optimizers if o not in task.optimizers]
    if missing:
        raise ConfigError(f"config error: {_where(experiment)}.optimizers: {missing[0]!r} trains no Softmax cell of "
                          f"{task.name} (its optimizers: {', '.join(task.optimizers)})")
    return task


def _landscape_cell(settings: Settings, experiment: KernelsExperiment, task: KernelsExperiment,
                    stage1: CellSpec) -> CellSpec:
    """The landscape cell over one Softmax cell of the task: its data, model and seeds, the landscape's
    optimizer entry (with the task point's optimizer keys) for stage 2."""
    kind, where = KINDS["lra_landscape"], _where(experiment)
    point = {k: v for k, v in stage1.coords.items() if k not in ("kernel", "optimizer")}
    opt, seeds = stage1.coords["optimizer"], run_seeds(settings.seeds, experiment)
    if not set(seeds) <= set(stage1.settings.seeds):
        raise ConfigError(f"config error: {where}.seeds: {list(seeds)} must be among the seeds of "
                          f"{task.name} ({list(stage1.settings.seeds)}), whose weights are stage 1")
    spec = experiment_optimizer_spec(settings, experiment, opt, point_parts(task, kind_of(task), point).optimizer)
    check_optimizer(kind, spec, f"{where}.optimizers.{opt}")
    s = stage1.settings
    cell = kind.cell(kind=kind.name, seeds=seeds, data=s.data, attention=s.attention, optimizer=spec,
                     log=with_log(settings.log, experiment), dtype=run_dtype(settings.dtype, experiment),
                     kernels=settings.kernels, network=s.network, landscape=landscape_of(experiment))
    return CellSpec(experiment.name, {**point, "optimizer": opt}, stage1.dataset, cell, ((task.name, stage1.id),))


def landscape_cells(settings: Settings, experiment: KernelsExperiment, planned: dict) -> list[CellSpec] | None:
    """One cell per Softmax cell of the task trained by one of the landscape's optimizers; None when the task
    does not run or no Softmax arm is configured."""
    task = _task_of(settings, experiment)
    if task.name not in planned or "softmax" not in settings.kernels:
        return None
    return [_landscape_cell(settings, experiment, task, c) for c in planned[task.name]
            if c.coords["kernel"] == "softmax" and c.coords["optimizer"] in experiment.optimizers]


def _axes(settings: Settings, experiment: KernelsExperiment, kind: Kind) -> tuple[str, ...]:
    if kind.data is None:                                  # a landscape: its task's axes, kernels inside
        task = settings.experiments[experiment.task]
        return tuple(task.sweep) + ("optimizer",)
    outer = tuple(k for k in experiment.sweep if k != inner_key(experiment, kind))
    return outer + (() if kind.kernels_inside else ("kernel",)) + ("optimizer",)


def _figures(experiments: dict, settings: Settings) -> dict[str, FigureSpec]:
    figures = {}
    for name in (n for n in experiments if not n.startswith(MAP_PREFIX)):     # a map draws its own heatmap
        figure = figure_name(settings.experiments[name])
        if figure in figures:
            raise ConfigError(f"config error: kernels.experiments.{name}: its figure {figure} is also "
                              f"{figures[figure].experiments[0]}'s; rename one of them")
        figures[figure] = FigureSpec(figure, (name,))
    return figures


def plan(settings: Settings) -> StudyPlan:
    """Datasets, cells (tasks before the landscapes that read them) and one figure per experiment."""
    datasets, planned, axes = {}, {}, {}
    for landscapes in (False, True):
        for experiment in settings.experiments.values():
            kind = kind_of(experiment)
            if (kind.data is None) != landscapes:
                continue
            check_experiment_keys(experiment, kind)
            cells = (landscape_cells(settings, experiment, planned) if landscapes
                     else experiment_cells(settings, experiment, kind, datasets))
            if cells:
                planned[experiment.name], axes[experiment.name] = cells, _axes(settings, experiment, kind)
    experiments = {name: planned[name] for name in settings.experiments if name in planned}
    return StudyPlan(settings, datasets, experiments, {name: axes[name] for name in experiments},
                     _figures(experiments, settings))


def long_cell(cell) -> bool:
    """LRA task cells (minibatch training of a Transformer per seed, minutes each) start early in a run."""
    members = getattr(cell.settings, "members", (cell.settings,))
    return any(isinstance(m, TaskCell) for m in members)
