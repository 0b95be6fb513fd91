"""Train jobs of the LRA-style tasks (spec Sec. 4, 6): one model per seed, minibatches, test curves.

Not batched over seeds (different minibatch streams per seed); seeds are looped inside the cell job.
Metrics are logged every `eval_every` steps and stored like the batched trainer's output. With
`checkpoint_every`, each seed checkpoints at epoch ends and keeps its result once done, so a killed job
reruns no finished seed and resumes the unfinished one bit-identically.
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
from ...train import Checkpointing, TrainResult
from .lra_model import LRAClassifier
from .probes import LRA_VARS
from .synthetic_runner import _ckpt

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


def batch_indices(n: int, batch: int, steps: int, gen: torch.Generator, first: int = 0):
    """Minibatch index tensors (batch,) for steps first..steps-1, reshuffled at the start of every epoch
    (`first` must start an epoch: a resumed run continues the same stream from the saved `gen` state)."""
    per_epoch = n // batch
    for step in range(first, steps):
        if step % per_epoch == 0:
            order = torch.randperm(n, generator=gen)
        yield order[(step % per_epoch) * batch:][:batch]


def minibatch_step(model, opt, x, mask, y, idx) -> float:
    """One optimizer step on the cross-entropy of the rows `idx`; returns that minibatch loss."""
    loss = F.cross_entropy(model(x[idx], _rows(mask, idx)), y[idx])
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.item()


def build_model(kernel: str, s: dict, seq_len: int, device) -> LRAClassifier:
    """The LRA model with the given kernel, in float32."""
    return LRAClassifier(s["lra"], kernel, s["model"], seq_len).to(device, LRA_DTYPE)


def load_params(model: LRAClassifier, flat: np.ndarray) -> LRAClassifier:
    """Set the model's weights from a `final_params` vector (P,) of a model with the same settings."""
    n = sum(p.numel() for p in model.parameters())
    if flat.shape != (n,):
        raise ValueError(f"stored weights have shape {flat.shape}, the model has {n} parameters "
                         "(the stage-1 run was made with other model settings)")
    torch.nn.utils.vector_to_parameters(torch.as_tensor(flat, dtype=LRA_DTYPE), model.parameters())
    return model


def task_optimizer(task: dict, params):
    """The task's optimizer (lra.<task>.optimizer, lr, momentum) over `params`."""
    rule, settings = _optimizer_rule(task)
    return build_optimizer(rule, params, settings)


def _seed_state(model, opt, gen: torch.Generator, logs: dict, recent: list) -> dict:
    """What a resumed seed needs: weights, optimizer state, batch-order and dropout RNG states, logs so far."""
    cuda = next(model.parameters()).device.type == "cuda"
    return {"model": model.state_dict(), "optimizer": opt.state_dict(), "gen": gen.get_state(),
            "torch_rng": torch.get_rng_state(), "cuda_rng": torch.cuda.get_rng_state() if cuda else None,
            "logs": logs, "recent": recent}


def _restore_seed(state: dict, model, opt, gen: torch.Generator) -> tuple[dict, list, int]:
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    gen.set_state(state["gen"])
    torch.set_rng_state(state["torch_rng"])
    if state["cuda_rng"] is not None:
        torch.cuda.set_rng_state(state["cuda_rng"])
    return state["logs"], state["recent"], state["step"]


def train_one_seed(seed: int, kernel: str, task: dict, s: dict, data: dict, device,
                   ckpt: Checkpointing | None = None) -> dict:
    """Minibatch training for `epochs`; returns metric arrays (G,) on the eval grid and the final weights
    (`final_params`, all parameters flattened in the model's parameter order, (P,)). With `ckpt`, the
    state is saved at epoch ends (every `ckpt.every` steps rounded up to whole epochs) and the result when
    done; a killed run resumes from there bit-identically (the caller deletes the checkpoint)."""
    ckpt = ckpt or Checkpointing()
    state = ckpt.load()
    if state is not None and "result" in state:
        return state["result"]
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    x, mask, y = _split(data, "train", task.get("pad"), device)
    xt, mt, yt = _split(data, "test", task.get("pad"), device)
    model = build_model(kernel, s, x.shape[1], device)
    opt = task_optimizer(task, model.parameters())
    grid = eval_grid(task, len(y))
    total, log_at = int(grid[-1]), set(grid.tolist())
    per_epoch = len(y) // task["batch_size"]
    logs, recent, start = {k: [] for k in LRA_VARS}, [], 0
    if state is not None:
        logs, recent, start = _restore_seed(state, model, opt, gen)
    batches = batch_indices(len(y), task["batch_size"], total, gen, first=start)
    save_every = -(-ckpt.every // per_epoch) * per_epoch                       # whole epochs
    for step in range(start, total + 1):
        ckpt.save_if_due(step, start, lambda: _seed_state(model, opt, gen, logs, recent), every=save_every)
        if step in log_at:
            tl, ta = evaluate(model, xt, mt, yt, 256)
            logs["train_loss"].append(np.mean(recent) if recent else np.nan)
            logs["test_loss"].append(tl)
            logs["test_acc"].append(ta)
            recent = []
        if step < total:
            recent.append(minibatch_step(model, opt, x, mask, y, next(batches)))
    flat = torch.nn.utils.parameters_to_vector(model.parameters()).detach().cpu().numpy()
    result = {**{k: np.asarray(v) for k, v in logs.items()}, "final_params": flat}
    if ckpt.every:                                                                # done: keep the result
        ckpt.save(total, {"result": result})
    return result


def log_grid(every: int, total: int) -> np.ndarray:
    """Steps 0, every, 2 every, ... and the last step `total`."""
    return np.unique(np.r_[np.arange(0, total, every), total])


def eval_grid(task: dict, n_train: int) -> np.ndarray:
    return log_grid(task["eval_every"], task["epochs"] * (n_train // task["batch_size"]))


def train_lra(cell, data: dict, ctx, task_name: str):
    """Loop over seeds; store (seed, step) curves with the shared result layout."""
    s = cell.settings
    task = {**s[task_name], "pad": 0 if task_name == "text" else None}
    t0 = time.perf_counter()
    ckpts = [_ckpt(ctx, f".seed{seed}") for seed in s["lra"]["seeds"]]
    runs = [train_one_seed(seed, cell.coords["kernel"], task, s, data, ctx.device, ckpt)
            for seed, ckpt in zip(s["lra"]["seeds"], ckpts)]
    for ckpt in ckpts:
        ckpt.finish()
    metrics = {k: np.stack([r[k] for r in runs], axis=1) for k in LRA_VARS}        # (G, R)
    R = len(runs)
    result = TrainResult(eval_grid(task, len(data["y_train"])), metrics, np.zeros(R, bool),
                         np.full(R, -1), time.perf_counter() - t0)
    provenance = {**ctx.provenance, "dtype": str(LRA_DTYPE).removeprefix("torch.")}
    ds = cell_dataset(result, LRA_VARS, s["lra"]["seeds"], cell.coords, provenance)
    ds["step"].attrs.update(long_name="optimizer step (minibatch)", units="step")
    ds["final_params"] = (("seed", "param"), np.stack([r["final_params"] for r in runs]),
                          {"long_name": "final weights, all parameters flattened in the model's parameter order"})
    return ds
