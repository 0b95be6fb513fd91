"""The train job of the kernels study: the cell's experiment kind trains it (registry.KINDS); a batched cell (an
experiment's `batch` keys) is trained by its members' kind in one job."""
from __future__ import annotations

from ...batching import Batch
from .registry import KINDS


def train_cell(cell, data: dict, ctx):
    """The cell's xarray Dataset (dims seed, step, ...; kernels inside a cell stacked on `kernel`; a batched
    cell's members on its batched axes); `data`: the data file's arrays, or name -> arrays for a batched cell."""
    first = cell.settings.members[0] if isinstance(cell.settings, Batch) else cell.settings
    return KINDS[first.kind].train(cell, data, ctx)
