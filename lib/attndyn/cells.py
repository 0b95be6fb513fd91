"""Train one sweep cell's batched problem in a job's context and package it as the cell's Dataset."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .studies.base import CellSpec, RunContext
from .train import Problem, train
from .variables import Var

if TYPE_CHECKING:
    import xarray


def run_cell(problem: Problem, variables: dict[str, Var], seeds: list[int], cell: CellSpec,
             ctx: RunContext, **attrs: str) -> "xarray.Dataset":
    """Train with the job's checkpointing (resumes a killed job); dims (seed, step, ...) + the cell's coords.

    xarray is imported only once training is done (it is ~0.4 s of a job's start-up)."""
    result = train(problem, ctx.checkpointing())
    from .results import cell_dataset

    return cell_dataset(result, variables, seeds, cell.coords, {**ctx.provenance, **attrs})
