"""Stage `train`: one sweep cell, all its seeds trained together as a batched ensemble."""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from ..batching import Batch
from ..checkpoint import checkpoint_path
from ..settings import canonical_json
from ..studies import get_study
from ..studies.base import CellSpec, RunContext
from .common import read_npz, record_imports


def context(config: dict, study: str, cell: CellSpec, cell_json: str, code: str, out: str,
            stop_after: int | None = None) -> RunContext:
    """Device, the cell's own dtype, checkpointing (fingerprint = settings + the train code digest) and provenance."""
    from ..runtime import provenance, resolve_device, resolve_dtype

    own = cell.settings.members[0] if isinstance(cell.settings, Batch) else cell.settings
    device, dtype = resolve_device(config["device"]), resolve_dtype(own.dtype)
    fingerprint = hashlib.sha256((cell_json + code).encode()).hexdigest()
    results_dir = Path(out).parents[3]                                 # results/<study>/cells/<exp>/<cell>.nc
    prov = provenance(device, dtype)
    prov["config"] = canonical_json(config[study])
    prov["cell_settings"] = cell_json
    return RunContext(device, dtype, checkpoint_path(results_dir, study, cell.experiment, cell.id),
                      config.get("checkpoint_every", 0), fingerprint, prov, stop_after)


def run_train(config: dict, study: str, cell_json: str, code: str, data_paths: list[str] | str, out: str,
              needed: list[str] | None = None, stop_after: int | None = None) -> None:
    """Train one cell (`code`: the train stage's code digest, a rule param) on its data file(s) (a batched cell:
    one per member's data, passed to the runner by name); `needed` are the files of the cells it reads
    (CellSpec.needs, same order)."""
    from ..runtime import prepare_process

    prepare_process(config.get("threads", 0))
    handle = get_study(study)
    cell = CellSpec.from_json(cell_json, handle.cell_type())
    ctx = context(config, study, cell, cell_json, code, out, stop_after)
    ctx.needed = dict(zip(cell.needs, needed or []))
    log = logging.getLogger("attndyn.train")
    log.info("cell %s/%s/%s on %s, %s; data %s", study, cell.experiment, cell.id, ctx.provenance["device"],
             ctx.provenance["dtype"], ", ".join(Path(p).name for p in ([data_paths] if isinstance(data_paths, str)
                                                                        else data_paths)))
    log.info("settings %s", canonical_json(cell.settings))
    paths = [data_paths] if isinstance(data_paths, str) else list(data_paths)
    datas = {Path(p).stem: read_npz(p) for p in paths}
    batch = isinstance(cell.settings, Batch)                          # a Batch reads its members' data by name
    dataset = handle.train_cell(cell, datas if batch else datas[Path(paths[0]).stem], ctx)
    from ..results import write_netcdf                                 # xarray: after training (start-up)

    write_netcdf(dataset, out, study, f"cell {cell.id} of experiment {cell.experiment}")
    record_imports("train", study)
