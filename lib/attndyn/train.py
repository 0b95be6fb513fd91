"""Generic batched training loop: one forward/backward trains every run of a sweep cell.

A study builds a `Problem` whose parameters carry a leading run dimension R (one run per seed).
The loop logs probes on a step grid, flags diverged runs (non-finite loss) and keeps them frozen
as NaN without disturbing the others, and checkpoints so that a killed job resumes bit-identically.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .checkpoint import load_checkpoint, save_checkpoint
from .progress import Progress

LossFn = Callable[[int, "torch.Generator | None"], torch.Tensor]   # (step, gen) -> per-run losses (R,)
ProbeFn = Callable[[], dict]                                        # -> {name: tensor (R, ...)}


@dataclass
class Problem:
    """Everything the loop needs for one cell; all tensors have a leading run dimension R."""
    params: dict[str, torch.Tensor]
    loss: LossFn
    probe: ProbeFn
    optimizer: torch.optim.Optimizer
    steps: int
    grid: np.ndarray
    generator: torch.Generator | None = None
    after_step: Callable[[], None] | None = None     # e.g. a projection/renormalization hook


@dataclass
class TrainResult:
    grid: np.ndarray                       # (G,) logged steps
    metrics: dict[str, np.ndarray]         # name -> (G, R, ...)
    diverged: np.ndarray                   # (R,) bool
    diverged_step: np.ndarray              # (R,) first step with a non-finite loss, -1 if none
    wall_time: float
    resumed_from: int = 0
    extra: dict = field(default_factory=dict)


@dataclass
class Checkpointing:
    path: Path | None = None
    every: int = 0
    fingerprint: str = ""
    stop_after: int | None = None          # testing hook: raise after saving at this step

    def load(self) -> dict | None:
        """The saved state of this run (same fingerprint), or None."""
        return load_checkpoint(self.path, self.fingerprint) if self.path else None

    def save_if_due(self, step: int, start: int, state: Callable[[], dict], every: int | None = None) -> None:
        """Save state() at every `every`-th step (default self.every) after `start`; the test hook stops there."""
        every = self.every if every is None else every
        if self.path and every and step > start and step % every == 0:
            self.save(step, state())
            if self.stop_after is not None and step >= self.stop_after:
                raise KeyboardInterrupt(f"stopped after checkpoint at step {step} (test hook)")

    def save(self, step: int, state: dict) -> None:
        """Save `state` as this run's checkpoint at `step` (with the run's fingerprint); no-op without a path."""
        if self.path:
            save_checkpoint(self.path, {**state, "fingerprint": self.fingerprint, "step": step})

    def finish(self) -> None:
        """The run completed: its checkpoint is no longer needed."""
        if self.path and Path(self.path).exists():
            Path(self.path).unlink()


class _Log:
    """Preallocated metric arrays (G, R, ...) filled at grid steps."""

    def __init__(self, grid: np.ndarray):
        self.grid = grid
        self.index = {int(s): i for i, s in enumerate(grid)}
        self.arrays: dict[str, np.ndarray] = {}

    def record(self, step: int, values: dict, diverged: torch.Tensor) -> None:
        i = self.index[step]
        mask = diverged.cpu().numpy()
        for name, value in values.items():
            value = value.detach().cpu().numpy().astype(np.float64)
            if name not in self.arrays:
                self.arrays[name] = np.full((len(self.grid),) + value.shape, np.nan)
            value[mask] = np.nan
            self.arrays[name][i] = value


def _runs(problem: Problem) -> int:
    return next(iter(problem.params.values())).shape[0]


def _mask_diverged_grads(params: dict[str, torch.Tensor], diverged: torch.Tensor) -> None:
    for p in params.values():
        if p.grad is not None:
            p.grad[diverged] = 0.0


def _state(problem, log, diverged, diverged_step, elapsed) -> dict:
    return {
        "elapsed": elapsed,
        "params": {k: v.detach().clone() for k, v in problem.params.items()},
        "optimizer": problem.optimizer.state_dict(),
        "generator": problem.generator.get_state() if problem.generator is not None else None,
        "log": log.arrays, "diverged": diverged.clone(), "diverged_step": diverged_step.clone(),
    }


def _restore(problem, state, log) -> tuple[int, torch.Tensor, torch.Tensor, float]:
    with torch.no_grad():
        for k, v in problem.params.items():
            v.copy_(state["params"][k])
    problem.optimizer.load_state_dict(state["optimizer"])
    if problem.generator is not None and state["generator"] is not None:
        problem.generator.set_state(state["generator"])
    log.arrays = state["log"]
    return state["step"], state["diverged"], state["diverged_step"], state["elapsed"]


def _flag_diverged(losses: torch.Tensor, step: int, diverged: torch.Tensor, diverged_step: torch.Tensor) -> None:
    """Mark runs whose loss is not finite (first step recorded); a no-op, one check, while every loss is finite."""
    finite = torch.isfinite(losses.detach())
    if bool(finite.all()):
        return
    bad = ~finite & ~diverged
    diverged_step[bad] = step
    diverged |= bad


def _probe(problem: Problem, log: _Log, step: int, diverged, diverged_step) -> None:
    with torch.no_grad():
        values = problem.probe()
    _flag_diverged(values["train_loss"], step, diverged, diverged_step)
    log.record(step, values, diverged)


def train(problem: Problem, ckpt: Checkpointing | None = None) -> TrainResult:
    """Run `problem.steps` optimizer steps, logging probes at every step of `problem.grid`."""
    ckpt = ckpt or Checkpointing()
    runs = _runs(problem)
    device = next(iter(problem.params.values())).device
    log = _Log(np.asarray(problem.grid, dtype=np.int64))
    diverged = torch.zeros(runs, dtype=torch.bool, device=device)
    diverged_step = torch.full((runs,), -1, dtype=torch.int64, device=device)
    start, elapsed = 0, 0.0
    state = ckpt.load()
    if state is not None:
        start, diverged, diverged_step, elapsed = _restore(problem, state, log)
    resumed_from, t0 = start, time.perf_counter()
    progress = Progress(problem.steps, start)
    for step in range(start, problem.steps + 1):
        ckpt.save_if_due(step, start, lambda: _state(problem, log, diverged, diverged_step,
                                                     elapsed + time.perf_counter() - t0))
        if step in log.index:
            _probe(problem, log, step, diverged, diverged_step)
        if step == problem.steps:
            break
        losses = _one_step(problem, step, diverged, diverged_step)
        if progress.due(step + 1):
            progress.report(step + 1, losses)
    ckpt.finish()
    return TrainResult(grid=log.grid, metrics=log.arrays, diverged=diverged.cpu().numpy(),
                       diverged_step=diverged_step.cpu().numpy(),
                       wall_time=elapsed + time.perf_counter() - t0, resumed_from=resumed_from)


def _one_step(problem: Problem, step: int, diverged: torch.Tensor, diverged_step: torch.Tensor) -> torch.Tensor:
    problem.optimizer.zero_grad(set_to_none=True)
    losses = problem.loss(step, problem.generator)                       # (R,)
    _flag_diverged(losses, step, diverged, diverged_step)
    losses.sum().backward()
    if bool(diverged.any()):                                             # only once a run has diverged
        _mask_diverged_grads(problem.params, diverged)
    problem.optimizer.step()
    if problem.after_step is not None:
        problem.after_step()
    return losses
