"""How a logged metric is stored (no xarray needed: probes import this before training starts)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Var:
    """A logged metric: extra dims after (seed, step), CF long_name and units."""
    long_name: str
    units: str = "1"
    dims: tuple[str, ...] = ()
