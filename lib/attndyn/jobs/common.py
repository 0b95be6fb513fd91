"""File helpers shared by the stage jobs: seeded data files (npz) and experiment datasets by name."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..checkpoint import atomic_write
from ..errors import DataError


def write_npz(data: dict, path: str | Path) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, **data)
    atomic_write(path, write)


def read_npz(path: str | Path) -> dict:
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except Exception as exc:
        raise DataError(f"cannot read data file {path}: {type(exc).__name__}: {exc}") from None


def read_experiments(paths: list[str]) -> dict:
    """Experiment datasets keyed by experiment name (the file stem)."""
    from ..results import read_netcdf

    return {Path(p).stem: read_netcdf(p) for p in paths}
