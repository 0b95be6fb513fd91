"""What the study's netCDF files say about themselves: the paper, and the dimensions beyond sweep axes, seed, step,
and sweep keys the schema does not describe."""
from __future__ import annotations

TITLE = "Training Dynamics of Softmax Self-Attention: Fast Global Convergence via Preconditioning"
AUTHORS = "Goel, Soltanolkotabi, Bartlett"
ARXIV = "2603.01514"
DIMS: dict = {}
AXES: dict = {
    "baseline_lr": "baseline_lr: learning rate of every optimizer whose rule is not algorithm1 (the baselines, e.g. "
                   "SGD); Algorithm 1 keeps its own rate (the C1/C2 claim maps tune SGD over it)",
}
