"""Keep freed memory in the process for reuse, as an array runtime's own allocator does.

PyTorch's CPU tensors come from glibc malloc. By default a buffer of a few MB is mmapped on allocation and
unmapped when freed, so every step of a train job that creates such temporaries (precond's (R, n, n) scores
and their softmax: 6 MB each at the default size) page-faults them in again: ~2000 minor faults per precond step,
a third of its time. Raising glibc's mmap threshold to its documented maximum (32 MB on 64-bit) and its trim
threshold serves those buffers from the heap and keeps freed ones for the next step. Placement only: numbers are
unchanged. A no-op where the C library is not glibc.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3          # mallopt parameters (glibc malloc.h)
MMAP_THRESHOLD = 32 * 1024 * 1024                    # DEFAULT_MMAP_THRESHOLD_MAX on 64-bit: larger stay mmapped
TRIM_THRESHOLD = 512 * 1024 * 1024                   # give memory back only when this much is free at the top


def keep_freed_memory() -> bool:
    """Set glibc's malloc thresholds for this process; True if it took effect."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):                 # not glibc (e.g. musl has no mallopt)
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
