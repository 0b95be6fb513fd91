"""Atomic writes and resumable checkpoints (at a path no Snakemake rule declares)."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call write(tmp) on a temp file beside `path`, then rename: a killed job never leaves a complete-looking file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save_checkpoint(path: str | Path, state: dict) -> None:
    import torch

    atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_checkpoint(path: str | Path, fingerprint: str) -> dict | None:
    """The saved state if it exists and belongs to the same run (same fingerprint), else None."""
    import torch

    path = Path(path)
    if not path.exists():
        return None
    try:
        state = torch.load(path, weights_only=False)
    except Exception:  # a corrupt checkpoint is discarded, the run restarts from step 0
        return None
    return state if state.get("fingerprint") == fingerprint else None


def checkpoint_path(results_dir: str | Path, study: str, experiment: str, cell: str) -> Path:
    """Checkpoints live under results/.checkpoints/, which no rule declares as output."""
    return Path(results_dir) / ".checkpoints" / study / experiment / f"{cell}.pt"
