"""Colours and labels of the precond figures. An optimizer a figure does not know gets the next spare colour
and its config name as label, so any registry optimizer added by YAML is drawn."""
from __future__ import annotations

COLORS = {"alg_spectral": "#D55E00", "alg_random": "#AA4499", "sgd": "#0072B2", "gd": "#009E73",
          "adam": "#997700"}
LABELS = {"alg_spectral": "Algorithm 1 (spectral init)", "alg_random": "Algorithm 1 (N(0,1) init)",
          "sgd": "SGD (N(0,1) init)", "gd": "full-batch GD", "adam": "Adam"}
ABLATION_COLORS = {"alg_random": "black", "alg_no_precond": "#0072B2", "alg_no_reg": "#997700",
                   "alg_no_renorm": "#009E73"}
ABLATION_LABELS = {"alg_random": "full (Algorithm 1)", "alg_no_precond": "no preconditioner",
                   "alg_no_reg": "no regularizer (lambda = 0)", "alg_no_renorm": "no renormalization"}
def palette(names: list[str], known: dict[str, str]) -> dict[str, str]:
    """A colour per name: its known colour, else the next spare palette colour that no drawn known name uses."""
    from ...figures.common import colors_for

    return colors_for(names, known)


def label(name: str, known: dict[str, str] = LABELS) -> str:
    return known.get(name, name)


def ordered(names, present) -> list[str]:
    """`names` (the config's order) that are present in a dataset's optimizer axis."""
    have = {str(p) for p in present}
    return [n for n in names if n in have]
