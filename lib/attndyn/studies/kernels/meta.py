"""What the study's netCDF files say about themselves: the paper, and the dimensions beyond sweep axes, seed, step,
and sweep keys the schema does not describe."""
from __future__ import annotations

from ...variables import Dim

TITLE = "Unraveling the Gradient Descent Dynamics of Transformers"
AUTHORS = "Song, Han, Zhang, Ding, Hong"
ARXIV = "2411.07538"
DIMS = {
    "pair": Dim("index of a pair of random directions (d1, d2) of a loss-landscape slice"),
    "a": Dim("step a along direction d1 of a loss-landscape slice (theta* + a d1 + b d2)"),
    "b": Dim("step b along direction d2 of a loss-landscape slice (theta* + a d1 + b d2)"),
    "param": Dim("index into the flattened trained parameters (final point theta*)"),
}
AXES = {"kernel": "attention kernel (softmax or gaussian)",
        "sigma_Q": "standard deviation of the initial W_Q entries",
        "train": "trained weights (wv: W_V only; attention: W_Q, W_K and W_V)"}
