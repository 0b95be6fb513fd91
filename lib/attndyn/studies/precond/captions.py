"""Captions of the precond figures (the report's text and each figure's footer)."""
from __future__ import annotations

RECON = "[Algorithm 1 formulas RECONSTRUCTED/PROPOSED; see docs/papers/precond.md]"

CAPTIONS = {
    "fig1_spectral_vs_sgd":
        "Fig. 1: linear regression through one softmax self-attention layer; Algorithm 1 with the spectral "
        "initialization vs SGD initialized with every parameter i.i.d. N(0, 1). Panels: E_inf (Theorem 1), training "
        "loss, finite-context test risk vs iteration (log y), over seeds. Baselines of claim C1 (not in "
        "the paper's figure): dotted, SGD from the N(0, 1) point at its best rate of the lr sweep sgd_tuning (the dot "
        "marks the step with as many examples processed as Algorithm 1 at the compared time); dash-dotted, the trivial "
        "predictor A = B = 0 (1/2 ||M Sigma^(1/2)||_F^2, seed geometric mean). " + RECON,
    "fig2_same_random_init":
        "Fig. 2: Algorithm 1 and SGD both started at the same random point, every parameter i.i.d. N(0, 1). "
        "Same panels as Fig. 1 (any other optimizer of the compare experiment, e.g. the extra baselines gd and "
        "adam, is dashed); dotted and dash-dotted: the tuned SGD and the trivial predictor of claim C2, as in Fig. 1. "
        + RECON,
    "figS1_scaling":
        "S1 (not a paper figure): data-compute scaling (Theorem 2). (a) E_inf vs iteration of Algorithm 1 for each n "
        "(geometric fall, then a floor); (b) final E_inf vs n on log-log axes with a slope -1 reference, and the "
        "spectral init alone. " + RECON,
    "figS2_ablations":
        "S2 (not a paper figure): Algorithm 1 with one component off at a time (identity preconditioner, "
        "lambda = 0, no renormalization) vs the full algorithm; E_inf and ||B||_op vs iteration. " + RECON,
    "figS3_conditioning":
        "S3 (not a paper figure; claim C8): Algorithm 1 from the N(0, 1) point with the whitening preconditioner vs "
        "the identity-preconditioner ablation, on the well-conditioned Sigma and on the cond-100 Sigma "
        "(spec Sec. 2.3). (a) E_inf vs iteration, each at its best rate (lowest final training loss among the rates "
        "stable in every seed); (b) the lr sweep: final training loss vs lr (gaps: a seed diverged). " + RECON,
}


# figure -> (the claim rows it supports, the config keys (reconstructed or proposed values) its curves depend on)
FIGURE_NOTES = {
    "fig1_spectral_vs_sgd": (["C1", "C6"], ["data.d", "data.n", "data.sigma_spec", "data.noise_sigma",
                                            "data.prompt_len_L"]),
    "fig2_same_random_init": (["C2", "C3"], ["data.d", "data.n", "data.sigma_spec", "data.noise_sigma"]),
    "figS1_scaling": (["C4"], ["data.d", "data.sigma_spec", "data.noise_sigma"]),
    "figS2_ablations": (["C7"], ["optimizers.alg_no_precond.preconditioner", "optimizers.alg_no_reg.lambda_reg",
                                 "optimizers.alg_no_renorm.renorm"]),
    "figS3_conditioning": (["C8 (both rows)"], ["data.sigma_cond", "data.sigma_spec"]),
}

def caption(name: str, settings) -> str:
    return CAPTIONS[name]
