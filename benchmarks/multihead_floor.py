"""How fast can an eager PyTorch multihead step be? The four matrix products every step needs, timed alone,
against the fused JAX step of the same cell.

    pip install -e ".[bench]"
    python benchmarks/multihead_floor.py [--repeat 9]

The DM1 cell of `fused_reference.py` (5 trials, n = 100 samples of T = 10 tokens in d = 16, one stored head):
XW = X W (5 GEMMs of 1000 x 16 x 16), Z_i = (X W)_i X_i^T and Y_i = dZ_i X_i (500 GEMMs of 10 x 16 x 10 and
10 x 10 x 16 each) and dW = X^T Y (5 GEMMs of 16 x 1000 x 16). An engine that runs them as separate kernels
cannot step faster than their sum, whatever it does with the element-wise rest (softmax, pooling, loss). The
script prints that sum, the PyTorch engine's whole step (so the element-wise rest is the difference) and the fused
JAX step (1 thread, float64, best of --repeat), and the best ratio an engine with these products could reach.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fused_jax import multihead_losses
from fused_reference import multihead_problem, torch_seconds

from attndyn.runtime import prepare_process
from attndyn.studies.multihead.fused import prepare


def best_seconds(fn, repeat: int, calls: int) -> float:
    """Best over `repeat` rounds of the mean time of `calls` calls."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def products(R: int, n: int, T: int, d: int) -> dict:
    """The four products of one step on random inputs of the cell's shapes, each as a zero-argument call."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(R, n * T, d, dtype=torch.float64, generator=g)
    W = torch.randn(R, d, d, dtype=torch.float64, generator=g)
    inputs = prepare(X.reshape(R, n, T, d))                 # the engine's transposed copies: keys, columns
    XW = (X @ W).reshape(R * n, T, d)
    dZ = torch.randn(R * n, T, T, dtype=torch.float64, generator=g)
    Y = (dZ @ X.reshape(R * n, T, d)).reshape(R, n * T, d)
    return {"XW = X W": lambda: X @ W, "Z = XW X^T (per sample)": lambda: XW @ inputs.keys,
            "Y = dZ X (per sample)": lambda: dZ @ X.reshape(R * n, T, d), "dW = X^T Y": lambda: inputs.columns @ Y}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    prepare_process(1)                                                             # as a train job does
    _, inputs = multihead_problem(10, args.steps)
    R, n, T, d = inputs["X"].shape
    multihead_losses(inputs, args.steps)                                           # compile once
    jax_step = best_seconds(lambda: multihead_losses(inputs, args.steps), args.repeat, 1) / args.steps
    total = 0.0
    for name, fn in products(R, n, T, d).items():
        seconds = best_seconds(fn, args.repeat, 50)
        total += seconds
        print(f"{name:26s} {seconds * 1e6:8.1f} us")
    print(f"{'sum of the four products':26s} {total * 1e6:8.1f} us per step (torch {torch.__version__}, 1 thread)")
    engine = min(torch_seconds(lambda: multihead_problem(10, args.steps), args.steps)
                 for _ in range(args.repeat)) / args.steps
    print(f"{'PyTorch engine step':26s} {engine * 1e6:8.1f} us per step (products + {(engine - total) * 1e6:.0f} us "
          "of element-wise work and overhead)")
    print(f"{'fused JAX step':26s} {jax_step * 1e6:8.1f} us per step (all of it: forward, backward, update)")
    print(f"torch / JAX now: {jax_step / engine:.2f}; with the element-wise rest free: {jax_step / total:.2f}")


if __name__ == "__main__":
    main()
