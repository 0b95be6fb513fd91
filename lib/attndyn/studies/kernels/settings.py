"""Typed settings of the kernels study (torch-free). Defaults and meanings: schema.yaml.

The section (`Settings`) holds the blocks as configured; `experiment_data`, `experiment_model` and
`experiment_optimizer_spec` resolve what one experiment runs with (its own `data`, `model`, `steps` and
`overrides` applied). A cell's settings are one of the `Cell` classes, one per experiment kind.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ...config import deep_merge
from ...experiments import Experiment, LogSettings, StudySettings, check_block, experiment_optimizer, section_settings
from ...optim.spec import OptimizerSpec
from ...settings import as_plain, build

STUDY = "kernels"


# ---- data blocks -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class S1Data:
    """S1 width threshold: tokens N(0, 1/D), random targets, per-D initial weights (spec Sec. 7)."""
    N: int
    n: int
    D_grid: tuple[int, ...]
    d: int
    d_v: int | None
    heads: int
    targets: str
    init_std: float
    tie_qk_init: bool


@dataclass(frozen=True)
class S2Data:
    """S2 W_Q-only comparison: fixed W_K, W_V, W_O, teacher W_Q*, unit-std student direction Z."""
    N: int
    n: int
    D: int
    d: int
    d_v: int | None
    heads: int
    qk_std: float
    value_std: float
    sigma_Q_grid: tuple[float, ...]
    teacher_scale: float
    teacher_scale_rule: str


@dataclass(frozen=True)
class S3Data:
    """S3 two-stage landscape: tokens, random targets, initial weights."""
    N: int
    n: int
    D: int
    d: int
    d_v: int | None
    init_std: float


@dataclass(frozen=True)
class PathfinderData:
    """Generated Pathfinder-style images (spec Sec. 4.1)."""
    size: int
    path_length: int
    distractors: int
    curvature: float
    dash_on: int
    min_separation: int
    max_tries: int
    n_train: int
    n_test: int
    data_seed: int


@dataclass(frozen=True)
class TextData:
    """Byte-level IMDb read from a local aclImdb folder (spec Sec. 6)."""
    path: str | None
    max_len: int
    subsample: int | None


@dataclass(frozen=True)
class DataBlocks:
    s1: S1Data
    s2: S2Data
    s3: S3Data
    pathfinder: PathfinderData
    text: TextData


DataParams = S1Data | S2Data | S3Data | PathfinderData | TextData
DATA_CLASSES = {"s1": S1Data, "s2": S2Data, "s3": S3Data, "pathfinder": PathfinderData, "text": TextData}


@dataclass(frozen=True)
class Dataset:
    """One data file: a data block as an experiment uses it, for these seeds (() for the LRA tasks, whose data
    does not depend on the run seed)."""
    kind: str                                   # the data block: s1 | s2 | s3 | pathfinder | text
    seeds: tuple[int, ...]
    params: DataParams


# ---- model -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KernelOptions:
    """How the Gaussian kernel is computed (the Softmax kernel has no options)."""
    gaussian_rownorm: bool
    gaussian_temperature: float | str | None      # a number, null / 'two_sqrt_d' (2 sqrt d), 'scale_matched'

    def variant_note(self) -> str:
        """Names a non-default Gaussian kernel (model.gaussian_rownorm / gaussian_temperature) in captions and
        claims, so a result made with the ablation cannot be read as the spec's unnormalized kernel."""
        parts = ["rows normalized (model.gaussian_rownorm)"] if self.gaussian_rownorm else []
        if isinstance(self.gaussian_temperature, str) and self.gaussian_temperature != "two_sqrt_d":
            parts.append(f"temperature {self.gaussian_temperature} (model.gaussian_temperature) [PROPOSED]")
        elif self.gaussian_temperature is not None and not isinstance(self.gaussian_temperature, str):
            parts.append(f"temperature {self.gaussian_temperature:g} (model.gaussian_temperature)")
        return f" [Gaussian kernel of this run: {', '.join(parts)}]" if parts else ""


@dataclass(frozen=True)
class LRAModel:
    """The two-layer LRA Transformer (spec Sec. 6)."""
    num_layers: int
    dim: int
    ffn_dim: int
    heads: int
    head_dim: int
    vocab_size: int
    dropout: float
    attn_dropout: float
    init_std: float


@dataclass(frozen=True)
class Model:
    gaussian_rownorm: bool
    gaussian_temperature: float | str | None
    lra: LRAModel

    def kernel_options(self) -> KernelOptions:
        return KernelOptions(self.gaussian_rownorm, self.gaussian_temperature)


# ---- experiments, figures, checks --------------------------------------------------------------------------------
@dataclass(frozen=True)
class KernelsExperiment(Experiment):
    """An `experiments` entry with the landscape keys (used by kinds s3 and lra_landscape)."""
    task: str | None
    stage1_steps: int | None
    stage2_steps: int | None
    stage2_params: str
    params: str
    grid: int
    range: tuple[float, float]
    n_examples: int | None
    direction_seed: int
    direction_pairs: int
    hessian_iters: int


@dataclass(frozen=True)
class Landscape:
    """Two-stage landscape settings of a cell (None steps: the optimizer's run length)."""
    stage1_steps: int | None
    stage2_steps: int | None
    stage2_params: str
    params: str
    grid: int
    range: tuple[float, float]
    n_examples: int | None
    direction_seed: int
    direction_pairs: int
    hessian_iters: int


@dataclass(frozen=True)
class Figures:
    contour_seed: int
    loss_floor: float


@dataclass(frozen=True)
class Checks:
    C1_rel_loss_max: float
    C3_rel_loss_min: float
    C3_floor_tol: float
    C4_margin_min: float
    C4_grad_ratio_max: float
    C4_success_rel_loss: float
    C4_vanishing_target_ratio: float
    C5_min_acc: float
    C5_margin_se: float
    C6_margin_se: float


# ---- cells: one class per experiment kind (their field names tell them apart) -----------------------------------
@dataclass(frozen=True)
class CellBase:
    """What every kernels cell has; each kind adds its own fields."""
    kind: str
    seeds: tuple[int, ...]
    data: Dataset
    attention: KernelOptions
    optimizer: OptimizerSpec
    log: LogSettings
    dtype: str


@dataclass(frozen=True)
class S1Cell(CellBase):
    """S1: every kernel and every D of the grid in one job; `train` names the trained weights."""
    kernels: tuple[str, ...]
    train: str


@dataclass(frozen=True)
class S2Cell(CellBase):
    """S2: one kernel, every sigma_Q x seed in one batch."""
    kernel: str


@dataclass(frozen=True)
class S3Cell(CellBase):
    """S3: stage 1 once, then stage 2 and the slice per kernel."""
    kernels: tuple[str, ...]
    landscape: Landscape


@dataclass(frozen=True)
class TaskCell(CellBase):
    """An LRA task (pathfinder, text): one kernel, seeds looped."""
    kernel: str
    network: LRAModel


@dataclass(frozen=True)
class TaskLandscapeCell(CellBase):
    """An LRA landscape: stage 1 = the task's Softmax cell (CellSpec.needs); stage 2 and the slice per kernel."""
    kernels: tuple[str, ...]
    network: LRAModel
    landscape: Landscape


Cell = S1Cell | S2Cell | S3Cell | TaskCell | TaskLandscapeCell


@dataclass(frozen=True)
class Settings(StudySettings):
    """The whole `kernels:` section, typed."""
    kernels: tuple[str, ...]
    model: Model
    data: DataBlocks
    figures: Figures
    checks: Checks


def study_settings(section: Mapping, top: Mapping) -> Settings:
    return section_settings(Settings, section, top, "kernels", KernelsExperiment)


# ---- what one experiment runs with ---------------------------------------------------------------------------------
def experiment_data(settings: Settings, experiment: KernelsExperiment, block: str,
                    point: Mapping | None = None) -> DataParams:
    """Data block `block` with the experiment's `data` and a sweep point's data keys, checked by the schema."""
    values = {**as_plain(getattr(settings.data, block)), **experiment.data, **(point or {})}
    where = f"kernels.experiments.{experiment.name}" + (f" (point {dict(point)})" if point else "") + " data"
    check_block(STUDY, f"data.{block}", values, where)
    return build(DATA_CLASSES[block], values, f"kernels.data.{block}")


def experiment_model(settings: Settings, experiment: KernelsExperiment) -> Model:
    """The study's model with the experiment's `model` keys merged in (key by key, lra included)."""
    values = deep_merge(as_plain(settings.model), experiment.model)
    check_block(STUDY, "model", values, f"kernels.experiments.{experiment.name} model")
    return build(Model, values, f"kernels.experiments.{experiment.name}.model")


def experiment_optimizer_spec(settings: Settings, experiment: KernelsExperiment, name: str,
                              point: Mapping | None = None) -> OptimizerSpec:
    """Optimizer `name` as this experiment runs it (entry, experiment steps, overrides, sweep point)."""
    return experiment_optimizer(settings.optimizers, experiment, name, "kernels.", point=point)[0]
