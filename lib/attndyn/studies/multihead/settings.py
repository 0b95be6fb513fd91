"""Typed settings of the multihead study (torch-free). Defaults and meanings: schema.yaml."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ...experiments import Experiment, LogSettings, StudySettings, section_settings
from ...optim.spec import OptimizerSpec

OPTIMIZER_KEYS = ("lr_scaling",)            # multihead's own optimizer-entry keys (schema $defs.optimizer_extra)

@dataclass(frozen=True)
class DM1Data:
    """Tokenized mixture (spec Sec. 3.1)."""
    T: int
    d: int
    zeta: float
    M: int
    S: float
    sigma: float
    n_train: int
    n_test: int


@dataclass(frozen=True)
class PlantedData:
    """Planted one-head teacher (spec Sec. 3.2)."""
    T: int
    d: int
    beta: float
    U_star_std: float | None
    label_flip_prob: float
    n_train: int
    n_test: int


@dataclass(frozen=True)
class DataBlocks:
    dm1: DM1Data
    planted: PlantedData


@dataclass(frozen=True)
class Dataset:
    """One data file: every seed of one data configuration."""
    kind: str                                   # dm1 | planted
    seeds: tuple[int, ...]
    params: DM1Data | PlantedData
    teacher_pooling: str | None                 # planted: the teacher uses the student's pooling; dm1: None


@dataclass(frozen=True)
class Model:
    """Multi-head attention classifier (spec Sec. 1) and its initialization (Sec. 1.1)."""
    pooling: str                                # mean | first
    head_scaling: str                           # 1/sqrt(H) | 1/H | 1
    temperature: float
    tied_heads: bool
    init: str                                   # zero | random | one_step
    init_random_std: float | None               # None = 1/sqrt(d)
    init_one_step_lr: float


@dataclass(frozen=True)
class Figures:
    reference_slope: float


@dataclass(frozen=True)
class Checks:
    C1_times: tuple[int, ...]
    C2_C6_time: int
    C1_C2_init_time: int
    C3_slope_max: float
    C4_gap_max: float
    C5_rise_fraction: float
    order_margin_se: float


@dataclass(frozen=True)
class Cell:
    """Everything a train job needs (its JSON is the rerun trigger)."""
    data: Dataset
    heads: int                                  # H
    model: Model
    optimizer: OptimizerSpec                    # lr as configured
    lr_scaling: str                             # constant | sqrt_heads
    step_size: float                            # the effective eta: lr, or lr sqrt(H)
    log: LogSettings
    dtype: str


@dataclass(frozen=True)
class MultiheadExperiment(Experiment):
    """An `experiments` entry (kind, and the reference head count trained beside the sweep's for map statistics)."""
    reference_heads: int | None


@dataclass(frozen=True)
class Settings(StudySettings):
    """The whole `multihead:` section, typed."""
    data: DataBlocks
    model: Model
    figures: Figures
    checks: Checks


def study_settings(section: Mapping, top: Mapping) -> Settings:
    return section_settings(Settings, section, top, "multihead", MultiheadExperiment, OPTIMIZER_KEYS)
