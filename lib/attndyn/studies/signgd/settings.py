"""Typed settings of the signgd study (torch-free). Defaults and meanings: schema.yaml."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ...experiments import LogSettings, StudySettings, section_settings
from ...optim.spec import OptimizerSpec


@dataclass(frozen=True)
class SyntheticData:
    """Signal patch y mu + sparse noise patch xi (spec Sec. 2)."""
    n: int
    d: int
    s: int
    sigma_p: float
    mu_norm: float
    n_test: int
    mu_direction: str
    noise_support_excludes_signal: bool
    signal_first: bool
    label_flip_prob: float
    snr_definition: str


@dataclass(frozen=True)
class DigitsData:
    """Noisy-digits stand-in for noisy MNIST: 8x8 digits as the signal token, a sparse noise token."""
    source: str
    classes_pos: tuple[int, ...]
    classes_neg: tuple[int, ...]
    n_train: int
    sigma_p: float
    noise_dim: int
    noise_sparsity_s: int | None


@dataclass(frozen=True)
class DataBlocks:
    synthetic: SyntheticData
    digits: DigitsData


@dataclass(frozen=True)
class Dataset:
    """One data file: every seed of one data configuration."""
    kind: str                                   # synthetic | digits
    seeds: tuple[int, ...]
    params: SyntheticData | DigitsData


@dataclass(frozen=True)
class Model:
    m_k: int
    m_v: int
    sigma_0: float
    temperature: float


@dataclass(frozen=True)
class Figures:
    early_horizon: int
    late_horizon: int
    split_time: int
    neuron_index: int | str
    seed_index: int


@dataclass(frozen=True)
class Checks:
    C1_time: int
    C1_train_loss_max: float
    C1_loglinear_r2_min: float
    C2_signgd_test_loss_min: float
    C2_signgd_test_acc_max: float
    C2_from_t: int
    C3_gd_test_acc_min: float
    C3_gd_test_loss_max: float
    C4_qk_near_init_max: float
    C4_onset_fraction: float
    C4_qk_agreement_min: float
    C4_qk_agreement_by_t: int
    C4_majority_min: float
    C4_majority_by_t: int
    C4_s21_max: float
    C4_s21_by_t: int
    C4_s11_range: tuple[float, float]
    C4_s11_at_t: int
    C4_key_noise_align_min: float
    C4_key_noise_align_by_t: int
    C5_time: int
    C5_adam_test_loss_min: float
    C5_adam_query_align_max: float
    C5_signgd_query_align_min: float
    C6_loss_ratio_min: float
    C6_gd_test_acc_min: float
    C7_train_loss_max: float
    C7_acc_drop_margin: float


@dataclass(frozen=True)
class Cell:
    """Everything a train job needs (its JSON is the rerun trigger)."""
    data: Dataset
    model: Model
    optimizer: OptimizerSpec
    log: LogSettings
    features: bool                              # log the signal/noise feature probes (synthetic data)
    dtype: str


@dataclass(frozen=True)
class Settings(StudySettings):
    """The whole `signgd:` section, typed."""
    data: DataBlocks
    model: Model
    figures: Figures
    checks: Checks


def study_settings(section: Mapping, top: Mapping) -> Settings:
    return section_settings(Settings, section, top, "signgd")

