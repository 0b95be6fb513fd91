"""Paper claims checked by numbers: the Claim record, the CSV format, and fitting helpers."""
from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .checkpoint import atomic_write
from .claims_format import fmt, fmt_list  # noqa: F401  (fmt: re-exported for the studies)

COLUMNS = ("claim", "expected", "measured", "passed", "fails_if", "source", "depends_on", "scale")


@dataclass(frozen=True)
class Claim:
    """One row of claims.csv. `claim` starts with the paper-claim id, e.g. 'C1 SignGD linear rate'.

    expected: the criterion, fixed before the run; fails_if: the outcome that would fail the row;
    source: the spec sentence the criterion tests (docs/papers/<study>.md, section and quote); depends_on: the
    [RECONSTRUCTED]/[PROPOSED] settings the verdict depends on."""
    claim: str
    expected: str
    measured: str
    passed: bool
    fails_if: str = ""
    source: str = ""
    depends_on: str = ""


def seed_list(values) -> str:
    """'[a, b, c]': one value per seed (a DataArray or sequence) for the measured column."""
    return fmt_list(values)


def write_claims(claims: Sequence[Claim], path: str | Path, scale: str = "custom") -> None:
    """Write a study's claims.csv atomically; `scale` is the config that produced it (smoke/default/paper)."""
    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            for c in claims:
                writer.writerow((c.claim, c.expected, c.measured, str(bool(c.passed)), c.fails_if, c.source,
                                 c.depends_on, scale))
    atomic_write(path, write)


def read_claims(path: str | Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def concat_claims(study_files: dict[str, str | Path], path: str | Path) -> None:
    """results/claims.csv: every study's rows with a leading `study` column."""
    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(("study",) + COLUMNS)
            for study, f in study_files.items():
                for row in read_claims(f):
                    writer.writerow([study] + [row[c] for c in COLUMNS])
    atomic_write(path, write)


def linear_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares y = a + b x over finite points; returns (slope b, intercept a, R^2)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(x) < 3:
        return float("nan"), float("nan"), float("nan")
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (intercept + slope * x)
    total = np.sum((y - y.mean()) ** 2)
    r2 = 1.0 - np.sum(residual ** 2) / total if total > 0 else float("nan")
    return float(slope), float(intercept), float(r2)


def loglog_slope(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope and R^2 of log10 y against log10 x (positive points only)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = (x > 0) & (y > 0)
    slope, _, r2 = linear_fit(np.log10(x[keep]), np.log10(y[keep]))
    return slope, r2


def first_step_reaching(steps: np.ndarray, values: np.ndarray, threshold: float, above: bool = True) -> float:
    """First logged step where values >= threshold (or <= if above=False); nan if never."""
    hit = values >= threshold if above else values <= threshold
    idx = np.flatnonzero(hit)
    return float(steps[idx[0]]) if len(idx) else float("nan")
