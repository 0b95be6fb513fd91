"""What the LRA runs log (CF long_name/units), their data as tensors, and the cross-entropy evaluations."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ....variables import Var
from .imdb import PAD

LRA_VARS = {
    "train_loss": Var("training cross-entropy (running mean over the last minibatches)", "nat"),
    "test_loss": Var("test cross-entropy", "nat"),
    "test_acc": Var("test accuracy"),
}
STAGE2_VARS = {
    "train_loss": Var("training cross-entropy on the landscape subset", "nat"),
    "test_loss": Var("test cross-entropy", "nat"),
    "test_acc": Var("test accuracy"),
}
EVAL_BATCH = 256                    # rows per evaluation forward pass
PADDING = {"pathfinder": None, "text": PAD}      # data kind -> padding token (Pathfinder has none)

Split = tuple[torch.Tensor, "torch.Tensor | None", torch.Tensor]


def split(data: dict, part: str, pad: int | None, device) -> Split:
    """Tokens (M, T) int64, padding mask (M, T) bool or None (no padding token), labels (M,)."""
    x = torch.as_tensor(data[f"x_{part}"].astype(np.int64), device=device)          # (M, T)
    mask = x != pad if pad is not None else None
    return x, mask, torch.as_tensor(data[f"y_{part}"], device=device)


def rows(mask: torch.Tensor | None, idx) -> torch.Tensor | None:
    return None if mask is None else mask[idx]


def subset(data: Split, count: int | None) -> Split:
    """The first `count` examples (all if None)."""
    x, mask, y = data
    idx = torch.arange(min(count or len(y), len(y)))
    return x[idx], rows(mask, idx), y[idx]


def minibatch_loss(model, data: Split, idx: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of the rows `idx` (training mode)."""
    x, mask, y = data
    return F.cross_entropy(model(x[idx], rows(mask, idx)), y[idx])


@torch.no_grad()
def evaluate(model, x, mask, y, batch: int = EVAL_BATCH) -> tuple[float, float]:
    """Mean cross-entropy and accuracy (eval mode: no dropout)."""
    model.eval()
    loss, correct = 0.0, 0
    for i in range(0, len(y), batch):
        logits = model(x[i:i + batch], rows(mask, slice(i, i + batch)))
        loss += F.cross_entropy(logits, y[i:i + batch], reduction="sum").item()
        correct += (logits.argmax(-1) == y[i:i + batch]).sum().item()
    model.train()
    return loss / len(y), correct / len(y)


def held_out_metrics(model, test_set: Split) -> dict[str, float]:
    loss, acc = evaluate(model, *test_set)
    return {"test_loss": loss, "test_acc": acc}
