"""The generic batched trainer: grid, divergence handling, checkpoint resume, atomic outputs."""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from attndyn.checkpoint import atomic_write
from attndyn.errors import DataError
from attndyn.grid import log_step_grid
from attndyn.results import Var, cell_dataset, read_netcdf, write_netcdf
from attndyn.train import Checkpointing, Problem, train


def test_log_grid_contains_ends_dense_start_and_extras():
    grid = log_step_grid(3000, points_per_decade=20, dense_until=5, extra=(150, 900, 5000))
    assert grid[0] == 0 and grid[-1] == 3000 and list(grid[:6]) == [0, 1, 2, 3, 4, 5]
    assert 150 in grid and 900 in grid and 5000 not in grid
    assert np.all(np.diff(grid) > 0)
    assert set(log_step_grid(1000, 20)) <= set(log_step_grid(3000, 20)) | {1000}


def _quadratic_problem(curvatures: list[float], steps: int = 40) -> Problem:
    """R independent quadratics 0.5 c_r ||w_r||^2 under GD with lr 1: curvature c > 2 diverges."""
    w = torch.ones(len(curvatures), 3, dtype=torch.float64, requires_grad=True)   # (R, 3)
    c = torch.tensor(curvatures, dtype=torch.float64)[:, None]                   # (R, 1)

    def loss(step, gen):
        return 0.5 * (c * w ** 2).sum(1)                                          # (R,)

    def probe():
        return {"train_loss": loss(0, None), "w_norm": w.norm(dim=1)}
    return Problem({"w": w}, loss, probe, torch.optim.SGD([w], lr=1.0), steps, log_step_grid(steps, 10, 5))


def test_diverged_run_is_nan_and_others_unaffected():
    result = train(_quadratic_problem([0.5, 1e10, 0.1]))
    assert result.diverged.tolist() == [False, True, False]
    assert result.diverged_step[1] > 0 and result.diverged_step[0] == -1
    final = result.metrics["train_loss"][-1]
    assert np.isnan(final[1]) and np.isfinite(final[[0, 2]]).all()
    alone = train(_quadratic_problem([0.5, 0.1]))
    assert np.array_equal(result.metrics["train_loss"][:, [0, 2]], alone.metrics["train_loss"])


def test_checkpoint_resume_is_bit_identical(tmp_path):
    reference = train(_quadratic_problem([0.5, 0.3]))
    ckpt = Checkpointing(tmp_path / "c.pt", every=10, fingerprint="x", stop_after=20)
    with pytest.raises(KeyboardInterrupt):
        train(_quadratic_problem([0.5, 0.3]), ckpt)
    assert ckpt.path.exists()
    resumed = train(_quadratic_problem([0.5, 0.3]), Checkpointing(ckpt.path, 10, "x"))
    assert resumed.resumed_from == 20 and not ckpt.path.exists()
    for name in reference.metrics:
        assert np.array_equal(reference.metrics[name], resumed.metrics[name], equal_nan=True)


def test_stale_checkpoint_with_other_fingerprint_is_ignored(tmp_path):
    ckpt = Checkpointing(tmp_path / "c.pt", every=10, fingerprint="old", stop_after=10)
    with pytest.raises(KeyboardInterrupt):
        train(_quadratic_problem([0.5]), ckpt)
    fresh = train(_quadratic_problem([0.5]), Checkpointing(ckpt.path, 10, "new"))
    assert fresh.resumed_from == 0


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.nc"

    def failing(tmp):
        tmp.write_text("partial")
        raise RuntimeError("killed")
    with pytest.raises(RuntimeError):
        atomic_write(target, failing)
    assert list(tmp_path.iterdir()) == []


def test_netcdf_roundtrip_and_corrupt_file(tmp_path):
    result = train(_quadratic_problem([0.5, 0.3], steps=10))
    ds = cell_dataset(result, {"train_loss": Var("loss"), "w_norm": Var("norm")}, [0, 1],
                      {"optimizer": "gd"}, {"device": "cpu"})
    write_netcdf(ds, tmp_path / "cell.nc")
    back = read_netcdf(tmp_path / "cell.nc")
    assert back.train_loss.dims == ("seed", "step") and back.train_loss.attrs["long_name"] == "loss"
    assert bool(back.diverged.any()) is False and str(back.optimizer.values) == "gd"
    (tmp_path / "bad.nc").write_bytes(b"not a netcdf file")
    with pytest.raises(DataError, match=re.escape("bad.nc")):
        read_netcdf(tmp_path / "bad.nc")


def test_aggregate_keeps_run_summaries_off_the_step_axis(tmp_path):
    """Cells of different lengths stack on the sweep axis; final_step and diverged stay per cell and seed, and
    `final` reads each run at its own last step."""
    from attndyn.results import aggregate, final

    paths = []
    for name, steps in (("short", 10), ("long", 30)):
        result = train(_quadratic_problem([0.5, 0.3], steps=steps))
        ds = cell_dataset(result, {"train_loss": Var("loss"), "w_norm": Var("norm")}, [0, 1], {"optimizer": name}, {})
        paths.append(tmp_path / f"{name}.nc")
        write_netcdf(ds, paths[-1])
    combined = aggregate(paths, ["optimizer"], {})
    assert combined.final_step.dims == ("optimizer",) and combined.diverged.dims == ("optimizer", "seed")
    last = final(combined, "train_loss")
    assert last.dims == ("optimizer", "seed")
    short = read_netcdf(paths[0])
    assert np.array_equal(last.sel(optimizer="short").values, short.train_loss.isel(step=-1).values)
