"""The fixed cost of a train job: from process start to its first training step, against `import torch`.

    python benchmarks/startup.py [--repeat 3]

For one small cell per study (default config) the data file is made once, then a fresh interpreter runs the
train job (attndyn.jobs.train.run_train, as the workflow's script does) and reports when the job's first probe
starts (everything before it is fixed cost: imports, reading the data, building the problem) and when the first
optimizer step starts. The baseline is a fresh interpreter that only runs `import torch`. Best of --repeat.
Target (issue #14): fixed cost <= import torch + 0.5 s.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CELLS = {"signgd": ("dynamics", "optimizer-gd"), "multihead": ("planted", "heads-1__optimizer-adam"),
         "precond": ("compare", "optimizer-alg_spectral"), "kernels": ("s3", "optimizer-gd_s3")}

CHILD = r"""
import json, sys, time
start = float(sys.argv[1])
marks = {}
import attndyn.train as engine
probe, step = engine._probe, engine._one_step
def first(name, fn):
    def wrapped(*a, **k):
        marks.setdefault(name, time.time() - start)
        if name == "step":
            print(json.dumps(marks)); sys.stdout.flush(); raise SystemExit(0)
        return fn(*a, **k)
    return wrapped
engine._probe, engine._one_step = first("probe", probe), first("step", step)
from attndyn.jobs.train import run_train
config, study, cell, code, data, out = json.loads(sys.argv[2])
run_train(config, study, cell, code, data, out)
"""


def prepare(study: str, folder: Path) -> list:
    """Normalized config, the cell's JSON and its data file."""
    from attndyn.jobs.data import run_data
    from attndyn.workflow import validated_plan

    config = {"studies": [study], "threads": 1, "checkpoint_every": 0, "device": "cpu"}
    plan = validated_plan(config)
    experiment, cell_id = CELLS[study]
    cell = plan.cell(study, experiment, cell_id)
    data = folder / f"{study}.npz"
    run_data(study, plan.dataset_params(study, cell.dataset), str(data))
    out = folder / study / "cells" / experiment / f"{cell_id}.nc"
    return [config, study, cell.to_json(), "benchmark", str(data), str(out)]


def torch_import_seconds() -> float:
    """From process start to `import torch` done, measured the same way as the job's marks (no exit time)."""
    start = time.time()
    code = "import sys, time; start = float(sys.argv[1]); import torch; print(time.time() - start)"
    out = subprocess.run([sys.executable, "-c", code, repr(start)], check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def marks(job: list) -> dict:
    start = time.time()
    out = subprocess.run([sys.executable, "-c", CHILD, repr(start), json.dumps(job)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    torch_import = min(torch_import_seconds() for _ in range(args.repeat))
    print(f"import torch in a fresh interpreter: {torch_import:.2f} s (best of {args.repeat})")
    with tempfile.TemporaryDirectory() as tmp:
        for study in CELLS:
            job = prepare(study, Path(tmp))
            runs = [marks(job) for _ in range(args.repeat)]
            probe, step = min(r["probe"] for r in runs), min(r["step"] for r in runs)
            print(f"{study:9s} {'/'.join(CELLS[study])}: first probe at {probe:.2f} s "
                  f"(fixed cost {probe - torch_import:+.2f} s over import torch), first step at {step:.2f} s")


if __name__ == "__main__":
    main()
