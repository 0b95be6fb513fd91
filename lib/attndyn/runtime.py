"""The one device/dtype choice point, threads, and provenance facts."""
from __future__ import annotations

import subprocess
from pathlib import Path

import torch

from . import __version__

DTYPES = {"float64": torch.float64, "float32": torch.float32}


def resolve_device(name: str = "auto") -> torch.device:
    """`auto` -> cuda if available, else cpu (DESIGN: one device choice point)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda was requested but torch sees no CUDA device")
    return torch.device(name)


def resolve_dtype(name: str = "float64") -> torch.dtype:
    return DTYPES[name]


def skip_dynamo_import() -> None:
    """Keep a train job from importing torch._dynamo (2.4 s, most of a small job's run time).

    torch.optim.Optimizer's add_param_group, zero_grad, state_dict and load_state_dict are wrapped by
    torch._disable_dynamo, which imports torch._dynamo on the first call only to exclude them from
    torch.compile tracing. Pipeline jobs never compile, so each wrapper's cache is filled with the plain
    method: eager behaviour is unchanged. A no-op if torch's internals differ.
    """
    for name in ("add_param_group", "zero_grad", "state_dict", "load_state_dict"):
        plain = getattr(getattr(torch.optim.Optimizer, name), "__wrapped__", None)
        if plain is not None and getattr(plain, "__dynamo_disable", None) is None:
            setattr(plain, "__dynamo_disable", plain)


def set_threads(threads: int) -> None:
    if threads and threads > 0:
        torch.set_num_threads(threads)


def prepare_process(threads: int) -> None:
    """What a train job sets up before it builds its problem (and a benchmark that times the engine as a job runs
    it): torch threads, no torch._dynamo import, freed memory kept for reuse (memory.keep_freed_memory)."""
    from .memory import keep_freed_memory

    set_threads(threads)
    skip_dynamo_import()
    keep_freed_memory()


def git_commit(repo: Path | None = None) -> str:
    """Current git commit of the source tree (or 'unknown'); provenance only, never a cache key."""
    repo = repo or Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, timeout=10).stdout.strip()
    commit = out.stdout.strip() if out.returncode == 0 else "unknown"
    return f"{commit}-dirty" if dirty and commit != "unknown" else commit


def provenance(device: torch.device, dtype: torch.dtype) -> dict[str, str]:
    return {
        "attndyn_version": __version__,
        "git_commit": git_commit(),
        "torch_version": torch.__version__,
        "device": str(device) + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""),
        "dtype": str(dtype).replace("torch.", ""),
    }
