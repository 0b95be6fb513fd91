"""What the multihead study runs and produces (torch-free: the Snakefile imports it to build the DAG).

Two experiments, one per data model (`dm1`, `planted`); each is the product heads x optimizers, and
every (H, optimizer) point is one cell whose trials (seeds) train as one batch. The step size of a
cell is computed here from H: `lr` is constant in H, `lr0` means eta = lr0 * sqrt(H) (spec Sec. 4).
"""
from __future__ import annotations

import math
from pathlib import Path

from ...config import load_yaml
from ...errors import ConfigError
from ...optim import OPTIMIZERS
from ..base import CellSpec, DatasetSpec, FigureSpec, StudyPlan

RECON = "Model, data details and step sizes [RECONSTRUCTED/PROPOSED]; see papers/multihead.md."

FIGURES = {
    "fig2_dm1_gd_constant": (FigureSpec(
        "fig2_dm1_gd_constant", ("dm1",),
        "Fig. 2: DM1, GD with constant step eta = 1. Train/test loss, avg ||W|| (1/H average), avg ||U|| "
        "(1/sqrt(H) average) and attn-score (softmax score on relevant tokens, averaged over train samples and "
        "heads) per number of heads H. Overparameterization slows down GD with constant step; dashed line: "
        "O(1/t) reference. " + RECON), ("gd",)),
    "fig3_dm1_sqrtH_adam": (FigureSpec(
        "fig3_dm1_sqrtH_adam", ("dm1",),
        "Fig. 3: DM1, (top) GD with eta = lr0 sqrt(H); (bottom) Adam with constant step. Same quantities as "
        "Fig. 2. Overparameterization speeds up train and test loss convergence in both. " + RECON),
        ("gd_sqrtH", "adam")),
    "fig4_planted_gd_sqrtH": (FigureSpec(
        "fig4_planted_gd_sqrtH", ("planted",),
        "Fig. 4: planted model, GD with eta = lr0 sqrt(H). Train/test loss, avg ||W||, avg ||U||, and the "
        "alignment cos(concat W_h, concat W*) and cos(concat U_h, concat U*) with the planted head repeated "
        "H times, per H. " + RECON), ("gd_sqrtH",)),
    "fig5_planted_momentum_adam": (FigureSpec(
        "fig5_planted_momentum_adam", ("planted",),
        "Fig. 5: planted model, (top) GD + heavy-ball momentum with eta = lr0 sqrt(H); (bottom) Adam with "
        "constant step. Same quantities as Fig. 4. Overparameterization speeds up convergence in both. " + RECON),
        ("momentum", "adam")),
}
FIGURE_OPTIMIZERS = {name: opts for name, (_, opts) in FIGURES.items()}
DATA_KEYS = {"dm1": ("T", "d", "zeta", "M", "S", "sigma", "n_train", "n_test"),
             "planted": ("T", "d", "beta", "U_star_std", "label_flip_prob", "n_train", "n_test")}


def step_size(opt: dict, heads: int) -> float:
    """eta = lr (constant in H) or lr0 * sqrt(H) (spec Sec. 4)."""
    return float(opt["lr"]) if "lr" in opt else float(opt["lr0"]) * math.sqrt(heads)


def optimizer_settings(section: dict, name: str, heads: int) -> dict:
    opt = dict(section["opt"][name])
    final = {k: v for k, v in opt.items() if k not in ("lr", "lr0")}
    final.setdefault("rule", name)
    return {**final, "lr": step_size(opt, heads), "lr_rule": "lr0*sqrt(H)" if "lr0" in opt else "constant"}


def data_settings(section: dict, kind: str) -> dict:
    block = section[kind]
    out = {"kind": kind, "seeds": list(section["trials"]), **{k: block[k] for k in DATA_KEYS[kind]}}
    if kind == "planted":
        out["pooling"] = section["model"]["pooling"]          # the teacher uses the student's pooling
    return out


def cell_settings(section: dict, top: dict, kind: str, heads: int, opt_name: str, data: dict) -> dict:
    init = {"kind": section["init"], "random_std": section["init_random_std"],
            "one_step_lr": section["init_one_step_lr"]}
    steps = section[kind].get("iters_by_optimizer", {}).get(opt_name, section[kind]["iters"])
    return {"data": data, "heads": heads, "steps": steps, "model": section["model"],
            "init": init, "optimizer": optimizer_settings(section, opt_name, heads), "log": section["log"],
            "dtype": top["dtype"]}


def plan(section: dict, top: dict) -> StudyPlan:
    datasets, experiments, axes = {}, {}, {}
    for kind in ("dm1", "planted"):
        if not section[kind]["optimizers"]:
            continue
        datasets[kind] = DatasetSpec(kind, data_settings(section, kind))
        axes[kind] = ("heads", "optimizer")
        experiments[kind] = [CellSpec(kind, {"heads": H, "optimizer": o}, kind,
                                      cell_settings(section, top, kind, H, o, datasets[kind].settings))
                             for H in section["heads"] for o in section[kind]["optimizers"]]
    figures = {name: spec for name, (spec, opts) in FIGURES.items()
               if spec.experiments[0] in experiments and set(opts) <= set(section[spec.experiments[0]]["optimizers"])}
    return StudyPlan(datasets=datasets, experiments=experiments, axes=axes, figures=figures)


def schema() -> dict:
    s = load_yaml(Path(__file__).with_name("schema.yaml"))
    s["$defs"]["optimizer"]["properties"]["rule"] = {"enum": sorted(OPTIMIZERS)}
    return s


def check_config(section: dict) -> None:
    """Cross-references the schema cannot express (one-line ConfigError naming the key)."""
    for name, opt in section["opt"].items():
        rule = opt.get("rule", name)
        if rule not in OPTIMIZERS:
            raise ConfigError(f"config error: multihead.opt.{name}.rule: unknown optimizer {rule!r}; "
                              f"known: {', '.join(sorted(OPTIMIZERS))}")
        if ("lr" in opt) == ("lr0" in opt):
            raise ConfigError(f"config error: multihead.opt.{name}: give exactly one of 'lr' (constant in H) "
                              f"or 'lr0' (eta = lr0 * sqrt(H))")
    for kind in ("dm1", "planted"):
        for name in section[kind]["optimizers"]:
            if name not in section["opt"]:
                raise ConfigError(f"config error: multihead.{kind}.optimizers: unknown optimizer {name!r}; "
                                  f"defined in multihead.opt: {', '.join(section['opt'])}")
        for name in section[kind].get("iters_by_optimizer", {}):
            if name not in section[kind]["optimizers"]:
                raise ConfigError(f"config error: multihead.{kind}.iters_by_optimizer: {name!r} is not in "
                                  f"multihead.{kind}.optimizers ({', '.join(section[kind]['optimizers'])})")
    if section["dm1"]["d"] < section["dm1"]["M"] + 2:
        raise ConfigError(f"config error: multihead.dm1.d: must be >= M + 2 = {section['dm1']['M'] + 2} "
                          "(orthogonal cluster means)")
