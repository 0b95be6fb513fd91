"""File helpers shared by the stage jobs: seeded data files (npz) and experiment datasets by name."""
from __future__ import annotations

import os
import sys
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


def record_imports(stage: str, study: str) -> None:
    """Testing hook: with ATTNDYN_IMPORT_LOG set to a folder, list the package modules this job imported, and
    torch._dynamo if it was (the end-to-end tests check each stage's code digest covers them, and that train jobs
    never import torch._dynamo)."""
    folder = os.environ.get("ATTNDYN_IMPORT_LOG")
    if folder:
        names = sorted(m for m in sys.modules if m == "attndyn" or m.startswith("attndyn.") or m == "torch._dynamo")
        Path(folder).mkdir(parents=True, exist_ok=True)
        Path(folder, f"{stage}.{study}.{os.getpid()}.txt").write_text("\n".join(names))
