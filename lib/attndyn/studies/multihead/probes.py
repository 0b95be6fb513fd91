"""Metrics logged by the multihead study (spec Sec. 5), each (R,) per logged step. `heads` is H, or one H per run
(R,) for a batch of head counts (tied heads, model.Heads)."""
from __future__ import annotations

import torch

from ...variables import Var
from .model import Heads, attention, logistic_loss, logit, query_weights, root
from .settings import Model

COMMON_VARS = {
    "train_loss": Var("training loss (logistic)"),
    "test_loss": Var("test loss (logistic)"),
    "test_err": Var("test 0-1 error"),
    "avg_W_norm": Var("(1/H) sum_h ||W_h||_F"),
    "avg_U_norm": Var("(1/sqrt(H)) sum_h ||U_h||_2"),
}
DM1_VARS = {
    "attn_score": Var("softmax score on relevant tokens, mean over train samples, heads, queries"),
    "attn_score_test": Var("softmax score on relevant tokens, mean over test samples, heads, queries"),
}
PLANTED_VARS = {
    "align_W": Var("cos(concat_h W_h, concat_h W*)"),
    "align_U": Var("cos(concat_h U_h, concat_h U*)"),
}


def norms(params: dict, heads: Heads) -> dict[str, torch.Tensor]:
    """avg ||W|| = (1/H) sum ||W_h||_F and avg ||U|| = (1/sqrt(H)) sum ||U_h|| (spec Sec. 5.3-5.4).

    Each of the H_s stored heads stands for H / H_s identical heads."""
    W, U = params["W"], params["U"]                                          # (R, H_s, d, d), (R, H_s, d)
    copies = heads // W.shape[1]
    return {"avg_W_norm": W.flatten(2).norm(dim=-1).mean(1),
            "avg_U_norm": copies * U.norm(dim=-1).sum(1) / root(heads, U)}


def attention_score(A: torch.Tensor, relevant: torch.Tensor) -> torch.Tensor:
    """(1/(nHT)) sum_{i,h,t} sum_{s in R_i} [A_h(X_i)]_{ts} (spec Sec. 5.5): A (R, n, T, H, T) -> (R,).

    Equals zeta at theta = 0 (uniform attention)."""
    a = query_weights(A, "mean")                                             # (R, n, H, T), mean over queries
    return (a * relevant[:, :, None, :]).sum(-1).mean((1, 2))


def cosine_with_repeated(P: torch.Tensor, P_star: torch.Tensor, heads: Heads) -> torch.Tensor:
    """<concat_h P_h, concat_h P*> / (||.|| ||.||) with P* repeated H times; NaN at P = 0.

    P (R, H_s, ...): each stored head stands for c = H / H_s copies, so the concatenation's inner
    product is c times the stored one and its norm sqrt(c) times."""
    P, P_star = P.flatten(2), P_star.flatten(1)[:, None, :]                 # (R, H_s, k), (R, 1, k)
    copies = heads // P.shape[1]
    inner = copies * (P * P_star).sum((1, 2))                                # (R,)
    denom = root(copies, P) * P.flatten(1).norm(dim=1) * root(heads, P) * P_star.flatten(1).norm(dim=1)
    return torch.where(denom > 0, inner / denom, torch.full_like(inner, float("nan")))


def split_metrics(params: dict, X, y, model: Model, heads: Heads) -> tuple[dict, torch.Tensor]:
    """Loss, 0-1 error and the attention tensor (reused for attn-score) of one split."""
    A = attention(params["W"], X, model.temperature)                        # (R, n, T, H_s, T)
    phi = logit(A, X, params["U"], model.pooling, model.head_scaling, heads)   # (R, n)
    return {"loss": logistic_loss(phi, y), "err": (torch.sign(phi) != y).to(phi.dtype).mean(-1)}, A


def make_probe(params: dict, splits: dict, model: Model, extra: dict, heads: Heads):
    """Closure computing every metric of one cell; `extra` holds masks (DM1) or the teacher (planted)."""
    def probe() -> dict[str, torch.Tensor]:
        train, A_train = split_metrics(params, *splits["train"], model, heads)
        test, A_test = split_metrics(params, *splits["test"], model, heads)
        out = {"train_loss": train["loss"], "test_loss": test["loss"], "test_err": test["err"],
               **norms(params, heads)}
        if "relevant_train" in extra:
            out["attn_score"] = attention_score(A_train, extra["relevant_train"])
            out["attn_score_test"] = attention_score(A_test, extra["relevant_test"])
        if "W_star" in extra:
            out["align_W"] = cosine_with_repeated(params["W"], extra["W_star"], heads)
            out["align_U"] = cosine_with_repeated(params["U"], extra["U_star"], heads)
        return out
    return probe
