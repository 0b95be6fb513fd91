"""What the signgd study runs and produces (torch-free: the Snakefile imports it to build the DAG).

An experiment is a product of data sweeps (any data key, or `snr`, which sets sigma_p through the
SNR definition) and a list of optimizers; each point is one cell whose seeds train as one batch.
"""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from ...config import deep_merge, load_yaml
from ...errors import ConfigError
from ...optim import OPTIMIZERS
from ..base import CellSpec, DatasetSpec, FigureSpec, StudyPlan, label

RECON = "[RECONSTRUCTED data model and defaults; see papers/signgd.md]"

FIGURES = {
    "fig1_signgd_dynamics": FigureSpec(
        "fig1_signgd_dynamics", ("dynamics",),
        "Fig. 1: SignGD dynamics on synthetic data. (a) key noise and (b) mean value noise over the first steps "
        "(stage I: value noise moves linearly, key noise stays near init); (c) softmax outputs s11, s21 "
        "(stage IV: s21 decays to ~0 while s11 stays near 1/2); (d) query noise, key noise and query signal of one "
        "neuron, dotted = samples with positive query noise at the split time, solid = negative (neuron_index 'auto': "
        "the first neuron whose final query signal is positive). " + RECON),
    "fig2_signgd_vs_adam": FigureSpec(
        "fig2_signgd_vs_adam", ("dynamics",),
        "Fig. 2a-c: panel (d) of Fig. 1 for SignGD and for Adam, same neuron and seed: noise features of the "
        "opposite sign to the query signal (black) flip under SignGD and do not under Adam; training loss on a log "
        "axis (SignGD linear rate, Adam slower). " + RECON),
    "fig2d_snr_test_loss": FigureSpec(
        "fig2d_snr_test_loss", ("snr",),
        "Fig. 2d: test loss (log axis) and test accuracy at SNR 0.5 and 1.0 (SNR = ||mu|| / (sigma_p sqrt(s)), "
        "[PROPOSED]). GD's test loss falls by orders of magnitude on the same data, while SignGD's and Adam's stay "
        "near log 2 (their test accuracy can still rise, e.g. to ~0.95 at SNR 1): poor generalization is not "
        "solely due to data noise. Bands: +-1 std over seeds. " + RECON),
    "fig_noisy_digits": FigureSpec(
        "fig_noisy_digits", ("digits",),
        "Noisy-digits stand-in for noisy MNIST [PROPOSED]: scikit-learn 8x8 digits as the signal token plus a "
        "sparse Gaussian noise token of std sigma_p. Final train loss, test loss and test accuracy against "
        "sigma_p, and test accuracy over training at the largest sigma_p. Expected: all fit the training set; "
        "SignGD/Adam test accuracy degrades with noise faster than GD's."),
}


def sigma_p_for_snr(snr: float, mu_norm: float, s: int) -> float:
    """SNR := ||mu||_2 / (sigma_p sqrt(s))  (spec Sec. 2, [PROPOSED] 'l2_sparse')."""
    return mu_norm / (snr * np.sqrt(s))


def _data_settings(section: dict, experiment: dict, point: dict) -> dict:
    kind = experiment["kind"]
    base = section["data"] if kind == "synthetic" else section["digits"]
    data = deep_merge(base, experiment.get("data", {}))
    for key, value in point.items():
        if key == "snr":
            data["sigma_p"] = float(sigma_p_for_snr(value, data["mu_norm"], data["s"]))
        else:
            data[key] = value
    return {"kind": kind, "seeds": list(section["seeds"]), **data}


def _dataset_name(kind: str, point: dict) -> str:
    return "__".join([kind] + [f"{k}-{label(v)}" for k, v in point.items()])


def _optimizer_settings(section: dict, experiment: dict, name: str) -> dict:
    opt = deep_merge(section["optimizers"][name], experiment.get("overrides", {}).get(name, {}))
    opt.setdefault("rule", name)
    if experiment.get("steps"):
        opt["steps"] = experiment["steps"]
    return opt


def plan(section: dict, top: dict) -> StudyPlan:
    datasets, experiments, axes = {}, {}, {}
    for exp_name, experiment in section["experiments"].items():
        sweep = experiment.get("sweep", {})
        axes[exp_name] = tuple(sweep) + ("optimizer",)
        cells = []
        for values in itertools.product(*sweep.values()):
            point = dict(zip(sweep, values))
            ds_name = _dataset_name(experiment["kind"], point)
            datasets[ds_name] = DatasetSpec(ds_name, _data_settings(section, experiment, point))
            for opt_name in experiment["optimizers"]:
                settings = {"data": datasets[ds_name].settings, "model": section["model"],
                            "optimizer": _optimizer_settings(section, experiment, opt_name),
                            "log": section["log"], "features": experiment["kind"] == "synthetic",
                            "dtype": top["dtype"]}
                cells.append(CellSpec(exp_name, {**point, "optimizer": opt_name}, ds_name, settings))
        experiments[exp_name] = cells
    figures = {name: spec for name, spec in FIGURES.items() if set(spec.experiments) <= set(experiments)}
    return StudyPlan(datasets=datasets, experiments=experiments, axes=axes, figures=figures)


SYNTHETIC_SWEEP_KEYS = {"snr", "n", "d", "s", "sigma_p", "mu_norm", "n_test", "label_flip_prob"}
DIGITS_SWEEP_KEYS = {"sigma_p", "n_train", "noise_dim", "noise_sparsity_s"}


def schema() -> dict:
    s = load_yaml(Path(__file__).with_name("schema.yaml"))
    s["$defs"]["optimizer"]["properties"]["rule"] = {"enum": sorted(OPTIMIZERS)}
    return s


def check_config(section: dict) -> None:
    """Cross-references the schema cannot express: optimizer names, sweep keys, figure needs."""
    for name, opt in section["optimizers"].items():
        rule = opt.get("rule", name)
        if rule not in OPTIMIZERS:
            raise ConfigError(f"config error: signgd.optimizers.{name}: unknown optimizer rule {rule!r}; "
                              f"known: {', '.join(sorted(OPTIMIZERS))} (set 'rule:' for a custom name)")
    for exp_name, exp in section["experiments"].items():
        where = f"signgd.experiments.{exp_name}"
        for opt in exp["optimizers"]:
            if opt not in section["optimizers"]:
                raise ConfigError(f"config error: {where}.optimizers: unknown optimizer {opt!r}; "
                                  f"defined in signgd.optimizers: {', '.join(section['optimizers'])}")
        allowed = SYNTHETIC_SWEEP_KEYS if exp["kind"] == "synthetic" else DIGITS_SWEEP_KEYS
        for key in exp.get("sweep", {}):
            if key not in allowed:
                raise ConfigError(f"config error: {where}.sweep: unknown key {key!r}; allowed: {', '.join(sorted(allowed))}")
        _check_points(section, exp_name, exp)
        _check_optimizer_overrides(section, exp_name, exp)


def _check_optimizer_overrides(section: dict, exp_name: str, exp: dict) -> None:
    """An experiment's per-optimizer overrides must still satisfy the optimizer schema (lr > 0, ...)."""
    from ...config import validate_schema

    defs = schema()["$defs"]
    for name in exp["optimizers"]:
        validate_schema(_optimizer_settings(section, exp, name), {"$defs": defs, **defs["optimizer"]},
                        prefix=f"signgd.experiments.{exp_name}.overrides.{name}.")


def _check_points(section: dict, exp_name: str, exp: dict) -> None:
    """Every sweep point's resolved data block must satisfy the data schema (e.g. n >= 1)."""
    from ...config import validate_schema

    defs = schema()["$defs"]
    data_schema = {"$defs": defs, **defs["synthetic_data" if exp["kind"] == "synthetic" else "digits_data"]}
    sweep = exp.get("sweep", {})
    for values in itertools.product(*sweep.values()):
        point = dict(zip(sweep, values))
        if "snr" in point and not (isinstance(point["snr"], (int, float)) and point["snr"] > 0):
            raise ConfigError(f"config error: signgd.experiments.{exp_name}.sweep.snr: {point['snr']!r} must be > 0")
        settings = _data_settings(section, exp, point)
        data = {k: v for k, v in settings.items() if k not in ("kind", "seeds")}
        validate_schema(data, data_schema, prefix=f"signgd.experiments.{exp_name} (point {point}) data.")

