"""Dataset files of the kernels study (the `data` rule): seeded synthetic problems, Pathfinder, IMDb text.

Numpy only: data jobs do not import torch (its import is ~3 s of every job that does)."""
from __future__ import annotations

import numpy as np

TAGS = {"s1": 1, "s2": 2, "s3": 3}


def tokens(rng: np.random.Generator, N: int, n: int, D: int) -> np.ndarray:
    """X_i in R^{n x D} with N(0, 1/D) entries (token norms ~ 1); (N, n, D)."""
    return rng.normal(0.0, 1.0 / np.sqrt(D), size=(N, n, D))


def init_weights(rng: np.random.Generator, D: int, d: int, d_v: int, heads: int, qk_std: float,
                 q_std: float | None = None) -> dict:
    """W_Q, W_K entries N(0, qk_std^2) (so q entries have std ~ qk_std, [PROPOSED]);
    W_V N(0, 1/D); W_O N(0, 1/d_v) (fixed)."""
    q_std = qk_std if q_std is None else q_std
    return {"W_Q": rng.normal(0, q_std, (heads, D, d)), "W_K": rng.normal(0, qk_std, (heads, D, d)),
            "W_V": rng.normal(0, 1 / np.sqrt(D), (heads, D, d_v)),
            "W_O": rng.normal(0, 1 / np.sqrt(d_v), (heads, d_v))}


def _rng(seed: int, tag: str, extra: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, TAGS[tag], extra])


def s1_data(s: dict) -> dict:
    """S1: per D, tokens X (R, N, n, D), random targets y (R, N, n) and initial weights (R, H, ...)."""
    out = {}
    for D in s["D_grid"]:
        per_seed = []
        for seed in s["seeds"]:
            rng = _rng(seed, "s1", D)
            X = tokens(rng, s["N"], s["n"], D)
            y = rng.normal(0.0, 1.0, (s["N"], s["n"]))
            W = init_weights(rng, D, s["d"], s["d_v"] or D, s["heads"], s["init_std"])
            if s["tie_qk_init"]:
                W["W_K"] = W["W_Q"].copy()        # diagonally dominant S_i at init ("appropriate init", Sec. 1.2)
            per_seed.append({"X": X, "y": y, **W})
        for key in per_seed[0]:
            out[f"{key}_D{D}"] = np.stack([p[key] for p in per_seed])
    return out


def s2_data(s: dict) -> dict:
    """S2: X, fixed W_K, W_V, W_O, a teacher W_Q* (scale teacher_scale) and a unit-std student direction Z."""
    per_seed = []
    for seed in range(s["seeds"]):
        rng = _rng(seed, "s2")
        X = tokens(rng, s["N"], s["n"], s["D"])
        W = init_weights(rng, s["D"], s["d"], s["d_v"] or s["D"], s["heads"], s["qk_std"], q_std=s["teacher_scale"])
        W["W_V"] = W["W_V"] * s["value_std"]                 # output scale (so W_Q-only GD is not starved)
        Z = rng.normal(0.0, 1.0, W["W_Q"].shape)
        per_seed.append({"X": X, "W_Qstar": W.pop("W_Q"), "Z": Z, **W})
    return {k: np.stack([p[k] for p in per_seed]) for k in per_seed[0]}


def s3_data(s: dict) -> dict:
    """S3: X, random targets and initial weights for the two-stage landscape runs."""
    per_seed = []
    for seed in s["seeds"]:
        rng = _rng(seed, "s3")
        X = tokens(rng, s["N"], s["n"], s["D"])
        y = rng.normal(0.0, 1.0, (s["N"], s["n"]))
        per_seed.append({"X": X, "y": y, **init_weights(rng, s["D"], s["d"], s["d_v"] or s["D"], 1, s["init_std"])})
    return {k: np.stack([p[k] for p in per_seed]) for k in per_seed[0]}


def make_dataset(settings: dict) -> dict:
    kind = settings["kind"]
    if kind == "s1":
        return s1_data(settings["synthetic"])
    if kind == "s2":
        return s2_data(settings["s2"])
    if kind == "s3":
        return s3_data(settings["landscape"])
    if kind == "pathfinder":
        from .pathfinder import pathfinder_dataset
        return pathfinder_dataset(settings["pathfinder"])
    if kind == "text":
        from .imdb import text_dataset
        return text_dataset(settings["text"])
    raise ValueError(f"unknown dataset kind {kind!r}")
