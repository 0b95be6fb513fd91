"""What the study's netCDF files say about themselves: the paper, and the dimensions beyond sweep axes, seed, step,
and sweep keys the schema does not describe."""
from __future__ import annotations

TITLE = "On the Optimization and Generalization of Multi-head Attention"
AUTHORS = "Deora, Ghaderi, Taheri, Thrampoulidis"
ARXIV = "2310.12680"
DIMS: dict = {}
AXES = {"heads": "number of attention heads H"}
