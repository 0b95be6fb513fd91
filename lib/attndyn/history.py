"""The CF `history` of every netCDF file a run writes: when, the command and the config files. The Snakefile's main
process sets it once; jobs (local or cluster, which inherit the environment) read it."""
from __future__ import annotations

import os
import shlex
import sys
import time

VARIABLE = "ATTNDYN_HISTORY"


def _stamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def set_history(argv: list[str], configfiles) -> None:
    """Record `snakemake <argv>` and its config files for every job of this run."""
    files = ", ".join(map(str, configfiles))
    os.environ[VARIABLE] = f"{_stamp()}: {shlex.join(['snakemake', *argv])} (config files: {files})"


def history() -> str:
    """The command that produced the file: the workflow's (set by the Snakefile), else this process's."""
    return os.environ.get(VARIABLE) or f"{_stamp()}: {shlex.join([sys.executable, *sys.argv])}"
