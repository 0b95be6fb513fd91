"""Train jobs of the LRA-style tasks (spec Sec. 4, 6): one model per seed, minibatches, test curves.

Not batched over seeds (different minibatch streams per seed); seeds are looped inside the cell job.
Metrics are logged every `eval_every` steps and stored like the batched trainer's output.
The model runs in float32 whatever the top-level `dtype` (which is for the small theory models), as the
paper's LRA harness does; the cell's provenance says so.
"""
from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from ...optim import build_optimizer
from ...results import cell_dataset
from ...train import TrainResult
from .lra_model import LRAClassifier
from .probes import LRA_VARS

LRA_DTYPE = torch.float32


def _split(data: dict, part: str, pad: int | None, device) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Tokens (M, T) int64, padding mask (M, T) bool or None (no padding token), labels (M,)."""
    x = torch.as_tensor(data[f"x_{part}"].astype(np.int64), device=device)          # (M, T)
    mask = x != pad if pad is not None else None
    return x, mask, torch.as_tensor(data[f"y_{part}"], device=device)


def _rows(mask: torch.Tensor | None, idx) -> torch.Tensor | None:
    return None if mask is None else mask[idx]


def _optimizer_rule(task: dict) -> tuple[str, dict]:
    """SGD with momentum > 0 is the registry's heavy-ball rule; everything else maps by name."""
    if task["optimizer"] in ("sgd", "gd") and task.get("momentum", 0) > 0:
        return "momentum", {"lr": task["lr"], "beta": task["momentum"]}
    return task["optimizer"], {"lr": task["lr"]}


@torch.no_grad()
def evaluate(model, x, mask, y, batch: int) -> tuple[float, float]:
    """Mean test cross-entropy and accuracy (eval mode: no dropout)."""
    model.eval()
    loss, correct = 0.0, 0
    for i in range(0, len(y), batch):
        logits = model(x[i:i + batch], _rows(mask, slice(i, i + batch)))
        loss += F.cross_entropy(logits, y[i:i + batch], reduction="sum").item()
        correct += (logits.argmax(-1) == y[i:i + batch]).sum().item()
    model.train()
    return loss / len(y), correct / len(y)


def train_one_seed(seed: int, kernel: str, task: dict, s: dict, data: dict, device) -> dict:
    """Minibatch training for `epochs`; returns metric arrays (G,) on the eval grid."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    x, mask, y = _split(data, "train", task.get("pad"), device)
    xt, mt, yt = _split(data, "test", task.get("pad"), device)
    model = LRAClassifier(s["lra"], kernel, s["model"], x.shape[1]).to(device, LRA_DTYPE)
    rule, settings = _optimizer_rule(task)
    opt = build_optimizer(rule, model.parameters(), settings)
    steps_per_epoch = len(y) // task["batch_size"]
    total, every = task["epochs"] * steps_per_epoch, task["eval_every"]
    logs, recent = {k: [] for k in LRA_VARS}, []
    for step in range(total + 1):
        if step % every == 0 or step == total:
            tl, ta = evaluate(model, xt, mt, yt, 256)
            logs["train_loss"].append(np.mean(recent) if recent else np.nan)
            logs["test_loss"].append(tl)
            logs["test_acc"].append(ta)
            recent = []
        if step == total:
            break
        if step % steps_per_epoch == 0:
            order = torch.randperm(len(y), generator=gen)
        idx = order[(step % steps_per_epoch) * task["batch_size"]:][: task["batch_size"]]
        loss = F.cross_entropy(model(x[idx], _rows(mask, idx)), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        recent.append(loss.item())
    return {k: np.asarray(v) for k, v in logs.items()}


def eval_grid(task: dict, n_train: int) -> np.ndarray:
    total = task["epochs"] * (n_train // task["batch_size"])
    return np.unique(np.r_[np.arange(0, total, task["eval_every"]), total])


def train_lra(cell, data: dict, ctx, task_name: str):
    """Loop over seeds; store (seed, step) curves with the shared result layout."""
    s = cell.settings
    task = {**s[task_name], "pad": 0 if task_name == "text" else None}
    t0 = time.perf_counter()
    runs = [train_one_seed(seed, cell.coords["kernel"], task, s, data, ctx.device) for seed in s["lra"]["seeds"]]
    metrics = {k: np.stack([r[k] for r in runs], axis=1) for k in LRA_VARS}        # (G, R)
    R = len(runs)
    result = TrainResult(eval_grid(task, len(data["y_train"])), metrics, np.zeros(R, bool),
                         np.full(R, -1), time.perf_counter() - t0)
    provenance = {**ctx.provenance, "dtype": str(LRA_DTYPE).removeprefix("torch.")}
    ds = cell_dataset(result, LRA_VARS, s["lra"]["seeds"], cell.coords, provenance)
    ds["step"].attrs.update(long_name="optimizer step (minibatch)", units="step")
    return ds
