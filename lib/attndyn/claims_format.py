"""Compact number formats shared by claims rows and log lines."""
from __future__ import annotations

import numpy as np


def fmt(x) -> str:
    """A compact number (4 significant digits; 'nan' for missing or non-finite)."""
    return "nan" if x is None or not np.isfinite(x) else f"{x:.4g}"


def fmt_list(values) -> str:
    """'[a, b, c]': one compact number per element (a tensor, array or sequence)."""
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    return "[" + ", ".join(fmt(float(v)) for v in np.asarray(values, dtype=float).ravel()) + "]"
