"""Captions of the multihead figures (the report's text and each figure's footer)."""
from __future__ import annotations

RECON = "Model, data details and step sizes [RECONSTRUCTED/PROPOSED]; see docs/papers/multihead.md."

CAPTIONS = {
    "fig2_dm1_gd_constant":
        "Fig. 2: DM1, GD with constant step eta = 1. Train/test loss, avg ||W|| (1/H average), avg ||U|| "
        "(1/sqrt(H) average) and attn-score (softmax score on relevant tokens, averaged over train samples and "
        "heads) per number of heads H. Overparameterization slows down GD with constant step; dashed line: "
        "O(1/t) reference. " + RECON,
    "fig3_dm1_sqrtH_adam":
        "Fig. 3: DM1, (top) GD with eta = lr sqrt(H); (bottom) Adam with constant step. Same quantities as "
        "Fig. 2. Overparameterization speeds up train and test loss convergence in both. " + RECON,
    "fig4_planted_gd_sqrtH":
        "Fig. 4: planted model, GD with eta = lr sqrt(H). Train/test loss, avg ||W||, avg ||U||, and the "
        "alignment cos(concat W_h, concat W*) and cos(concat U_h, concat U*) with the planted head repeated "
        "H times, per H. " + RECON,
    "fig5_planted_momentum_adam":
        "Fig. 5: planted model, (top) GD + heavy-ball momentum with eta = lr sqrt(H); (bottom) Adam with "
        "constant step. Same quantities as Fig. 4. Overparameterization speeds up convergence in both. " + RECON,
    "fig_dm1_optimizers":
        "Cross-study question (none of the papers asked it): SignGD and Adam beside GD on the multi-head DM1 "
        "model, H swept. One column per number of heads H; rows: train loss, test loss, attn-score; one colour "
        "per optimizer (over trials; the band convention is stated below). Step sizes are constant in H "
        "(SignGD lr [PROPOSED]). "
        + RECON,
}


# figure -> (the claim rows it supports, the config keys (reconstructed or proposed values) its curves depend on)
FIGURE_NOTES = {
    "fig2_dm1_gd_constant": (["C1", "C1b", "C3", "C4", "C5"],
                             ["data.dm1.T", "data.dm1.d", "data.dm1.zeta", "model.pooling", "model.head_scaling"]),
    "fig3_dm1_sqrtH_adam": (["C2"], ["data.dm1.T", "data.dm1.zeta", "model.head_scaling"]),
    "fig4_planted_gd_sqrtH": (["C6", "C7"], ["data.planted.beta", "data.planted.n_train", "model.head_scaling"]),
    "fig5_planted_momentum_adam": (["C6"], ["data.planted.beta", "data.planted.n_train", "model.head_scaling"]),
    "fig_dm1_optimizers": ([], ["optimizers.signgd.lr", "optimizers.adam.lr", "data.dm1.zeta"]),
}

def caption(name: str, settings) -> str:
    return CAPTIONS[name]
