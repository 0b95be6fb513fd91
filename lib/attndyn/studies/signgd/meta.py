"""What the study's netCDF files say about themselves: the paper, and the dimensions beyond sweep axes, seed, step,
and sweep keys the schema does not describe."""
from __future__ import annotations

from ...variables import Dim

TITLE = "On the Optimization and Generalization of Two-layer Transformers with Sign Gradient Descent"
AUTHORS = "Li, Huang, Han, Zhou, Suzuki, Zhu, Chen"
ARXIV = "2410.04870"
DIMS = {
    "neuron": Dim("index s of a query/key neuron (row of W_Q and W_K)"),
    "sample": Dim("index i of a training sample"),
    "value_sign": Dim("sign j of the value block W_{V,j} (+1: W_{V,+1}, -1: W_{V,-1})", values=(1, -1)),
    "value_neuron": Dim("index r of a value neuron (row of W_{V,j})"),
}
AXES = {"snr": "signal-to-noise ratio ||mu||_2 / (sigma_p sqrt(s)) [PROPOSED definition]; it sets sigma_p"}
