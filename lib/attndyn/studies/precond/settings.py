"""Typed settings of the precond study (torch-free). Defaults and meanings: schema.yaml."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from ...errors import ConfigError
from ...experiments import (Experiment, LogSettings, StudySettings, check_block, experiment_optimizer, run_seeds,
                            section_settings)
from ...optim.spec import OptimizerSpec, optimizer_spec
from ...settings import as_plain, build

PREFIX = "precond."
INIT_KEYS = ("init", "init_std", "spectral_rank_k")      # the study's own keys of an `optimizers` entry
FIG1, FIG2 = ("alg_spectral", "sgd"), ("alg_random", "sgd")  # the paper's pairs in experiment `compare`
                                                             # (Figs. 1-2 and claims C1-C2 read these names)
TUNING = "sgd_tuning"           # experiment: the SGD baseline over an lr grid (C1-C2 compare against the best rate)
CONDITIONING = "conditioning"   # experiment: whitening vs identity preconditioner, two Sigmas, an lr grid (C8)
LR = "optimizer.lr"             # the sweep axis of both
BASELINE_LR = "baseline_lr"     # sweep key: the lr of every optimizer but Algorithm 1 (C1/C2 maps tune SGD over it)


@dataclass(frozen=True)
class Data:
    """Tokens x ~ N(0, Sigma) in R^d, labels y = M x + noise_sigma eps in R^p (spec Sec. 2)."""
    d: int
    p: int | None                       # None = d
    sigma_spec: str
    sigma_cond: float                   # condition number of sigma_spec diag_logspaced
    M_scale_c: float
    noise_sigma: float
    n: int
    context: str                        # train_set (Option S) | fresh_prompt (Option P)
    prompt_len_L: int
    self_attend: bool
    n_test_queries: int
    instance_seeds: tuple[int, ...] | None   # None = the run seeds (always resolved in a Dataset)

    @property
    def out_dim(self) -> int:
        return self.p or self.d


@dataclass(frozen=True)
class Dataset:
    """One data file: run r draws Sigma, M from params.instance_seeds[r] and its tokens, labels and N(0, 1)
    point from seeds[r]."""
    params: Data
    seeds: tuple[int, ...]

    def runs(self) -> list[tuple[int, int]]:
        """(instance seed, data seed) of every run, in run order."""
        return list(zip(self.params.instance_seeds, self.seeds))


@dataclass(frozen=True)
class Model:
    temperature: float


@dataclass(frozen=True)
class Init:
    """Where a run starts (the study's keys of an `optimizers` entry)."""
    init: str                           # spectral | normal
    init_std: float
    spectral_rank_k: int | None


@dataclass(frozen=True)
class Figures:
    y_metric: str


@dataclass(frozen=True)
class Checks:
    C1_C2_time: int
    C1_C2_ratio_max: float
    C3_r2_min: float
    C3_burn_in: int
    C3_floor_factor: float
    C4_converged_max: float
    slope_range: tuple[float, float]
    C5_n_grid: tuple[int, ...]
    C5_key_draws: int
    C6_slope_max: float
    C7_B_growth_max: float
    C8_ratio_max: float


@dataclass(frozen=True)
class PrecondExperiment(Experiment):
    spectral_reference: bool            # also log E_inf of the spectral init (C4, C6, Fig. S1b)
    test_risk: bool                     # log the finite-context test risk


@dataclass(frozen=True)
class Cell:
    """Everything a train job needs (its JSON is the rerun trigger)."""
    data: Dataset
    model: Model
    optimizer: OptimizerSpec
    init: Init
    log: LogSettings
    spectral_reference: bool
    test_risk: bool
    dtype: str


@dataclass(frozen=True)
class Settings(StudySettings):
    """The whole `precond:` section, typed."""
    data: Data
    model: Model
    figures: Figures
    checks: Checks

    def optimizer(self, experiment: str, name: str, point: Mapping | None = None) -> tuple[OptimizerSpec, Init]:
        """Optimizer `name` as `experiment` runs it (entry, experiment steps, overrides, a sweep point's keys)."""
        spec, own = experiment_optimizer(self.optimizers, self.experiments[experiment], name, PREFIX, INIT_KEYS,
                                         point)
        return spec, build(Init, own, f"{PREFIX}experiments.{experiment}.optimizers.{name}")

    def rule(self, name: str) -> str:
        """The registry rule of an `optimizers` entry."""
        return table_spec(name, self.optimizers[name]).rule

    def examples_per_step(self, experiment: str, name: str) -> int:
        """Examples one step of optimizer `name` processes in `experiment`: its batch_size, else the n of the
        experiment's data (full batch)."""
        spec, _ = self.optimizer(experiment, name)
        return int(spec.batch_size or dataset_for(self, self.experiments[experiment], {}).params.n)

    def matched_sgd_step(self, name: str) -> int:
        """The step at which the SGD of experiment sgd_tuning has processed at least as many examples as
        optimizer `name` of experiment compare at checks.C1_C2_time (matched compute, rounded up)."""
        return matched_step(self.checks.C1_C2_time, self.examples_per_step("compare", name),
                            self.examples_per_step(TUNING, self.experiments[TUNING].optimizers[0]))


def matched_step(time: int, examples_per_step: int, baseline_examples_per_step: int) -> int:
    """The first baseline step with at least as many examples processed as `time` steps of the other run."""
    return -(-time * examples_per_step // baseline_examples_per_step)


def dataset_for(settings: Settings, experiment: PrecondExperiment, data_point: Mapping) -> Dataset:
    """The study's data block with the experiment's `data` and the point's data keys; instance seeds resolved."""
    where = f"{PREFIX}experiments.{experiment.name}"
    values = {**as_plain(settings.data), **experiment.data, **data_point}
    check_block("precond", "data", values, f"{where} (point {dict(data_point)}) data")
    data = build(Data, values, f"{where}.data")
    seeds = run_seeds(settings.seeds, experiment)
    instance = seeds if data.instance_seeds is None else data.instance_seeds
    if len(instance) != len(seeds):
        raise ConfigError(f"config error: {PREFIX}data.instance_seeds: {len(instance)} instance seeds for "
                          f"{len(seeds)} seeds in {where} (run r uses the r-th of each)")
    return Dataset(dataclasses.replace(data, instance_seeds=tuple(instance)), tuple(seeds))


def table_spec(name: str, entry: Mapping) -> OptimizerSpec:
    """An `optimizers` table entry as written (without the study's init keys)."""
    return optimizer_spec(name, {k: v for k, v in entry.items() if k not in INIT_KEYS}, f"{PREFIX}optimizers.{name}")


def study_settings(section: Mapping, top: Mapping) -> Settings:
    for name, entry in section["optimizers"].items():
        table_spec(name, entry)                          # unknown rule or setting: one line naming the key
    return with_inner_batches(section_settings(Settings, section, top, "precond", PrecondExperiment, INIT_KEYS))


def with_inner_batches(settings: Settings) -> Settings:
    """A map's `fixed.batch` batches keys of its inner sweep `fixed.sweep` too (the core batches a map's axes
    only): the C1/C2 maps train the baselines' lr grid as one ensemble with the Sigma axis."""
    experiments = dict(settings.experiments)
    for m in settings.maps.values():
        inner = m.fixed.get("batch") or []
        unknown = sorted(set(inner) - set(m.fixed.get("sweep") or {}))
        if unknown:
            raise ConfigError(f"config error: {PREFIX}maps.{m.name}.fixed.batch: {unknown[0]!r} is not a key of "
                              f"the map's fixed.sweep")
        experiment = experiments[m.experiment_name]
        experiments[m.experiment_name] = dataclasses.replace(
            experiment, batch=tuple(dict.fromkeys((*experiment.batch, *inner))))
    return dataclasses.replace(settings, experiments=experiments)
