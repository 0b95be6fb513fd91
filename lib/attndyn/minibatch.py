"""The per-seed minibatch trainer, beside the batched full-batch one (train.train).

For problems whose runs cannot share one batch (each seed draws its own minibatch stream), seeds are looped.
One seed: torch.manual_seed(seed) (initialization and dropout), a batch-order generator seeded with `seed`,
the study's `setup(seed)` -> SeedRun (model, optimizer, minibatch loss, evaluation), then `steps` optimizer
steps on minibatches of `batch_size` rows, with a new permutation of the training set at every epoch start.
At every step of the grid the running mean of the minibatch losses since the previous grid step
(`train_loss`) and the study's evaluation metrics are logged (an evaluation may report its own
`train_loss`, which then replaces the running mean).

Checkpointing (train.Checkpointing): a seed saves its state (weights, optimizer, batch-order and global RNG
states, logs) at epoch ends and its result when done, so a killed job reruns no finished seed and resumes the
unfinished one bit-identically. `train_seeds` returns a train.TrainResult (metrics (G, R)); its `extra`
holds every seed's final weights `final_params` (R, P).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from .grid import step_grid
from .optim.spec import run_length
from .progress import Progress
from .train import Checkpointing, TrainResult


@dataclass
class SeedRun:
    """One seed's model and optimizer, as the study builds them (after torch.manual_seed(seed))."""
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    loss: Callable[[torch.Tensor], torch.Tensor]       # rows (B,) -> mean loss of that minibatch (scalar)
    evaluate: Callable[[], dict[str, float]]           # metrics at a grid step (the study switches eval mode)


@dataclass(frozen=True)
class Schedule:
    """Run length and logging grid of a minibatch run."""
    n_train: int
    batch_size: int
    steps: int
    grid: np.ndarray                                   # (G,) logged steps, the last one `steps`

    @property
    def per_epoch(self) -> int:
        return self.n_train // self.batch_size


def schedule(spec, n_train: int, log, steps: int | None = None) -> Schedule:
    """The schedule of an optimizer entry (optim.spec.OptimizerSpec) on `n_train` examples: `steps` if given,
    else the entry's run length (`steps`, or `epochs` of whole batches); batch_size null = full batch; the
    grid of the `log` block (experiments.LogSettings)."""
    batch = spec.batch_size or n_train
    steps = run_length(replace(spec, batch_size=batch), n_train) if steps is None else steps
    return Schedule(n_train, batch, steps, step_grid(log, steps))


@dataclass
class Log:
    """Metric lists on the grid (metric order fixed by `names`) and the minibatch losses since the last entry."""
    names: tuple[str, ...]
    logs: dict[str, list] = field(default_factory=dict)
    recent: list[float] = field(default_factory=list)

    def __post_init__(self):
        self.logs = self.logs or {name: [] for name in self.names}

    def record(self, values: dict[str, float]) -> None:
        row = {"train_loss": np.mean(self.recent) if self.recent else np.nan, **values}
        for name in self.names:
            self.logs[name].append(row[name])
        self.recent = []

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: np.asarray(self.logs[name]) for name in self.names}


def batch_indices(n: int, batch: int, steps: int, gen: torch.Generator, first: int = 0):
    """Minibatch row indices (batch,) for steps first..steps-1, reshuffled at the start of every epoch
    (`first` must start an epoch: a resumed run continues the same stream from the saved `gen` state)."""
    per_epoch = n // batch
    for step in range(first, steps):
        if step % per_epoch == 0:
            order = torch.randperm(n, generator=gen)
        yield order[(step % per_epoch) * batch:][:batch]


def optimizer_step(run: SeedRun, rows: torch.Tensor) -> float:
    """One optimizer step on the loss of the minibatch `rows`; returns that loss."""
    loss = run.loss(rows)
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    run.optimizer.step()
    return loss.item()


def flat_params(model: torch.nn.Module) -> np.ndarray:
    """All parameters flattened in the model's parameter order: (P,)."""
    return torch.nn.utils.parameters_to_vector(model.parameters()).detach().cpu().numpy()


def _seed_state(run: SeedRun, gen: torch.Generator, log: Log) -> dict:
    """What a resumed seed needs: weights, optimizer state, batch-order and dropout RNG states, logs so far."""
    cuda = next(run.model.parameters()).device.type == "cuda"
    return {"model": run.model.state_dict(), "optimizer": run.optimizer.state_dict(), "gen": gen.get_state(),
            "torch_rng": torch.get_rng_state(), "cuda_rng": torch.cuda.get_rng_state() if cuda else None,
            "logs": log.logs, "recent": log.recent}


def _restore_seed(state: dict, run: SeedRun, gen: torch.Generator, log: Log) -> int:
    run.model.load_state_dict(state["model"])
    run.optimizer.load_state_dict(state["optimizer"])
    gen.set_state(state["gen"])
    torch.set_rng_state(state["torch_rng"])
    if state["cuda_rng"] is not None:
        torch.cuda.set_rng_state(state["cuda_rng"])
    log.logs, log.recent = state["logs"], state["recent"]
    return state["step"]


def run_steps(run: SeedRun, schedule: Schedule, gen: torch.Generator, log: Log, start: int = 0,
              ckpt: Checkpointing | None = None, what: str = "run") -> None:
    """Steps start..schedule.steps: log on the grid, step on the next minibatch, save at epoch ends
    (every `ckpt.every` steps rounded up to whole epochs); progress lines carry the last minibatch loss."""
    ckpt = ckpt or Checkpointing()
    progress = Progress(schedule.steps, start, what=what)
    batches = batch_indices(schedule.n_train, schedule.batch_size, schedule.steps, gen, first=start)
    save_every = -(-ckpt.every // schedule.per_epoch) * schedule.per_epoch              # whole epochs
    log_at = set(np.asarray(schedule.grid).tolist())
    for step in range(start, schedule.steps + 1):
        ckpt.save_if_due(step, start, lambda: _seed_state(run, gen, log), every=save_every)
        if step in log_at:
            log.record(run.evaluate())
        if step < schedule.steps:
            log.recent.append(optimizer_step(run, next(batches)))
            if progress.due(step + 1):
                progress.report(step + 1, [log.recent[-1]])


def train_seed(seed: int, setup: Callable[[int], SeedRun], schedule: Schedule, metrics: tuple[str, ...],
               ckpt: Checkpointing | None = None) -> dict[str, np.ndarray]:
    """One seed: metric arrays (G,) on the grid and `final_params` (P,). A finished seed's saved result is
    returned as is; an unfinished one resumes from its last save (the caller deletes the checkpoint)."""
    ckpt = ckpt or Checkpointing()
    state = ckpt.load()
    if state is not None and "result" in state:
        return state["result"]
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    run, log, start = setup(seed), Log(tuple(metrics)), 0
    if state is not None:
        start = _restore_seed(state, run, gen, log)
    run_steps(run, schedule, gen, log, start, ckpt, what=f"seed {seed}")
    result = {**log.arrays(), "final_params": flat_params(run.model)}
    if ckpt.every:                                                                 # done: keep the result
        ckpt.save(schedule.steps, {"result": result})
    return result


def train_seeds(seeds, setup: Callable[[int], SeedRun], schedule: Schedule, metrics: tuple[str, ...],
                checkpoint: Callable[[int], Checkpointing]) -> TrainResult:
    """Every seed in turn (`checkpoint(seed)` is its Checkpointing); metrics stacked to (G, R)."""
    t0 = time.perf_counter()
    ckpts = [checkpoint(seed) for seed in seeds]
    runs = [train_seed(seed, setup, schedule, metrics, ckpt) for seed, ckpt in zip(seeds, ckpts)]
    for ckpt in ckpts:
        ckpt.finish()
    R = len(runs)
    return TrainResult(schedule.grid, {k: np.stack([r[k] for r in runs], axis=1) for k in metrics},
                       np.zeros(R, bool), np.full(R, -1), time.perf_counter() - t0,
                       extra={"final_params": np.stack([r["final_params"] for r in runs])})
