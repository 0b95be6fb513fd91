"""Captions of the signgd figures (the report's text and each figure's footer)."""
from __future__ import annotations

RECON = "[RECONSTRUCTED data model and defaults; see docs/papers/signgd.md]"

CAPTIONS = {
    "fig1_signgd_dynamics":
        "Fig. 1: SignGD dynamics on synthetic data. (a) key noise and (b) mean value noise over the first steps "
        "(stage I: value noise moves linearly, key noise stays near init); (c) softmax outputs s11, s21 "
        "(stage IV: s21 decays to ~0 while s11 stays near 1/2); (d) query noise, key noise and query signal of one "
        "neuron, dotted = samples with positive query noise at the split time, solid = negative (neuron_index 'auto': "
        "the first neuron whose final query signal is positive). " + RECON,
    "fig2_signgd_vs_adam":
        "Fig. 2a-c: panel (d) of Fig. 1 for SignGD and for Adam, same neuron and seed: noise features of the "
        "opposite sign to the query signal (black) flip under SignGD and do not under Adam; training loss on a log "
        "axis (SignGD linear rate, Adam slower). " + RECON,
    "fig2d_snr_test_loss":
        "Fig. 2d: test loss (log axis) and test accuracy at SNR 0.5 and 1.0 (SNR = ||mu|| / (sigma_p sqrt(s)), "
        "[PROPOSED]). GD's test loss falls by orders of magnitude on the same data, while SignGD's and Adam's stay "
        "near log 2 (their test accuracy can still rise, e.g. to ~0.95 at SNR 1): poor generalization is not "
        "solely due to data noise. " + RECON,
    "fig_noisy_digits":
        "Noisy-digits stand-in for noisy MNIST [PROPOSED]: scikit-learn 8x8 digits as the signal token plus a "
        "sparse Gaussian noise token of std sigma_p. Final train loss, test loss and test accuracy against "
        "sigma_p, and test accuracy over training at the largest sigma_p. Expected: all fit the training set; "
        "SignGD/Adam test accuracy degrades with noise faster than GD's.",
}


# figure -> (the claim rows it supports, the config keys (reconstructed or proposed values) its curves depend on)
FIGURE_NOTES = {
    "fig1_signgd_dynamics": (["C1", "C4.I", "C4.II", "C4.III", "C4.IV", "C4.IV'", "C4 stages in order"],
                             ["data.synthetic.n", "data.synthetic.d", "data.synthetic.s", "data.synthetic.sigma_p",
                              "model.m_k", "model.sigma_0", "optimizers.signgd.lr"]),
    "fig2_signgd_vs_adam": (["C5"], ["model.sigma_0", "optimizers.adam.lr", "optimizers.signgd.lr"]),
    "fig2d_snr_test_loss": (["C2", "C3", "C6 SNR 0.5", "C6 SNR 1"],
                            ["data.synthetic.snr_definition", "data.synthetic.mu_norm", "data.synthetic.s",
                             "optimizers.gd.lr"]),
    "fig_noisy_digits": (["C7 (both rows)"], ["data.digits.n_train", "data.digits.noise_dim",
                                              "data.digits.noise_sparsity_s"]),
}

def caption(name: str, settings) -> str:
    return CAPTIONS[name]
