"""How a logged metric and an extra dimension are stored (no xarray needed: probes import this before training)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Var:
    """A logged metric: extra dims after (seed, step), CF long_name and units (UDUNITS, or "1")."""
    long_name: str
    units: str = "1"
    dims: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dim:
    """A dimension a study's variables use beyond the sweep axes, seed and step: its coordinate variable's
    long_name, units and values (None: the index 0..n-1)."""
    long_name: str
    units: str = "1"
    values: tuple | None = None
