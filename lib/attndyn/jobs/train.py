"""Stage `train`: one sweep cell, all its seeds trained together as a batched ensemble."""
from __future__ import annotations

import hashlib
from pathlib import Path

from ..checkpoint import checkpoint_path
from ..settings import canonical_json
from ..studies import get_study
from ..studies.base import CellSpec, RunContext
from .common import read_npz, record_imports


def context(config: dict, study: str, cell: CellSpec, cell_json: str, code: str, out: str,
            stop_after: int | None = None) -> RunContext:
    """Device, the cell's own dtype, checkpointing (fingerprint = settings + the train code digest) and provenance."""
    from ..runtime import provenance, resolve_device, resolve_dtype

    device, dtype = resolve_device(config["device"]), resolve_dtype(cell.settings.dtype)
    fingerprint = hashlib.sha256((cell_json + code).encode()).hexdigest()
    results_dir = Path(out).parents[3]                                 # results/<study>/cells/<exp>/<cell>.nc
    prov = provenance(device, dtype)
    prov["config"] = canonical_json(config[study])
    prov["cell_settings"] = cell_json
    return RunContext(device, dtype, checkpoint_path(results_dir, study, cell.experiment, cell.id),
                      config.get("checkpoint_every", 0), fingerprint, prov, stop_after)


def run_train(config: dict, study: str, cell_json: str, code: str, data_path: str, out: str,
              needed: list[str] | None = None, stop_after: int | None = None) -> None:
    """Train one cell (`code`: the train stage's code digest, a rule param); `needed` are the files of the
    cells it reads (CellSpec.needs, same order)."""
    from ..runtime import set_threads, skip_dynamo_import

    set_threads(config.get("threads", 0))
    skip_dynamo_import()
    handle = get_study(study)
    cell = CellSpec.from_json(cell_json, handle.cell_type())
    ctx = context(config, study, cell, cell_json, code, out, stop_after)
    ctx.needed = dict(zip(cell.needs, needed or []))
    dataset = handle.train_cell(cell, read_npz(data_path), ctx)
    from ..results import write_netcdf                                 # xarray: after training (start-up)

    write_netcdf(dataset, out)
    record_imports("train", study)
