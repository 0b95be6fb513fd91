"""Baselines the claims and figures compare against (torch-free): the best rate of an lr sweep, the trivial predictor.

A baseline that ends worse than predicting 0 makes any "much better than" claim easy, so C1/C2 compare Algorithm 1
against SGD at its best rate of the experiment sgd_tuning and against the trivial predictor A = B = 0, and C8
compares the whitening and the identity preconditioner each at its best rate of the experiment conditioning.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from .data import trivial_error
from .settings import CONDITIONING, LR, Settings, dataset_for


@dataclass(frozen=True)
class Tuned:
    """The lr sweep of one optimizer, read at one step."""
    lr: float                           # best rate (nan if no rate is stable in every seed)
    largest_stable: float               # the spec's rule (Sec. 5): the largest rate stable in every seed
    step: int
    scores: dict[float, float]          # rate -> seed-mean log10 training loss at `step` (nan: diverged)

    @property
    def found(self) -> bool:
        return bool(np.isfinite(self.lr))

    @property
    def at_edge(self) -> bool:
        """The grid may not bracket the optimum: the best rate is the grid's largest (no larger rate tried), or its
        smallest while a larger rate is stable too."""
        return self.found and (self.lr == max(self.scores)
                               or (self.lr == min(self.scores) and self.largest_stable > self.lr))

    def describe(self) -> str:
        grid = ", ".join(f"{lr:g}: {'diverged' if not np.isfinite(v) else f'{v:.3g}'}"
                         for lr, v in sorted(self.scores.items()))
        edge = " (an edge of the grid)" if self.at_edge else ""
        return (f"best lr {self.lr:g}{edge}, largest stable {self.largest_stable:g}; seed-mean log10 train loss at "
                f"t={self.step} per lr: {grid}")


def tune(runs: xr.Dataset, step: int, axis: str = LR) -> Tuned:
    """Best rate of `runs` (dims `axis` (the lr), seed, step; one optimizer): the lowest seed-mean log10 training
    loss at `step` among the rates with no diverged seed over the whole run. The choice reads the training loss
    only."""
    scores = {}
    for lr in runs[axis].values:
        run = runs.sel({axis: lr})
        loss = run.train_loss.sel(step=step)
        stable = not bool(run.diverged.any()) and bool(np.isfinite(loss).all())
        scores[float(lr)] = float(np.log10(loss).mean()) if stable else float("nan")
    stable = [lr for lr, v in scores.items() if np.isfinite(v)]
    best = min(stable, key=scores.get) if stable else float("nan")
    return Tuned(best, max(stable) if stable else float("nan"), int(step), scores)


def tuned_runs(runs: xr.Dataset, tuned: Tuned, axis: str = LR) -> xr.Dataset:
    """The runs at the best rate (no lr dim)."""
    return runs.sel({axis: tuned.lr}, drop=True)


def trivial_errors(settings: Settings, experiment: str) -> np.ndarray:
    """Per run (seed order) E_inf of A = B = 0 on the data of `experiment`: 1/2 ||M Sigma^{1/2}||_F^2."""
    dataset = dataset_for(settings, settings.experiments[experiment], {})
    return np.array([trivial_error(dataset.params, inst) for inst, _ in dataset.runs()])


def preconditioner_runs(settings: Settings) -> dict[str, str]:
    """'whiten' / 'identity' -> the Algorithm 1 optimizer of experiment conditioning with that preconditioner."""
    out = {}
    for name in settings.experiments[CONDITIONING].optimizers:
        if settings.rule(name) == "algorithm1":
            out.setdefault(settings.optimizer(CONDITIONING, name)[0].settings.get("preconditioner"), name)
    return out
