"""Variables logged by the synthetic experiments (CF long_name/units) and the gradient-norm probe."""
from __future__ import annotations

import torch

from ...results import Var

SYNTH_VARS = {
    "train_loss": Var("training loss 1/2 sum_i ||T(X_i) - y_i||^2"),
    "grad_norm": Var("norm of the gradient over the trained weights"),
    "feat_sigma_min": Var("smallest singular value of the stacked Nn x HD attention-feature matrix"),
    "feat_cond": Var("condition number sigma_1 / sigma_Nn of the stacked attention-feature matrix"),
}
LRA_VARS = {
    "train_loss": Var("training cross-entropy (running mean over the last minibatches)", "nat"),
    "test_loss": Var("test cross-entropy", "nat"),
    "test_acc": Var("test accuracy"),
}


def per_run_grad_norm(loss_fn, trained: list[torch.Tensor]) -> torch.Tensor:
    """||grad f_r|| for each run r (runs are independent, so d(sum_r f_r)/dW_r = df_r/dW_r): (R,)."""
    with torch.enable_grad():
        losses = loss_fn()
        grads = torch.autograd.grad(losses.sum(), trained)
    return torch.sqrt(sum((g.flatten(1) ** 2).sum(1) for g in grads))
