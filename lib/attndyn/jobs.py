"""One function per workflow stage; the Snakemake scripts only unpack their `snakemake` object and call these."""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np

from .checkpoint import atomic_write, checkpoint_path
from .claims import concat_claims, write_claims
from .config import resolved_json
from .errors import DataError
from .results import aggregate, read_netcdf, write_netcdf
from .studies import get_study
from .studies.base import RunContext
from .workflow import Plan, code_digest


def write_npz(data: dict, path: str | Path) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, **data)
    atomic_write(path, write)


def read_npz(path: str | Path) -> dict:
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except Exception as exc:
        raise DataError(f"cannot read data file {path}: {type(exc).__name__}: {exc}") from None


def run_data(config: dict, study: str, dataset: str, out: str) -> None:
    spec = Plan(config).dataset(study, dataset)
    write_npz(get_study(study).make_dataset(spec, config), out)


def _context(config: dict, study: str, experiment: str, cell_id: str, settings_json: str, out: str,
             stop_after: int | None = None) -> RunContext:
    from .runtime import provenance, resolve_device, resolve_dtype

    device, dtype = resolve_device(config["device"]), resolve_dtype(config["dtype"])
    fingerprint = hashlib.sha256((settings_json + code_digest(study, "train")).encode()).hexdigest()
    results_dir = Path(out).parents[3]                                 # results/<study>/cells/<exp>/<cell>.nc
    prov = provenance(device, dtype)
    prov["config"] = resolved_json(config[study])
    prov["cell_settings"] = settings_json
    return RunContext(device, dtype, checkpoint_path(results_dir, study, experiment, cell_id),
                      config.get("checkpoint_every", 0), fingerprint, prov, stop_after)


def run_train(config: dict, study: str, experiment: str, cell_id: str, data_path: str, out: str,
              stop_after: int | None = None, needed: list[str] | None = None) -> None:
    """Train one cell; `needed` are the files of the cells it reads (CellSpec.needs, same order)."""
    from .runtime import set_threads, skip_dynamo_import

    set_threads(config.get("threads", 0))
    skip_dynamo_import()
    plan = Plan(config)
    cell = plan.cell(study, experiment, cell_id)
    ctx = _context(config, study, experiment, cell_id, plan.cell_settings_json(study, experiment, cell_id),
                   out, stop_after)
    ctx.needed = dict(zip(cell.needs, needed or []))
    ds = get_study(study).train_cell(cell, read_npz(data_path), ctx)
    write_netcdf(ds, out)


def run_aggregate(config: dict, study: str, experiment: str, cells: list[str], out: str) -> None:
    axes = Plan(config).studies[study].axes[experiment]
    attrs = {"study": study, "experiment": experiment, "config": resolved_json(config[study]),
             "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    first = read_netcdf(cells[0])
    for key in ("attndyn_version", "git_commit", "torch_version", "device", "dtype"):
        attrs[key] = first.attrs.get(key, "unknown")
    write_netcdf(aggregate(cells, axes, attrs), out)


def _experiments(paths: list[str]) -> dict:
    return {Path(p).stem: read_netcdf(p) for p in paths}


def run_figure(config: dict, study: str, figure: str, inputs: list[str], png: str, pdf: str) -> None:
    get_study(study).make_figure(figure, _experiments(inputs), config[study], png, pdf)


def run_claims(config: dict, study: str, inputs: list[str], out: str) -> None:
    write_claims(get_study(study).claims(_experiments(inputs), config[study]), out)


def run_join_claims(inputs: list[str], out: str) -> None:
    concat_claims({Path(p).parent.name: p for p in inputs}, out)

