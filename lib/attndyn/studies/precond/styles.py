"""Colours and labels of the precond figures. An optimizer a figure does not know gets the next spare colour
and its config name as label, so any registry optimizer added by YAML is drawn."""
from __future__ import annotations

from itertools import cycle

COLORS = {"alg_spectral": "tab:red", "alg_random": "tab:purple", "sgd": "tab:blue", "gd": "tab:green",
          "adam": "tab:orange"}
LABELS = {"alg_spectral": "Algorithm 1 (spectral init)", "alg_random": "Algorithm 1 (N(0,1) init)",
          "sgd": "SGD (N(0,1) init)", "gd": "full-batch GD", "adam": "Adam"}
ABLATION_COLORS = {"alg_random": "black", "alg_no_precond": "tab:blue", "alg_no_reg": "tab:orange",
                   "alg_no_renorm": "tab:green"}
ABLATION_LABELS = {"alg_random": "full (Algorithm 1)", "alg_no_precond": "no preconditioner",
                   "alg_no_reg": "no regularizer (lambda = 0)", "alg_no_renorm": "no renormalization"}
SPARE = ("tab:brown", "tab:pink", "tab:olive", "tab:cyan", "tab:gray", "tab:red", "tab:purple", "tab:blue",
         "tab:green", "tab:orange")


def palette(names: list[str], known: dict[str, str]) -> dict[str, str]:
    """A colour per name: its known colour, else the next spare colour that no drawn known name uses."""
    taken = {known[n] for n in names if n in known}
    spare = cycle([c for c in SPARE if c not in taken] or list(SPARE))
    return {n: known[n] if n in known else next(spare) for n in names}


def label(name: str, known: dict[str, str] = LABELS) -> str:
    return known.get(name, name)


def ordered(names, present) -> list[str]:
    """`names` (the config's order) that are present in a dataset's optimizer axis."""
    have = {str(p) for p in present}
    return [n for n in names if n in have]
