"""What the synthetic runs log (CF long_name/units) and the probes that measure it, each (R,) per run."""
from __future__ import annotations

from collections.abc import Callable

import torch

from ....variables import Var
from ..settings import KernelOptions
from .model import feature_singular_values, forward, squared_loss

SYNTH_VARS = {
    "train_loss": Var("training loss 1/2 sum_i ||T(X_i) - y_i||^2"),
    "grad_norm": Var("norm of the gradient over the trained weights"),
    "feat_sigma_min": Var("smallest singular value of the stacked Nn x HD attention-feature matrix"),
    "feat_cond": Var("condition number sigma_1 / sigma_Nn of the stacked attention-feature matrix"),
}


def per_run_grad_norm(loss_fn, trained: list[torch.Tensor]) -> torch.Tensor:
    """||grad f_r|| for each run r (runs are independent, so d(sum_r f_r)/dW_r = df_r/dW_r): (R,)."""
    with torch.enable_grad():
        losses = loss_fn()
        grads = torch.autograd.grad(losses.sum(), trained)
    return torch.sqrt(sum((g.flatten(1) ** 2).sum(1) for g in grads))


def regression_loss(W: dict, X: torch.Tensor, y: torch.Tensor, kernel: str,
                    options: KernelOptions) -> Callable[[], torch.Tensor]:
    """f_r = 1/2 sum_i ||T(X_i) - y_i||^2 of every run at the current weights W: () -> (R,)."""
    def loss() -> torch.Tensor:
        return squared_loss(forward(W, X, kernel, options.gaussian_temperature, options.gaussian_rownorm), y)
    return loss


def synthetic_probe(W: dict, X: torch.Tensor, kernel: str, options: KernelOptions, loss_fn,
                    trained: list[torch.Tensor]) -> Callable[[], dict]:
    """Training loss, gradient norm and the feature matrix's sigma_Nn and condition number (spec Sec. 7 S1)."""
    def probe() -> dict:
        smax, smin = feature_singular_values(W, X, kernel, options.gaussian_temperature, options.gaussian_rownorm)
        return {"train_loss": loss_fn(), "grad_norm": per_run_grad_norm(loss_fn, trained),
                "feat_sigma_min": smin, "feat_cond": smax / smin}
    return probe
