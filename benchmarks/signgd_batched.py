"""Batched ensemble vs a loop of single runs at the default signgd size, and achieved GFLOP/s.

    PYTHONPATH=lib python benchmarks/signgd_batched.py [--seeds 16] [--steps 300] [--threads 1]

Trains the default `dynamics` SignGD cell (n=20, d=2000, s=40, m_k=m_v=10, float64) for --steps
steps, once with all seeds as one batched ensemble (what a train job does) and once as a loop of
single-seed runs, and prints steps/s of each and the speed-up. FLOPs are counted analytically for
the sparse-token implementation (forward projections, scores, softmax-weighted values; backward
~2x forward) and compared with this machine's measured float64 matmul peak.
"""
from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch

from attndyn.config import load_yaml, validate
from attndyn.studies.base import RunContext
from attndyn.studies.signgd.data import make_dataset
from attndyn.studies.signgd.plan import plan
from attndyn.studies.signgd.runner import build_problem
from attndyn.train import train


def dynamics_cell(seeds: list[int], steps: int, optimizer: str = "signgd"):
    config = validate(load_yaml("config/config.yaml"))
    section = copy.deepcopy(config["signgd"])
    section["seeds"] = seeds
    section["optimizers"][optimizer]["steps"] = steps
    return next(c for c in plan(section, config).experiments["dynamics"] if c.coords["optimizer"] == optimizer)


def seconds(cell, probes: bool) -> float:
    problem, _ = build_problem(cell, make_dataset(cell.settings["data"]),
                               RunContext(torch.device("cpu"), torch.float64))
    if not probes:
        problem.grid = np.array([0, problem.steps])
    start = time.perf_counter()
    train(problem)
    return time.perf_counter() - start


def flops_per_step(cell, runs: int) -> float:
    """Multiply-adds x 2 of one forward on the training set, times 3 for forward + backward."""
    data, model = cell.settings["data"], cell.settings["model"]
    n, s, m_k = data["n"], data["s"], model["m_k"]
    nnz = 1 + s                                            # non-zeros per sample (signal + noise token)
    projections = 2 * n * nnz * (2 * m_k + 1)              # <w_Q,.>, <w_K,.> and <vbar,.> of both tokens
    scores = 2 * n * 4 * m_k + 2 * n * 4                   # 2x2 score matrix and weighted values
    return 3.0 * runs * (projections + scores)


def matmul_peak(size: int = 1024, repeat: int = 5) -> float:
    a, b = torch.randn(size, size, dtype=torch.float64), torch.randn(size, size, dtype=torch.float64)
    a @ b
    start = time.perf_counter()
    for _ in range(repeat):
        a @ b
    return 2 * size ** 3 * repeat / (time.perf_counter() - start) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seeds = list(range(args.seeds))
    for probes in (False, True):
        batched = seconds(dynamics_cell(seeds, args.steps), probes)
        looped = sum(seconds(dynamics_cell([s], args.steps), probes) for s in seeds)
        label = "with probes on the log grid" if probes else "training steps only"
        print(f"[{label}] {args.seeds} seeds x {args.steps} steps: batched {batched:.2f} s "
              f"({args.seeds * args.steps / batched:.0f} run-steps/s), loop {looped:.2f} s "
              f"({args.seeds * args.steps / looped:.0f} run-steps/s), speed-up {looped / batched:.1f}x")
        if not probes:
            achieved = flops_per_step(dynamics_cell(seeds, 1), args.seeds) * args.steps / batched / 1e9
    peak = matmul_peak()
    print(f"achieved {achieved:.3f} GFLOP/s (analytic count, batched training) vs float64 matmul peak "
          f"{peak:.1f} GFLOP/s on {args.threads} thread(s): {100 * achieved / peak:.2f} % of peak")


if __name__ == "__main__":
    main()
