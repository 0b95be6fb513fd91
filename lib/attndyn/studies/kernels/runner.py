"""The train job of the kernels study: dispatch a cell to its experiment's trainer."""
from __future__ import annotations

from .plan import LANDSCAPE_SUFFIX


def train_cell(cell, data: dict, ctx):
    """Return the cell's xarray Dataset (dims seed, step, ...)."""
    if cell.experiment == "s1":
        from .synthetic_runner import train_s1
        return train_s1(cell, data, ctx)
    if cell.experiment == "s2":
        from .synthetic_runner import train_s2
        return train_s2(cell, data, ctx)
    if cell.experiment == "s3":
        from .landscape import train_s3
        return train_s3(cell, data, ctx)
    if cell.experiment.endswith(LANDSCAPE_SUFFIX):
        from .lra_landscape import train_lra_landscape
        return train_lra_landscape(cell, data, ctx, cell.experiment.removesuffix(LANDSCAPE_SUFFIX))
    from .lra_train import train_lra
    return train_lra(cell, data, ctx, cell.experiment)
