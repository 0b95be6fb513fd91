"""Time the paper config's heaviest signgd cell on CPU and (when available) CUDA, batched vs looped.

    PYTHONPATH=lib python benchmarks/gpu_heaviest.py [--config config/paper.yaml] [--max-steps N]

"Heaviest" = largest steps x n x d x seeds among the signgd cells of the config (the cost of one
full-batch step grows with n*d, and all seeds train in one batch). Batched = all seeds in one
ensemble (what the train job does); loop = the same cell trained once per seed. --max-steps caps
the steps for a quick measurement (printed per-step times let you extrapolate).
"""
from __future__ import annotations

import argparse
import copy
import time

import torch

from attndyn.config import deep_merge, load_yaml, validate
from attndyn.studies import get_study
from attndyn.studies.base import RunContext
from attndyn.studies.signgd.runner import build_problem
from attndyn.train import train
from attndyn.workflow import Plan

STUDY = "signgd"


def load_config(path: str, max_steps: int | None) -> dict:
    """config.yaml merged with `path` the way Snakemake merges --configfile, validated."""
    config = validate(deep_merge(load_yaml("config/config.yaml"), load_yaml(path)))
    config["studies"] = [STUDY]
    if max_steps:
        for opt in config[STUDY]["optimizers"].values():
            opt["steps"] = min(opt.get("steps", max_steps), max_steps)
        for exp in config[STUDY]["experiments"].values():
            if "steps" in exp:
                exp["steps"] = min(exp["steps"], max_steps)
    return config


def shape(cell) -> tuple[int, int]:
    """(samples, dimension) of a cell's training data: synthetic (n, d) or digits (n_train, noise_dim)."""
    data = cell.settings["data"]
    return data.get("n", data.get("n_train", 1)), data.get("d", data.get("noise_dim", 1))


def cost(cell) -> int:
    n, d = shape(cell)
    return cell.settings["optimizer"]["steps"] * n * d * len(cell.settings["data"]["seeds"])


def heaviest_cell(plan: Plan):
    cells = [c for exp in plan.studies[STUDY].experiments for c in plan.cells(STUDY, exp)]
    return max(cells, key=cost)


def time_cell(config: dict, cell, device: torch.device) -> float:
    """Seconds to train one cell (data generation excluded), synchronised on CUDA."""
    plan = Plan(config)
    data = get_study(STUDY).make_dataset(plan.dataset(STUDY, cell.dataset), config)
    problem, _ = build_problem(cell, data, RunContext(device, torch.float64))
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    train(problem)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def time_loop(config: dict, cell, device: torch.device) -> float:
    """The same cell, one seed at a time (what an unbatched pipeline would do)."""
    total = 0.0
    for seed in config[STUDY]["seeds"]:
        one = copy.deepcopy(config)
        one[STUDY]["seeds"] = [seed]
        total += time_cell(one, Plan(one).cell(STUDY, cell.experiment, cell.id), device)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/paper.yaml")
    parser.add_argument("--max-steps", type=int, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)                  # as in a train job (config key `threads: 1`)

    config = load_config(args.config, args.max_steps)
    cell = heaviest_cell(Plan(config))
    steps = cell.settings["optimizer"]["steps"]
    print(f"heaviest cell: {STUDY}/{cell.experiment}/{cell.id}, {steps} steps, "
          f"{len(config[STUDY]['seeds'])} seeds, data n x d = {shape(cell)[0]} x {shape(cell)[1]}")
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    for device in devices:
        batched = time_cell(config, cell, device)
        looped = time_loop(config, cell, device)
        print(f"{device.type}: batched {batched:.2f} s ({1e3 * batched / steps:.2f} ms/step), "
              f"loop {looped:.2f} s, batched speed-up x{looped / batched:.1f}")
    if len(devices) == 1:
        print("cuda: not available on this machine")


if __name__ == "__main__":
    main()
