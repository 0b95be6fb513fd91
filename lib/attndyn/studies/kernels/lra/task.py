"""Train jobs of the LRA-style tasks (spec Sec. 4, 6): one model per seed, minibatches, test curves.

The per-seed minibatch trainer (attndyn.minibatch) runs the seeds of a cell (each seed its own minibatch
stream); metrics are evaluated every `log.every` steps and stored like the batched trainer's output, with every
seed's final weights (`final_params`, read by the landscape as its stage 1). The model runs in the cell's
dtype (the experiment's `dtype: float32`, as the paper's LRA harness does).
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ....minibatch import Schedule, SeedRun, schedule, train_seed, train_seeds
from ....optim.build import build
from ....results import cell_dataset
from ....train import Checkpointing
from ..runs import finish, members, unique_members
from ..settings import TaskCell
from .model import build_model
from .probes import LRA_VARS, PADDING, held_out_metrics, minibatch_loss, split


def task_schedule(settings: TaskCell, n_train: int) -> Schedule:
    """Run length (`steps`, or `epochs` of whole batches) and the evaluation grid of a task cell."""
    return schedule(settings.optimizer, n_train, settings.log)


def task_setup(settings: TaskCell, kernel: str, data: dict, device, dtype):
    """seed -> SeedRun: the seed's model (after torch.manual_seed), its optimizer, training loss and test metrics."""
    pad = PADDING[settings.data.kind]

    def setup(seed: int) -> SeedRun:
        train_set, test_set = split(data, "train", pad, device), split(data, "test", pad, device)
        model = build_model(kernel, settings.network, settings.attention, train_set[0].shape[1], device, dtype)
        return SeedRun(model, build(settings.optimizer, model.parameters()),
                       lambda idx: minibatch_loss(model, train_set, idx), lambda: held_out_metrics(model, test_set))
    return setup


def train_one_seed(seed: int, settings: TaskCell, kernel: str, data: dict, device, dtype,
                   ckpt: Checkpointing | None = None) -> dict[str, np.ndarray]:
    """One seed of a task cell: metric arrays (G,) and `final_params` (P,) (see minibatch.train_seed)."""
    return train_seed(seed, task_setup(settings, kernel, data, device, dtype),
                      task_schedule(settings, len(data["y_train"])), tuple(LRA_VARS), ckpt)


def _train_member(member, coords: dict, ctx, tag: str) -> tuple[xr.Dataset, float]:
    """Every seed of one member (a plain cell's only one); curves (seed, step) and final weights (seed, param)."""
    s = member.settings
    result = train_seeds(s.seeds, task_setup(s, s.kernel, member.data, ctx.device, ctx.dtype),
                         task_schedule(s, len(member.data["y_train"])), tuple(LRA_VARS),
                         lambda seed: ctx.checkpointing(f"{tag}.seed{seed}"))
    ds = cell_dataset(result, LRA_VARS, s.seeds, coords, ctx.provenance)
    ds["step"].attrs.update(long_name="optimizer step (minibatch)", units="1")
    ds["final_params"] = (("seed", "param"), result.extra["final_params"],
                          {"long_name": "final weights, all parameters flattened in the model's parameter order"})
    return ds, result.wall_time


def train_task(cell, data: dict, ctx) -> xr.Dataset:
    """Every seed of one kernel's cell; a batched cell (e.g. a claim map over the Gaussian options and the
    embedding init) trains its members one after another in this job, the Softmax members that differ only in
    the Gaussian options once (the minibatch runs are per seed; on a CPU a vmapped ensemble of these models was
    not faster)."""
    group = members(cell, data)
    distinct, index = unique_members(group, group[0].settings.kernel)
    runs = [_train_member(m, cell.coords, ctx, f".m{i}" if len(distinct) > 1 else "") for i, m in enumerate(distinct)]
    return finish(cell, [runs[i][0] for i in index], sum(seconds for _, seconds in runs))
