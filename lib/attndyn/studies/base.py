"""Types shared by every study: dataset/cell/figure specs, the study plan, the run context, path labels."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..settings import as_plain, canonical_json

if TYPE_CHECKING:
    import torch


def label(value: Any) -> str:
    """Canonical path label of a config value: ints and strings as written, floats by shortest repr.

    Values come straight from the YAML config (never computed), so the label is stable.
    """
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def point_id(point: dict) -> str:
    """'<axis>-<value>__...' of a sweep point ('single' for none): file names of cells and data."""
    return "__".join(f"{axis}-{label(value)}" for axis, value in point.items()) or "single"


@dataclass(frozen=True)
class DatasetSpec:
    """One data file: all seeds of one data configuration (typed settings of the study's data module)."""
    name: str
    settings: Any


@dataclass(frozen=True)
class CellSpec:
    """One train job: one point of an experiment's sweep, all seeds batched."""
    experiment: str
    coords: dict                 # ordered: axis -> value (native type from the config)
    dataset: str                 # DatasetSpec.name
    settings: Any                # the study's typed cell settings; their JSON is a rerun trigger
    needs: tuple[tuple[str, str], ...] = ()   # (experiment, cell id) of this study whose cell files it reads

    @property
    def id(self) -> str:
        return point_id(self.coords)

    def to_json(self) -> str:
        """What the train job receives (a rule param): experiment, coords, dataset, settings, needs."""
        return json.dumps({"experiment": self.experiment, "coords": list(self.coords.items()), "dataset": self.dataset,
                           "needs": [list(n) for n in self.needs], "settings": as_plain(self.settings)},
                          sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str, settings_type) -> "CellSpec":
        """Read back `to_json`; the settings of a batched cell are a batching.Batch of `settings_type` members."""
        from ..batching import parse_settings

        raw = json.loads(text)
        return cls(raw["experiment"], dict(raw["coords"]), raw["dataset"],
                   parse_settings(settings_type, raw["settings"]), tuple(tuple(n) for n in raw["needs"]))


@dataclass(frozen=True)
class FigureSpec:
    name: str
    experiments: tuple[str, ...]


@dataclass
class StudyPlan:
    settings: Any                                      # the study's typed settings (figures and claims read them)
    datasets: dict[str, DatasetSpec]
    experiments: dict[str, list[CellSpec]]
    axes: dict[str, tuple[str, ...]]                   # experiment -> sweep axes, in order
    figures: dict[str, FigureSpec] = field(default_factory=dict)

    def settings_json(self) -> str:
        return canonical_json(self.settings)


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

    def checkpointing(self, part: str = ""):
        """The job's checkpointing; `part` names one of several trainings in one job (its own file and fingerprint)."""
        from ..train import Checkpointing

        path = self.checkpoint_path.with_name(self.checkpoint_path.name + part) if self.checkpoint_path and part \
            else self.checkpoint_path
        return Checkpointing(path, self.checkpoint_every, self.fingerprint + part, self.stop_after)
