"""Progress lines of a training loop in the job's log: at least every 10 % of the steps or every 30 s."""
from __future__ import annotations

import logging
import math
import time

from .claims_format import fmt_list

log = logging.getLogger("attndyn.train")


class Progress:
    """`due(step)` is one comparison and one clock read; `report` writes step, per-run losses, steps/s and ETA."""

    def __init__(self, total: int, start: int = 0, fraction: float = 0.1, seconds: float = 30.0, what: str = "run"):
        self.total, self.start, self.what = total, start, what
        self.stride = max(1, math.ceil(fraction * total))
        self.next_step = start + self.stride
        self.t0 = self.last = time.perf_counter()
        self.seconds = seconds

    def due(self, step: int) -> bool:
        return step >= self.next_step or time.perf_counter() - self.last >= self.seconds

    def report(self, step: int, losses) -> None:
        now = time.perf_counter()
        rate = (step - self.start) / max(now - self.t0, 1e-9)
        eta = (self.total - step) / rate if rate > 0 else float("nan")
        log.info("%s step %d/%d (%.0f%%): loss of each run (seed) %s; %.1f steps/s; ETA %.0f s",
                 self.what, step, self.total, 100.0 * step / max(self.total, 1), fmt_list(losses), rate, eta)
        self.last = now
        while self.next_step <= step:
            self.next_step += self.stride
