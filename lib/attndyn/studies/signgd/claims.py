"""Claims of Li et al. (2024) checked by numbers (spec Sec. 10; thresholds are config keys `checks`)."""
from __future__ import annotations

import numpy as np
import xarray as xr

from ...claims import Claim, first_step_reaching, fmt, linear_fit
from ...results import at, final
from .settings import Checks, Settings


def c1_linear_rate(ds: xr.Dataset, c: Checks) -> Claim:
    loss = ds.train_loss.sel(optimizer="signgd")
    T = c.C1_time
    worst = float(at(ds, "train_loss", T).sel(optimizer="signgd").max())
    half = loss.sel(step=(loss.step >= T / 2) & (loss.step <= T)).mean("seed")
    slope, _, r2 = linear_fit(half.step.values, np.log10(half.values))
    ok = worst <= c.C1_train_loss_max and r2 >= c.C1_loglinear_r2_min
    return Claim("C1 SignGD training loss decays at a linear (geometric) rate",
                 f"train loss at t={T} <= {c.C1_train_loss_max:g} in every seed; log10-linear fit on "
                 f"t in [{T // 2}, {T}] has R^2 >= {c.C1_loglinear_r2_min:g}",
                 f"max train loss {fmt(worst)}; R^2 {fmt(r2)}; slope {fmt(slope)} decades/step", ok)


def c2_signgd_poor_generalization(ds: xr.Dataset, c: Checks) -> Claim:
    loss = float(final(ds, "test_loss").sel(optimizer="signgd").mean())
    acc = float(final(ds, "test_acc").sel(optimizer="signgd").mean())
    ok = loss >= c.C2_signgd_test_loss_min and acc <= c.C2_signgd_test_acc_max
    return Claim("C2 SignGD test loss stays at a constant level (poor generalization)",
                 f"final SignGD test loss >= {c.C2_signgd_test_loss_min:g} and test acc <= "
                 f"{c.C2_signgd_test_acc_max:g} (mean over seeds)",
                 f"test loss {fmt(loss)}; test acc {fmt(acc)}", ok)


def c3_gd_generalizes(ds: xr.Dataset, c: Checks) -> Claim:
    loss = float(final(ds, "test_loss").sel(optimizer="gd").mean())
    acc = float(final(ds, "test_acc").sel(optimizer="gd").mean())
    ok = acc >= c.C3_gd_test_acc_min and loss <= c.C3_gd_test_loss_max
    return Claim("C3 GD generalizes on the same data",
                 f"final GD test acc >= {c.C3_gd_test_acc_min:g} and test loss <= {c.C3_gd_test_loss_max:g}",
                 f"test acc {fmt(acc)}; test loss {fmt(loss)}", ok)


def _stage_times(sg: xr.Dataset, c: Checks) -> dict[str, float]:
    """First logged step at which each stage's mechanism is in place (seed means):
    II  Q/K noise signs agree;  III key signal opposite to query signal (this sign pattern makes
    logit_21 negative, spec Sec. 6);  IV  s21 below its threshold."""
    steps = sg.step.values
    return {
        "II": first_step_reaching(steps, sg.qk_noise_sign_agreement.mean("seed").values, c.C4_qk_agreement_min),
        "III": first_step_reaching(steps, sg.key_signal_opposite.mean("seed").values, c.C4_majority_min),
        "IV": first_step_reaching(steps, sg.s21.mean(("seed", "sample")).values, c.C4_s21_max, above=False),
    }


def c4_four_stages(ds: xr.Dataset, c: Checks) -> list[Claim]:
    sg = ds.sel(optimizer="signgd").dropna("step", subset=["train_loss"])
    early = sg.mean_value_noise.mean(("seed", "sample")).sel(step=slice(1, 10))
    slope, _, r2_value = linear_fit(early.step.values, early.values)
    agree = float(at(sg, "qk_noise_sign_agreement", c.C4_qk_agreement_by_t).mean())
    major = float(at(sg, "query_signal_majority", c.C4_majority_by_t).mean())
    s21 = float(at(sg, "s21", c.C4_s21_by_t).mean())
    s11 = float(at(sg, "s11", c.C4_s11_at_t).mean())
    key_align = float(at(sg, "key_noise_alignment", c.C4_key_noise_align_by_t).mean())
    lo, hi = c.C4_s11_range
    times = _stage_times(sg, c)
    ordered = all(np.isfinite(list(times.values()))) and times["II"] <= times["III"] <= times["IV"]
    return [
        Claim("C4.I stage I: mean value noise grows linearly from t = 1",
              "linear fit of mean value noise on t = 1..10 has R^2 >= 0.99 and positive slope",
              f"slope {fmt(slope)} per step; R^2 {fmt(r2_value)}", r2_value >= 0.99 and slope > 0),
        Claim("C4.II stage II: query and key noise align in sign",
              f"Q/K noise sign agreement >= {c.C4_qk_agreement_min:g} at t = {c.C4_qk_agreement_by_t}",
              f"agreement {fmt(agree)}", agree >= c.C4_qk_agreement_min),
        Claim("C4.III stage III: majority voting fixes the query-signal sign",
              f"query-signal majority agreement >= {c.C4_majority_min:g} at t = {c.C4_majority_by_t}",
              f"agreement {fmt(major)}", major >= c.C4_majority_min),
        Claim("C4.IV stage IV: noise->signal softmax output s21 decays, s11 stays near 1/2",
              f"mean s21 <= {c.C4_s21_max:g} at t = {c.C4_s21_by_t} and s11 in [{lo:g}, {hi:g}] at t = {c.C4_s11_at_t}",
              f"s21 {fmt(s21)}; s11 {fmt(s11)}", s21 <= c.C4_s21_max and lo <= s11 <= hi),
        Claim("C4.IV' stage IV: key noise flips to the query-signal sign",
              f"key-noise alignment to sign(qsig) >= {c.C4_key_noise_align_min:g} at t = {c.C4_key_noise_align_by_t}",
              f"alignment {fmt(key_align)}", key_align >= c.C4_key_noise_align_min),
        Claim("C4 stages appear in order",
              f"first step with Q/K noise sign agreement >= {c.C4_qk_agreement_min:g} <= first step with key "
              f"signal opposite to query signal in >= {c.C4_majority_min:g} of neurons <= first step with "
              f"s21 <= {c.C4_s21_max:g} (seed means)",
              f"t_II {fmt(times['II'])}; t_III {fmt(times['III'])}; t_IV {fmt(times['IV'])}", bool(ordered)),
    ]


def c5_adam_like_signgd(ds: xr.Dataset, c: Checks) -> Claim:
    T = c.C5_time
    adam_train = float(at(ds, "train_loss", T).sel(optimizer="adam").mean())
    sign_train = float(at(ds, "train_loss", T).sel(optimizer="signgd").mean())
    adam_test = float(final(ds, "test_loss").sel(optimizer="adam").mean())
    adam_q = float(at(ds, "query_noise_alignment", T).sel(optimizer="adam").mean())
    sign_q = float(final(ds, "query_noise_alignment").sel(optimizer="signgd").mean())
    ok = (adam_train > sign_train and adam_test >= c.C5_adam_test_loss_min
          and adam_q < c.C5_adam_query_align_max and sign_q >= c.C5_signgd_query_align_min)
    return Claim("C5 Adam behaves like SignGD; its negative query noise does not flip while SignGD's does",
                 f"at t = {T}: Adam train loss > SignGD's, Adam query-noise alignment < {c.C5_adam_query_align_max:g}; "
                 f"final Adam test loss >= {c.C5_adam_test_loss_min:g}; final SignGD query-noise alignment >= "
                 f"{c.C5_signgd_query_align_min:g}",
                 f"train loss Adam {fmt(adam_train)} vs SignGD {fmt(sign_train)}; Adam test loss {fmt(adam_test)}; "
                 f"query alignment Adam {fmt(adam_q)}, SignGD final {fmt(sign_q)}", ok)


def c6_not_only_noise(ds: xr.Dataset, c: Checks) -> list[Claim]:
    out = []
    for snr in ds.snr.values:
        sub = ds.sel(snr=snr)
        sign_loss = float(final(sub, "test_loss").sel(optimizer="signgd").mean())
        gd_loss = float(final(sub, "test_loss").sel(optimizer="gd").mean())
        gd_acc = float(final(sub, "test_acc").sel(optimizer="gd").mean())
        ratio = sign_loss / gd_loss if gd_loss > 0 else float("inf")
        ok = ratio >= c.C6_loss_ratio_min and gd_acc >= c.C6_gd_test_acc_min
        out.append(Claim(f"C6 SNR {snr:g}: SignGD fails to generalize where GD succeeds",
                         f"SignGD test loss >= {c.C6_loss_ratio_min:g} x GD test loss and GD test acc >= "
                         f"{c.C6_gd_test_acc_min:g}",
                         f"SignGD {fmt(sign_loss)} / GD {fmt(gd_loss)} = {fmt(ratio)}; GD acc {fmt(gd_acc)}", ok))
    return out


def c7_noisy_digits(ds: xr.Dataset, c: Checks) -> list[Claim]:
    final_train = final(ds, "train_loss").mean("seed")
    worst = float(final_train.max())
    acc = final(ds, "test_acc").mean("seed")                       # (sigma_p, optimizer)
    lo, hi = ds.sigma_p.values.min(), ds.sigma_p.values.max()
    drop = {str(o): float(acc.sel(optimizer=o, sigma_p=lo) - acc.sel(optimizer=o, sigma_p=hi))
            for o in ds.optimizer.values}
    margin = c.C7_acc_drop_margin
    ok_drop = all(drop[o] >= drop["gd"] + margin for o in ("signgd", "adam") if o in drop)
    return [
        Claim("C7 noisy digits: every optimizer fits the training set",
              f"final train loss <= {c.C7_train_loss_max:g} for every optimizer and sigma_p (seed mean)",
              f"max final train loss {fmt(worst)}", worst <= c.C7_train_loss_max),
        Claim("C7 noisy digits: SignGD and Adam test accuracy drops faster with noise than GD's",
              f"test-acc drop from sigma_p={lo:g} to {hi:g} exceeds GD's by >= {margin:g} for SignGD and Adam",
              "; ".join(f"{o} drop {fmt(v)}" for o, v in drop.items()), ok_drop),
    ]


def claims(experiments: dict[str, xr.Dataset], settings: Settings) -> list[Claim]:
    c = settings.checks
    out = []
    if "dynamics" in experiments:
        ds = experiments["dynamics"]
        out += [c1_linear_rate(ds, c), c2_signgd_poor_generalization(ds, c), c3_gd_generalizes(ds, c)]
        out += c4_four_stages(ds, c) + [c5_adam_like_signgd(ds, c)]
    if "snr" in experiments:
        out += c6_not_only_noise(experiments["snr"], c)
    if "digits" in experiments:
        out += c7_noisy_digits(experiments["digits"], c)
    return out
