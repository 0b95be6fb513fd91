"""Byte-level IMDb loader (LRA 'Text', spec Sec. 6) for the aclImdb folder layout:
<path>/{train,test}/{pos,neg}/*.txt. Tokens are bytes + 1 (PAD = 0 is padding), truncated/zero-padded to max_len.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ....errors import DataError
from ..settings import TextData

LABELS = {"neg": 0, "pos": 1}
PAD = 0                                  # the padding token


def encode(text: bytes, max_len: int) -> np.ndarray:
    """Bytes -> int16 tokens in 1..256, zero-padded to max_len: (max_len,)."""
    tokens = np.zeros(max_len, dtype=np.int16)
    raw = np.frombuffer(text[:max_len], dtype=np.uint8).astype(np.int16) + 1
    tokens[: len(raw)] = raw
    return tokens


def load_split(root: str | Path, split: str, max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """All reviews of one split, sorted by file name per class: tokens (M, max_len), labels (M,)."""
    tokens, labels = [], []
    for name, label in LABELS.items():
        folder = Path(root) / split / name
        if not folder.is_dir():
            raise DataError(f"IMDb folder {folder} is missing (expected aclImdb/{{train,test}}/{{pos,neg}}/*.txt)")
        for f in sorted(folder.glob("*.txt")):
            tokens.append(encode(f.read_bytes(), max_len))
            labels.append(label)
    if not tokens:
        raise DataError(f"no reviews found under {Path(root) / split}")
    return np.stack(tokens), np.asarray(labels, dtype=np.int64)


def subsample(x: np.ndarray, y: np.ndarray, count: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random subset of `count` examples (all if None), shuffled."""
    order = np.random.default_rng(seed).permutation(len(y))[: count or len(y)]
    return x[order], y[order]


def text_dataset(cfg: TextData) -> dict:
    """Train/test token arrays from `data.text.path` (spec Sec. 6: byte level, max_len, subsample)."""
    x_train, y_train = subsample(*load_split(cfg.path, "train", cfg.max_len), cfg.subsample, 0)
    x_test, y_test = subsample(*load_split(cfg.path, "test", cfg.max_len), cfg.subsample, 1)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
