"""A fused peer for the engine: the signgd and multihead training steps in JAX (vmap + jit + lax.scan), with the
project's own two tricks (sparse tokens on the active coordinates; tied heads under zero init), against the
PyTorch engine on the same initial parameters and data.

    pip install -e ".[bench]"
    python benchmarks/fused_reference.py [--steps 300] [--check-steps 60] [--repeat 7] [--only signgd|multihead]

One run checks that both engines give the same per-step training losses (relative difference <= 1e-10, float64)
from the same initial point, then times each engine on one thread (best of --repeat runs, the engines taking turns,
so a busy machine slows both alike) and prints run-steps/s and their ratio. Cells: the signgd `dynamics` SignGD
cell with 16 seeds (default sizes) and the multihead DM1 constant-step GD cell with H = 10 and the 5 default trials.
Compilation time is excluded from JAX's rate; the PyTorch rate is what a train job does per step (probes off).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fused_jax import multihead_losses, signgd_losses

from attndyn.config import validate
from attndyn.runtime import prepare_process
from attndyn.studies import get_study
from attndyn.studies.base import RunContext
from attndyn.train import train

CPU, F64 = torch.device("cpu"), torch.float64


@dataclass
class Case:
    name: str
    problem_factory: object            # () -> (Problem, jax inputs dict)
    jax_losses: object                 # (inputs, steps) -> (steps, R) numpy
    runs: int


def _cell(study: str, experiment: str, coords: dict, section: dict):
    config = validate({"studies": [study], study: section})
    handle = get_study(study)
    plan = handle.plan(handle.settings(config[study], config))
    cell = next(c for c in plan.experiments[experiment] if all(c.coords[k] == v for k, v in coords.items()))
    data = handle._module("data").make_dataset(plan.datasets[cell.dataset].settings)
    return handle, cell, data


def signgd_problem(seeds: int, steps: int):
    """The engine's SignGD dynamics problem and the same point in numpy for JAX (active coordinates)."""
    from attndyn.studies.signgd.active import ActiveCoordinates
    from attndyn.studies.signgd.model import init_params
    from attndyn.studies.signgd.runner import build_problem
    from attndyn.studies.signgd.tokens import tokens

    section = {"seeds": list(range(seeds)), "optimizers": {"signgd": {"steps": steps}}}
    _, cell, data = _cell("signgd", "dynamics", {"optimizer": "signgd"}, section)
    problem, _ = build_problem(cell, data, RunContext(CPU, F64))
    X, y = tokens(data, "train", F64, CPU)                          # the same construction as the runner's
    model = cell.settings.model
    init = init_params(seeds, X.d, model.m_k, model.m_v, model.sigma_0, list(range(seeds)), F64, CPU)
    active = ActiveCoordinates(X, init)
    inputs = {"idx": [i.numpy() for i in active.X.idx], "val": [v.numpy() for v in active.X.val], "y": y.numpy(),
              "params": {k: v.detach().numpy().copy() for k, v in active.compact.items()},
              "lr": cell.settings.optimizer.lr, "temperature": model.temperature}
    return problem, inputs


def multihead_problem(heads: int, steps: int):
    """The engine's DM1 constant-step GD problem (tied heads) and the same point in numpy for JAX."""
    from attndyn.studies.multihead.runner import build_problem

    section = {"experiments": {"dm1": {"overrides": {"gd": {"steps": steps}}, "sweep": {"heads": [heads]}}}}
    _, cell, data = _cell("multihead", "dm1", {"heads": heads, "optimizer": "gd"}, section)
    problem, _ = build_problem(cell, data, RunContext(CPU, F64))
    inputs = {"X": data["X_train"].astype(np.float64), "y": data["y_train"].astype(np.float64),
              "params": {k: v.detach().numpy().copy() for k, v in problem.params.items()},
              "lr": cell.settings.step_size, "heads": heads}
    return problem, inputs


def torch_losses(problem, steps: int) -> np.ndarray:
    """Per-step training losses (steps, R) of the engine (the loss each optimizer step differentiates)."""
    seen = []
    loss = problem.loss

    def recording(step, gen):
        out = loss(step, gen)
        seen.append(out.detach().numpy().copy())
        return out
    problem.loss, problem.steps, problem.grid = recording, steps, np.array([0, steps])
    train(problem)
    return np.stack(seen)


def torch_seconds(factory, steps: int) -> float:
    problem, _ = factory()
    problem.steps, problem.grid = steps, np.array([], dtype=np.int64)          # no probes: training steps only
    start = time.perf_counter()
    train(problem)
    return time.perf_counter() - start


def jax_seconds(jax_losses, inputs, steps: int) -> float:
    start = time.perf_counter()
    jax_losses(inputs, steps)
    return time.perf_counter() - start


def rates(case: Case, steps: int, repeat: int) -> tuple[float, float]:
    """Run-steps/s of each engine, best of `repeat` timings taken in turns (a busy machine slows both alike)."""
    inputs = case.problem_factory(steps)[1]
    case.jax_losses(inputs, steps)                                               # compile (and warm up) once
    torch_best = jax_best = np.inf
    for _ in range(repeat):
        torch_best = min(torch_best, torch_seconds(lambda: case.problem_factory(steps), steps))
        jax_best = min(jax_best, jax_seconds(case.jax_losses, inputs, steps))
    return steps * case.runs / torch_best, steps * case.runs / jax_best


def compare(case: Case, check_steps: int, steps: int, repeat: int) -> dict:
    problem, inputs = case.problem_factory(check_steps)
    ours, theirs = torch_losses(problem, check_steps), case.jax_losses(inputs, check_steps)
    rel = float(np.max(np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-300)))
    if not rel <= 1e-10:
        raise SystemExit(f"{case.name}: losses differ by {rel:.3g} (relative) - the engines disagree")
    torch_speed, jax_speed = rates(case, steps, repeat)
    return {"cell": case.name, "max rel loss diff": rel, "torch run-steps/s": torch_speed,
            "jax run-steps/s": jax_speed, "torch / jax": torch_speed / jax_speed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--check-steps", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--heads", type=int, default=10)
    parser.add_argument("--only", choices=["signgd", "multihead"], help="time one cell only")
    args = parser.parse_args()
    prepare_process(1)                                             # as a train job does
    cases = [Case(f"signgd dynamics, SignGD, {args.seeds} seeds", lambda s: signgd_problem(args.seeds, s),
                  signgd_losses, args.seeds),
             Case(f"multihead DM1, GD eta=1, H={args.heads}, 5 trials", lambda s: multihead_problem(args.heads, s),
                  multihead_losses, 5)]
    print(f"torch {torch.__version__}, float64, 1 thread; {args.steps} steps timed (best of {args.repeat}), "
          f"{args.check_steps} steps checked")
    for case in (c for c in cases if args.only is None or c.name.startswith(args.only)):
        row = compare(case, args.check_steps, args.steps, args.repeat)
        print(" | ".join(f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}" for k, v in row.items()))


if __name__ == "__main__":
    main()
