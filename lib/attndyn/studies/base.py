"""Types shared by every study: dataset/cell/figure specs, the run context, canonical labels."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def label(value: Any) -> str:
    """Canonical path label of a config value: ints and strings as written, floats by shortest repr.

    Values come straight from the YAML config (never computed), so the label is stable.
    """
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return repr(value)
    return str(value)


@dataclass(frozen=True)
class DatasetSpec:
    """One data file: all seeds of one data configuration."""
    name: str
    settings: dict


@dataclass(frozen=True)
class CellSpec:
    """One train job: one point of an experiment's sweep, all seeds batched."""
    experiment: str
    coords: dict                 # ordered: axis -> value (native type from the config)
    dataset: str                 # DatasetSpec.name
    settings: dict               # everything training needs; its JSON is a rerun trigger
    needs: tuple[tuple[str, str], ...] = ()   # (experiment, cell id) of this study whose cell files it reads

    @property
    def id(self) -> str:
        return "__".join(f"{axis}-{label(value)}" for axis, value in self.coords.items()) or "single"


@dataclass(frozen=True)
class FigureSpec:
    name: str
    experiments: tuple[str, ...]
    caption: str


@dataclass
class StudyPlan:
    datasets: dict[str, DatasetSpec]
    experiments: dict[str, list[CellSpec]]
    axes: dict[str, tuple[str, ...]]          # experiment -> sweep axes, in order
    figures: dict[str, FigureSpec] = field(default_factory=dict)


@dataclass
class RunContext:
    """Where and how a train job runs."""
    device: "torch.device"
    dtype: "torch.dtype"
    checkpoint_path: Path | None = None
    checkpoint_every: int = 0
    fingerprint: str = ""
    provenance: dict = field(default_factory=dict)
    stop_after: int | None = None     # testing hook (see train.Checkpointing)
    needed: dict = field(default_factory=dict)   # (experiment, cell id) -> cell file of CellSpec.needs
