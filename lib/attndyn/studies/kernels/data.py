"""Data files of the kernels study (the `data` job): the experiment kind's builder from the registry.

Numpy only: data jobs do not import torch (its import is ~3 s of every job that does)."""
from __future__ import annotations

import numpy as np

from ...settings import parse
from .registry import KINDS
from .settings import Dataset


def make_dataset(settings: Dataset | str) -> dict[str, np.ndarray]:
    """The arrays of one data file (synthetic: every seed stacked on a leading run dimension)."""
    if isinstance(settings, str):
        settings = parse(Dataset, settings)
    return KINDS[settings.kind].build_data(settings)
