"""Per-job logs: every workflow script runs its job inside `job_log(path)` (the rule's `log:` file).

The log gets what the job says (logger `attndyn`, e.g. a train job's cell, settings, device, dtype and progress
lines), Python warnings, and, if the job fails, the full traceback; the exception still propagates, so Snakemake
marks the job failed and keeps the log.
"""
from __future__ import annotations

import logging
import sys
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

LOGGER = "attndyn"


@contextmanager
def job_log(path: str | Path, rule: str = ""):
    """Send the package's log records and warnings to `path` for the duration of a job; log a failure's traceback."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S"))
    targets = [logging.getLogger(LOGGER), logging.getLogger("py.warnings")]
    for logger in targets:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    logging.captureWarnings(True)
    log = logging.getLogger(LOGGER)
    started = time.perf_counter()
    log.info("job %s started (python %s)", rule, sys.version.split()[0])
    try:
        yield log
        log.info("job %s done in %.1f s", rule, time.perf_counter() - started)
    except BaseException:
        log.error("job %s failed after %.1f s:\n%s", rule, time.perf_counter() - started, traceback.format_exc())
        raise
    finally:
        logging.captureWarnings(False)
        for logger in targets:
            logger.removeHandler(handler)
        handler.close()
