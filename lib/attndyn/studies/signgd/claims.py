"""Claims of Li et al. (2024) checked by numbers (spec Sec. 10; thresholds are config keys `checks`).

Every row is decided per seed (a mean cannot hide a failing seed), says what outcome would fail it and
quotes the spec sentence it tests (docs/papers/signgd.md).
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ...claims import Claim, fmt, linear_fit, seed_list
from ...criteria import onset, rate_models
from ...results import at, final
from .settings import Checks, Settings

SPEC = "docs/papers/signgd.md"
DATA = "data.synthetic (n, d, s, sigma_p, mu_norm [PROPOSED]; mu = e1, support excludes e1 [RECONSTRUCTED])"
MODEL = "model (m_k, m_v, sigma_0 [PROPOSED]; temperature 1 [RECONSTRUCTED])"
STAGES = {"II": ("qk_noise_sign_agreement", 1.0), "III": ("key_signal_opposite", 1.0), "IV": ("s21", 0.0)}


def c1_linear_rate(ds: xr.Dataset, c: Checks) -> Claim:
    """Loss level at T and, per seed, a geometric decay fitting log-loss on [T/2, T] better than a power law."""
    T, loss = c.C1_time, ds.train_loss.sel(optimizer="signgd")
    window = loss.sel(step=(loss.step >= T / 2) & (loss.step <= T))
    fits = [rate_models(window.step.values, window.isel(seed=i).values) for i in range(loss.sizes["seed"])]
    r2 = [linear_fit(window.step.values, np.log10(window.isel(seed=i).values))[2] for i in range(len(fits))]
    level = at(ds, "train_loss", T).sel(optimizer="signgd")
    ok = bool((level <= c.C1_train_loss_max).all()) and all(f.geometric_wins for f in fits) \
        and min(r2) >= c.C1_loglinear_r2_min
    return Claim(
        "C1 SignGD training loss decays at a linear (geometric) rate",
        f"every seed: train loss at t={T} <= {c.C1_train_loss_max:g}; on t in [{T // 2}, {T}] the geometric model "
        f"log L = a - b t fits log-loss with R^2 >= {c.C1_loglinear_r2_min:g} and better (lower RSS) than a power "
        "law log L = a - k log t",
        f"train loss {seed_list(level)}; RSS geometric/power per seed "
        + ", ".join(f"{fmt(f.rss_geometric)}/{fmt(f.rss_power)}" for f in fits)
        + f"; R^2 {', '.join(fmt(r) for r in r2)}; "
          f"rate {fmt(np.mean([f.decades_per_step for f in fits]))} decades/step",
        ok, fails_if="a seed above the loss level, or a power law t^-k (a sublinear rate) fitting the window better",
        source=f"{SPEC} 'What the study must show' 1: 'drives the training loss to ~0 at a linear rate (straight "
               "line on a log-y axis)'; Sec. 7: 'SignGD converges at a linear rate, Adam at a sublinear rate'",
        depends_on=f"{DATA}; {MODEL}; optimizers.signgd.lr 1e-4 [PROPOSED]")


def c2_signgd_poor_generalization(ds: xr.Dataset, c: Checks) -> Claim:
    sg = ds.sel(optimizer="signgd")
    late = sg.test_loss.sel(step=sg.step >= c.C2_from_t).min("step") if sg.step.max() >= c.C2_from_t \
        else sg.test_loss.isel(step=0) * np.nan                               # (seed,); NaN: the run is too short
    acc = final(sg, "test_acc")
    ok = bool((late >= c.C2_signgd_test_loss_min).all()) and bool((acc <= c.C2_signgd_test_acc_max).all())
    return Claim(
        "C2 SignGD test loss stays at a constant level (poor generalization)",
        f"every seed: SignGD test loss >= {c.C2_signgd_test_loss_min:g} at every logged t >= {c.C2_from_t} "
        f"(it stays up, not only at the end) and final test acc <= {c.C2_signgd_test_acc_max:g}",
        f"min test loss for t >= {c.C2_from_t}: {seed_list(late)}; final test acc {seed_list(acc)}", ok,
        fails_if="a seed whose test loss falls below the level after t = C2_from_t, or whose test accuracy ends high",
        source=f"{SPEC} 'What the study must show' 2: 'SignGD test loss stays at a constant level (~log 2) and test "
               "accuracy stays well below GD's'",
        depends_on=f"{DATA}; {MODEL}")


def c3_gd_generalizes(ds: xr.Dataset, c: Checks) -> Claim:
    loss, acc = final(ds, "test_loss").sel(optimizer="gd"), final(ds, "test_acc").sel(optimizer="gd")
    ok = bool((acc >= c.C3_gd_test_acc_min).all()) and bool((loss <= c.C3_gd_test_loss_max).all())
    return Claim("C3 GD generalizes on the same data",
                 f"every seed: final GD test acc >= {c.C3_gd_test_acc_min:g} "
                 f"and test loss <= {c.C3_gd_test_loss_max:g}",
                 f"test acc {seed_list(acc)}; test loss {seed_list(loss)}", ok,
                 fails_if="a seed where GD ends below the accuracy or above the loss",
                 source=f"{SPEC} 'What the study must show' 5 and Sec. 10 C3: 'GD on the same data generalizes "
                        "(~100 % test accuracy)'",
                 depends_on=f"{DATA}; optimizers.gd.lr 0.5 [PROPOSED]")


def _relative_move(values: xr.DataArray, horizon: int) -> xr.DataArray:
    """Per seed: mean |v(t) - v(0)| over t <= horizon, relative to mean |v(0)| (over neurons and samples)."""
    early = values.sel(step=values.step <= horizon)
    move = abs(early - early.sel(step=0)).max("step").mean(("neuron", "sample"))
    return move / abs(early.sel(step=0)).mean(("neuron", "sample"))


def c4_stage_one(sg: xr.Dataset, c: Checks, horizon: int) -> Claim:
    """Stage I: mean value noise moves linearly from t = 1 while query and key noise stay near their init."""
    early = sg.mean_value_noise.mean("sample").sel(step=slice(1, 10))                      # (step, seed)
    fits = [linear_fit(early.step.values, early.isel(seed=i).values) for i in range(sg.sizes["seed"])]
    moves = np.maximum(_relative_move(sg.key_noise, horizon), _relative_move(sg.query_noise, horizon))
    ok = all(r2 >= 0.99 and slope > 0 for slope, _, r2 in fits) and bool((moves <= c.C4_qk_near_init_max).all())
    return Claim(
        "C4.I stage I: mean value noise grows linearly from t = 1 while query and key noise stay near init",
        f"every seed: linear fit of mean value noise on t = 1..10 has R^2 >= 0.99 and positive slope; over t <= "
        f"{horizon} query and key noise move by at most {c.C4_qk_near_init_max:g} of their initial magnitude",
        f"slope per seed {', '.join(fmt(s) for s, _, _ in fits)}; R^2 {', '.join(fmt(r) for _, _, r in fits)}; "
        f"largest Q/K noise move / init {seed_list(moves)}", ok,
        fails_if="value noise not linear from t = 1, or query/key noise moving more than the bound by t = 2",
        source=f"{SPEC} Sec. 6 Stage I: 'Mean value noise then grows linearly in t ... Query and key noise stay near "
               "initialization (Fig. 1a, b, t = 0..2)'",
        depends_on=f"{DATA}; {MODEL}; checks.C4_qk_near_init_max [PROPOSED]")


def c4_threshold_rows(sg: xr.Dataset, c: Checks) -> list[Claim]:
    """Stages II-IV' by their thresholds at fixed times (spec Sec. 10 C4), every seed."""
    agree = at(sg, "qk_noise_sign_agreement", c.C4_qk_agreement_by_t)
    major = at(sg, "query_signal_majority", c.C4_majority_by_t)
    s21, s11 = at(sg, "s21", c.C4_s21_by_t).mean("sample"), at(sg, "s11", c.C4_s11_at_t).mean("sample")
    key_align = at(sg, "key_noise_alignment", c.C4_key_noise_align_by_t)
    lo, hi = c.C4_s11_range
    source = f"{SPEC} Sec. 6 (stage mechanisms) and Sec. 10 C4 (thresholds)"
    depends = f"{DATA}; {MODEL}; checks thresholds [PROPOSED]"
    rows = [
        ("C4.II stage II: query and key noise align in sign", agree >= c.C4_qk_agreement_min,
         f"Q/K noise sign agreement >= {c.C4_qk_agreement_min:g} at t = {c.C4_qk_agreement_by_t}",
         f"agreement {seed_list(agree)}"),
        ("C4.III stage III: majority voting fixes the query-signal sign", major >= c.C4_majority_min,
         f"query-signal majority agreement >= {c.C4_majority_min:g} at t = {c.C4_majority_by_t}",
         f"agreement {seed_list(major)}"),
        ("C4.IV stage IV: noise->signal softmax output s21 decays, s11 stays near 1/2",
         (s21 <= c.C4_s21_max) & (s11 >= lo) & (s11 <= hi),
         f"mean s21 <= {c.C4_s21_max:g} at t = {c.C4_s21_by_t} and s11 in [{lo:g}, {hi:g}] at t = {c.C4_s11_at_t}",
         f"s21 {seed_list(s21)}; s11 {seed_list(s11)}"),
        ("C4.IV' stage IV: key noise flips to the query-signal sign", key_align >= c.C4_key_noise_align_min,
         f"key-noise alignment to sign(qsig) >= {c.C4_key_noise_align_min:g} at t = {c.C4_key_noise_align_by_t}",
         f"alignment {seed_list(key_align)}"),
    ]
    return [Claim(name, "every seed: " + expected, measured, bool(ok.all()), source=source, depends_on=depends,
                  fails_if="a seed below the threshold at that time") for name, ok, expected, measured in rows]


def stage_onsets(sg: xr.Dataset, fraction: float) -> dict[str, np.ndarray]:
    """Per seed, the onset of each stage: I = the first step mean value noise moves; II-IV = the first step each
    stage statistic has covered `fraction` of its way from its t = 0 value to its completed value."""
    steps, out = sg.step.values, {"I": np.ones(sg.sizes["seed"])}
    for stage, (name, end) in STAGES.items():
        values = sg[name].mean([d for d in sg[name].dims if d not in ("seed", "step")]).transpose("seed", "step")
        out[stage] = np.array([onset(steps, v, end, fraction) for v in values.values])
    return out


def c4_stages_in_order(sg: xr.Dataset, c: Checks) -> Claim:
    times = stage_onsets(sg, c.C4_onset_fraction)
    stacked = np.stack([times[s] for s in ("I", "II", "III", "IV")])             # (4, seed)
    ok = bool(np.isfinite(stacked).all() and (np.diff(stacked, axis=0) >= 0).all())
    return Claim(
        "C4 stages appear in order (onsets)",
        f"every seed: onset t_I <= t_II <= t_III <= t_IV, the onset being the first step a stage's statistic has "
        f"covered {c.C4_onset_fraction:g} of its way from t = 0 to completion (II: Q/K noise sign agreement -> 1, "
        "III: key signal opposite to query signal -> 1, IV: s21 -> 0; I: value noise moves at t = 1)",
        "; ".join(f"t_{s} {', '.join(fmt(v) for v in times[s])}" for s in ("II", "III", "IV")), ok,
        fails_if="in some seed a later stage starts before an earlier one (e.g. s21 starts to fall before the key "
                 "signal turns opposite)",
        source=f"{SPEC} 'What the study must show' 3: 'The SignGD trajectory passes through four stages, in order'",
        depends_on=f"{DATA}; {MODEL}; checks.C4_onset_fraction [PROPOSED]")


def c5_adam_like_signgd(ds: xr.Dataset, c: Checks) -> Claim:
    T = c.C5_time
    adam_train, sign_train = (at(ds, "train_loss", T).sel(optimizer=o) for o in ("adam", "signgd"))
    adam_test = final(ds, "test_loss").sel(optimizer="adam")
    adam_q = at(ds, "query_noise_alignment", T).sel(optimizer="adam")
    sign_q = final(ds, "query_noise_alignment").sel(optimizer="signgd")
    ok = bool(((adam_train > sign_train) & (adam_test >= c.C5_adam_test_loss_min)
               & (adam_q < c.C5_adam_query_align_max) & (sign_q >= c.C5_signgd_query_align_min)).all())
    return Claim(
        "C5 Adam behaves like SignGD; its negative query noise does not flip while SignGD's does",
        f"every seed: at t = {T} Adam train loss > SignGD's and Adam query-noise alignment < "
        f"{c.C5_adam_query_align_max:g}; final Adam test loss >= {c.C5_adam_test_loss_min:g}; final SignGD "
        f"query-noise alignment >= {c.C5_signgd_query_align_min:g}",
        f"train loss Adam {seed_list(adam_train)} vs SignGD {seed_list(sign_train)}; Adam test loss "
        f"{seed_list(adam_test)}; query alignment Adam {seed_list(adam_q)}, SignGD final {seed_list(sign_q)}", ok,
        fails_if="a seed where Adam trains as fast as SignGD, generalizes, or flips its query noise",
        source=f"{SPEC} 'What the study must show' 4: 'Adam behaves like SignGD: same poor generalization, slower "
               "(sublinear) training convergence, and its negative query noise does not flip sign'",
        depends_on=f"{DATA}; {MODEL}; optimizers.adam (lr 1e-4, eps 1e-8) [PROPOSED]")


def c6_not_only_noise(ds: xr.Dataset, c: Checks) -> list[Claim]:
    out = []
    for snr in ds.snr.values:
        sub = ds.sel(snr=snr)
        sign_loss, gd_loss = (final(sub, "test_loss").sel(optimizer="signgd"),
                              final(sub, "test_loss").sel(optimizer="gd"))
        gd_acc = final(sub, "test_acc").sel(optimizer="gd")
        ratio = sign_loss / gd_loss
        ok = bool(((ratio >= c.C6_loss_ratio_min) & (gd_acc >= c.C6_gd_test_acc_min)).all())
        out.append(Claim(
            f"C6 SNR {snr:g}: SignGD fails to generalize where GD succeeds",
            f"every seed: SignGD test loss >= {c.C6_loss_ratio_min:g} x GD test loss and GD test acc >= "
            f"{c.C6_gd_test_acc_min:g}",
            f"SignGD / GD test loss {seed_list(ratio)} (SignGD {seed_list(sign_loss)}); GD acc {seed_list(gd_acc)}",
            ok, fails_if="a seed where SignGD's test loss comes within the ratio of GD's, or GD does not generalize",
            source=f"{SPEC} 'What the study must show' 5: 'GD on the same data generalizes (~100 % test accuracy) "
                   "at SNR 0.5 and 1.0; SignGD does not'",
            depends_on=f"{DATA}; SNR = ||mu||/(sigma_p sqrt(s)) [PROPOSED]"))
    return out


def c7_noisy_digits(ds: xr.Dataset, c: Checks) -> list[Claim]:
    worst = final(ds, "train_loss").max(("optimizer", "sigma_p"))                    # (seed,)
    acc = final(ds, "test_acc")                                                      # (sigma_p, optimizer, seed)
    lo, hi = ds.sigma_p.values.min(), ds.sigma_p.values.max()
    drop = acc.sel(sigma_p=lo) - acc.sel(sigma_p=hi)                                 # (optimizer, seed)
    margin = c.C7_acc_drop_margin
    faster = [(drop.sel(optimizer=o) >= drop.sel(optimizer="gd") + margin) for o in ("signgd", "adam")
              if o in ds.optimizer.values]
    source = f"{SPEC} 'What the study must show' 6 and Sec. 8 (noisy-MNIST recipe [PROPOSED])"
    depends = "data.digits: sklearn 8x8 digits stand-in, classes 0 vs 1, sigma_p grid [PROPOSED, untuned]"
    return [
        Claim("C7 noisy digits: every optimizer fits the training set",
              f"every seed: final train loss <= {c.C7_train_loss_max:g} for every optimizer and sigma_p",
              f"max final train loss {seed_list(worst)}", bool((worst <= c.C7_train_loss_max).all()),
              fails_if="an optimizer that does not fit the training set at some sigma_p", source=source,
              depends_on=depends),
        Claim("C7 noisy digits: SignGD and Adam test accuracy drops faster with noise than GD's",
              f"every seed: test-acc drop from sigma_p={lo:g} to {hi:g} exceeds GD's by >= {margin:g} for SignGD "
              "and Adam",
              "; ".join(f"{o!s} drop {seed_list(drop.sel(optimizer=o))}" for o in ds.optimizer.values),
              bool(faster) and all(bool(f.all()) for f in faster),
              fails_if="a seed where SignGD's or Adam's accuracy drop is within the margin of GD's",
              source=source, depends_on=depends),
    ]


def claims(experiments: dict[str, xr.Dataset], settings: Settings) -> list[Claim]:
    c, out = settings.checks, []
    if "dynamics" in experiments:
        ds = experiments["dynamics"]
        sg = ds.sel(optimizer="signgd").dropna("step", subset=["train_loss"])
        out += [c1_linear_rate(ds, c), c2_signgd_poor_generalization(ds, c), c3_gd_generalizes(ds, c),
                c4_stage_one(sg, c, settings.figures.early_horizon), *c4_threshold_rows(sg, c),
                c4_stages_in_order(sg, c), c5_adam_like_signgd(ds, c)]
    if "snr" in experiments:
        out += c6_not_only_noise(experiments["snr"], c)
    if "digits" in experiments:
        out += c7_noisy_digits(experiments["digits"], c)
    return out
