"""Train one sweep cell's batched problem in a job's context and package it as the cell's Dataset."""
from __future__ import annotations

import xarray as xr

from .results import Var, cell_dataset
from .studies.base import CellSpec, RunContext
from .train import Checkpointing, Problem, train


def run_cell(problem: Problem, variables: dict[str, Var], seeds: list[int], cell: CellSpec,
             ctx: RunContext, **attrs: str) -> xr.Dataset:
    """Train with the job's checkpointing (resumes a killed job); dims (seed, step, ...) + the cell's coords."""
    result = train(problem, Checkpointing(ctx.checkpoint_path, ctx.checkpoint_every, ctx.fingerprint,
                                          ctx.stop_after))
    return cell_dataset(result, variables, seeds, cell.coords, {**ctx.provenance, **attrs})
