"""Stage `figure`: one figure (PNG + PDF) from the experiment datasets it needs."""
from __future__ import annotations

from ..studies import get_study
from ..results import read_experiments
from .common import record_imports


def run_figure(config: dict, study: str, figure: str, inputs: list[str], png: str, pdf: str, caption: str) -> None:
    handle = get_study(study)
    settings = handle.settings(config[study], config)
    handle.make_figure(figure, read_experiments(inputs), settings, png, pdf, caption)
    record_imports("figures", study)
