"""The train job of the kernels study: the cell's experiment kind trains it (registry.KINDS)."""
from __future__ import annotations

from .registry import KINDS


def train_cell(cell, data: dict, ctx):
    """The cell's xarray Dataset (dims seed, step, ...; kernels inside a cell stacked on `kernel`)."""
    return KINDS[cell.settings.kind].train(cell, data, ctx)
