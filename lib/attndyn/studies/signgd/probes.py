"""Quantities logged for the signgd study (spec Sec. 5). Noise features use y_i * xi_i."""
from __future__ import annotations

import torch

from ...variables import Var
from .tokens import Tokens
from .model import attention, forward, logistic_loss, mean_value

GLOBAL_VARS = {
    "train_loss": Var("training loss (logistic)"),
    "test_loss": Var("test loss (logistic)"),
    "train_acc": Var("training accuracy"),
    "test_acc": Var("test accuracy"),
    "norm_WQ": Var("Frobenius norm of W_Q"),
    "norm_WK": Var("Frobenius norm of W_K"),
    "norm_WV_plus": Var("Frobenius norm of W_{V,+1}"),
    "norm_WV_minus": Var("Frobenius norm of W_{V,-1}"),
}

FEATURE_VARS = {
    "query_signal": Var("query signal <w_{Q,s}, mu>", dims=("neuron",)),
    "key_signal": Var("key signal <w_{K,s}, mu>", dims=("neuron",)),
    "query_noise": Var("query noise <w_{Q,s}, y_i xi_i>", dims=("neuron", "sample")),
    "key_noise": Var("key noise <w_{K,s}, y_i xi_i>", dims=("neuron", "sample")),
    "value_signal": Var("value signal <w_{V,j,r}, mu>", dims=("value_sign", "value_neuron")),
    "value_noise": Var("value noise <w_{V,j,r}, y_i xi_i>", dims=("value_sign", "value_neuron", "sample")),
    "mean_value_signal": Var("mean value signal <vbar, mu>"),
    "mean_value_noise": Var("mean value noise <vbar, y_i xi_i>", dims=("sample",)),
    "s11": Var("softmax output s_{i,11} (signal query -> signal key)", dims=("sample",)),
    "s21": Var("softmax output s_{i,21} (noise query -> signal key)", dims=("sample",)),
    "qk_noise_sign_agreement": Var("fraction of (s, i) with sign(query noise) = sign(key noise)"),
    "query_signal_majority": Var("fraction of neurons with sign(qsig_s) = sign(sum_i sign(qn_{s,i})), "
                                 "among neurons whose vote is not tied"),
    "key_signal_opposite": Var("fraction of neurons with sign(ksig_s) = -sign(qsig_s)"),
    "key_noise_alignment": Var("fraction of (s, i) with sign(kn_{s,i}) = sign(qsig_s)"),
    "query_noise_alignment": Var("fraction of (s, i) with sign(qn_{s,i}) = sign(qsig_s)"),
}


def accuracy(f: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (torch.sign(f) == y).to(f.dtype).mean(-1)


def global_probes(params: dict, train, test, temperature: float) -> dict[str, torch.Tensor]:
    """Losses, accuracies and weight norms, each (R,)."""
    (X, y), (X_test, y_test) = train, test
    f = forward(params, X, temperature)                                       # (R, n)
    f_test = forward(params, X_test, temperature)                             # (R, n_test)
    out = {"train_loss": logistic_loss(f, y), "test_loss": logistic_loss(f_test, y_test),
           "train_acc": accuracy(f, y), "test_acc": accuracy(f_test, y_test)}
    for name, W in params.items():
        out[f"norm_{name}"] = W.flatten(1).norm(dim=1)
    return out


def _frac(mask: torch.Tensor) -> torch.Tensor:
    """Fraction of True over all but the run dimension: (R,)."""
    return mask.flatten(1).to(torch.float64).mean(1)


def stage_statistics(qsig, ksig, qn, kn) -> dict[str, torch.Tensor]:
    """Sign statistics of stages II-IV (spec Sec. 5). qsig, ksig (R, m_k); qn, kn (R, m_k, n)."""
    majority = torch.sign(torch.sign(qn).sum(-1))                         # (R, m_k); 0 on a tied vote
    decided = majority != 0                                               # an even n can split evenly
    agree = ((torch.sign(qsig) == majority) & decided).sum(-1) / decided.sum(-1)   # NaN if all tied
    q_sign = torch.sign(qsig)[..., None]                                  # (R, m_k, 1)
    return {
        "qk_noise_sign_agreement": _frac(torch.sign(qn) == torch.sign(kn)),
        "query_signal_majority": agree.to(qsig.dtype),
        "key_signal_opposite": _frac(torch.sign(ksig) == -torch.sign(qsig)),
        "key_noise_alignment": _frac(torch.sign(kn) == q_sign),
        "query_noise_alignment": _frac(torch.sign(qn) == q_sign),
    }


def feature_probes(params: dict, X: Tokens, y: torch.Tensor, mu: torch.Tensor,
                   temperature: float) -> dict[str, torch.Tensor]:
    """Signal/noise inner products, softmax outputs and stage statistics on the training set."""
    noise = lambda W: y[:, None, :] * X.project(W)[:, :, 1].transpose(1, 2)   # <w, y_i xi_i>: (R, m, n)
    WV = torch.stack([params["WV_plus"], params["WV_minus"]], 1)          # (R, 2, m_v, d)
    vbar = mean_value(params)[:, None, :]                                 # (R, 1, d)
    qsig, ksig = params["WQ"] @ mu, params["WK"] @ mu                     # (R, m_k)
    qn, kn = noise(params["WQ"]), noise(params["WK"])                     # (R, m_k, n)
    S = attention(params, X, temperature)                                 # (R, n, 2, 2)
    out = {
        "query_signal": qsig, "key_signal": ksig, "query_noise": qn, "key_noise": kn,
        "value_signal": WV @ mu, "value_noise": noise(WV.flatten(1, 2)).unflatten(1, WV.shape[1:3]),
        "mean_value_signal": (vbar @ mu)[:, 0], "mean_value_noise": noise(vbar)[:, 0],
        "s11": S[:, :, 0, 0], "s21": S[:, :, 1, 0],
    }
    out.update(stage_statistics(qsig, ksig, qn, kn))
    return out
