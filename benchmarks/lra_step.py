"""Time one Adam step of the kernels study's LRA Transformer (forward, backward, update) per kernel.

    python benchmarks/lra_step.py [--config config/config.yaml] [--sizes 8 12 16] [--steps 20] [--threads 1]

Uses the config's model (dim, FFN, heads, dropout) and Pathfinder batch size; an image of size s is a
sequence of s*s tokens with no padding (mask None, as the train job runs it). Prints ms per step with the
config's dropout and with the Skyformer dropout 0.1 (attention dropout's mask is a large share of a CPU step).
"""
from __future__ import annotations

import argparse
import dataclasses
import time

import torch
import torch.nn.functional as F

from attndyn.config import deep_merge, load_yaml
from attndyn.runtime import prepare_process
from attndyn.studies.kernels.lra.model import build_model
from attndyn.workflow import validated_plan


def ms_per_step(network, options, kernel: str, size: int, batch: int, dtype, steps: int) -> float:
    """Mean wall time of `steps` Adam steps after 3 warm-up steps, in milliseconds."""
    torch.manual_seed(0)
    model = build_model(kernel, network, options, size * size, torch.device("cpu"), dtype)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    tokens = torch.randint(0, 256, (batch, size * size))                          # (B, T)
    labels = torch.randint(0, 2, (batch,))
    for i in range(steps + 3):
        if i == 3:
            start = time.perf_counter()
        loss = F.cross_entropy(model(tokens, None), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return 1000 * (time.perf_counter() - start) / steps


def pathfinder_cell(config_path: str):
    """The default (or given) config's first Pathfinder cell: its typed settings."""
    config = load_yaml("config/config.yaml")
    if config_path != "config/config.yaml":
        config = deep_merge(config, load_yaml(config_path))
    config["studies"] = ["kernels"]
    plan = validated_plan(config)
    return plan.studies["kernels"].experiments["pathfinder"][0].settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 12, 16])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    prepare_process(args.threads)                                                 # as a train job does
    s = pathfinder_cell(args.config)
    s = s.members[0] if hasattr(s, "members") else s                             # a batched cell: its first member
    dtype, batch = getattr(torch, s.dtype), s.optimizer.batch_size
    variants = {"config dropout": s.network,
                "dropout 0.1": dataclasses.replace(s.network, dropout=0.1, attn_dropout=0.1)}
    print(f"batch {batch}, dim {s.network.dim}, {s.dtype}, {args.threads} thread(s); ms per Adam step")
    for size in args.sizes:
        for name, network in variants.items():
            times = {k: ms_per_step(network, s.attention, k, size, batch, dtype, args.steps)
                     for k in ("softmax", "gaussian")}
            print(f"  {size}x{size} ({size * size} tokens), {name}: "
                  + ", ".join(f"{k} {v:.1f}" for k, v in times.items()))


if __name__ == "__main__":
    main()
