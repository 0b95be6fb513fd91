"""Study `multihead`: optimization and generalization of multi-head attention (Deora et al., arXiv 2310.12680).

Planning is torch-free (the Snakefile imports it); the heavy parts are imported when a job runs.
"""
from __future__ import annotations

from .plan import check_config, plan, schema

__all__ = ["schema", "check_config", "plan", "make_dataset", "train_cell", "make_figure", "claims"]


def make_dataset(spec, top: dict) -> dict:
    from .data import make_dataset as make

    return make(spec.settings)


def train_cell(cell, data: dict, ctx):
    from .runner import train_cell as train

    return train(cell, data, ctx)


def make_figure(name: str, experiments: dict, section: dict, png, pdf) -> None:
    from .figures import make_figure as draw

    draw(name, experiments, section, png, pdf)


def claims(experiments: dict, section: dict) -> list:
    from .claims import claims as check

    return check(experiments, section)
