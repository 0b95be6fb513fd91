"""Procedural Pathfinder-style images (spec Sec. 4.1, stand-in for the LRA release, [PROPOSED]).

Each image holds `distractors + 1` curved dashed paths and two marked endpoints. Positive: both markers
sit at the two ends of one path (the other paths are distractors). Negative: each marker sits at one end
of a different path. Every image has the same number of paths of the same length, so the label is only
readable from connectivity. Paths keep a Chebyshev distance >= `min_separation` from each other, so that
dilating the drawn pixels by one pixel joins the dashes of a path but never two different paths.
"""
from __future__ import annotations

import numpy as np

from ..settings import PathfinderData

PATH_VALUE, MARKER_VALUE = 128, 255


def candidate_paths(rng, size: int, length: int, curvature: float, count: int) -> np.ndarray:
    """`count` smooth random walks of `length` unit steps (angle noise N(0, curvature^2) per step), kept if
    they stay inside the image and their ends are >= 2 pixels apart: pixels (kept, length+1, 2)."""
    start = rng.uniform(1, size - 1, (count, 2))                                   # (C, 2)
    angles = rng.uniform(0, 2 * np.pi, (count, 1)) + np.cumsum(rng.normal(0, curvature, (count, length)), 1)
    steps = np.stack([np.cos(angles), np.sin(angles)], -1)                          # (C, L, 2)
    points = start[:, None] + np.concatenate([np.zeros((count, 1, 2)), np.cumsum(steps, 1)], 1)
    pixels = np.rint(points).astype(int)                                            # (C, L+1, 2)
    inside = (pixels.min((1, 2)) >= 0) & (pixels.max((1, 2)) < size)
    ends_apart = np.abs(pixels[:, 0] - pixels[:, -1]).max(-1) >= 2
    return pixels[inside & ends_apart]


def _far_from(candidates: np.ndarray, taken: list[np.ndarray], min_sep: int) -> np.ndarray:
    """Per candidate (C, L+1, 2): is its Chebyshev distance to every pixel of every taken path >= min_sep?"""
    if not taken:
        return np.ones(len(candidates), bool)
    others = np.concatenate(taken)                                                  # (P, 2)
    gap = np.abs(candidates[:, :, None, :] - others[None, None]).max(-1)            # (C, L+1, P)
    return gap.min((1, 2)) >= min_sep


def _place_paths(rng, cfg: PathfinderData, count: int) -> list[np.ndarray] | None:
    """`count` mutually separated paths, each the first of `max_tries` candidates that fits; None if one fails."""
    paths = []
    for _ in range(count):
        candidates = candidate_paths(rng, cfg.size, cfg.path_length, cfg.curvature, cfg.max_tries)
        fits = np.flatnonzero(_far_from(candidates, paths, cfg.min_separation))
        if len(fits) == 0:
            return None
        paths.append(candidates[fits[0]])
    return paths


def draw(paths: list[np.ndarray], markers: list[np.ndarray], size: int, dash_on: int) -> np.ndarray:
    """Dashed paths (every (dash_on+1)-th pixel left out) and the two markers: (size, size) uint8."""
    image = np.zeros((size, size), dtype=np.uint8)
    for p in paths:
        keep = np.arange(len(p)) % (dash_on + 1) != dash_on
        image[p[keep, 0], p[keep, 1]] = PATH_VALUE
    for m in markers:
        image[m[0], m[1]] = MARKER_VALUE
    return image


def sample_image(rng, cfg: PathfinderData, positive: bool) -> np.ndarray:
    """One image of the requested label (retries until the paths fit)."""
    while True:
        paths = _place_paths(rng, cfg, cfg.distractors + 1)
        if paths is not None:
            break
    markers = [paths[0][0], paths[0][-1]] if positive else [paths[0][0], paths[1][-1]]
    return draw(paths, markers, cfg.size, cfg.dash_on)


def generate(cfg: PathfinderData, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Balanced, shuffled images (count, size, size) uint8 and labels (count,) int64."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(count) % 2).astype(np.int64)
    images = np.stack([sample_image(rng, cfg, bool(y)) for y in labels])
    return images, labels


def connected_markers(image: np.ndarray) -> bool:
    """Label check: are the two markers in one 8-connected component of the 1-pixel-dilated drawing?"""
    from scipy import ndimage

    drawn = ndimage.binary_dilation(image > 0, structure=np.ones((3, 3), bool))
    components, _ = ndimage.label(drawn, structure=np.ones((3, 3), bool))
    ids = components[image == MARKER_VALUE]
    return len(ids) == 2 and ids[0] == ids[1]


def pathfinder_dataset(cfg: PathfinderData) -> dict:
    """Train and test splits as flattened pixel sequences (LRA layout): (M, size*size) uint8."""
    x_train, y_train = generate(cfg, cfg.n_train, cfg.data_seed)
    x_test, y_test = generate(cfg, cfg.n_test, cfg.data_seed + 10_000)
    return {"x_train": x_train.reshape(len(x_train), -1), "y_train": y_train,
            "x_test": x_test.reshape(len(x_test), -1), "y_test": y_test}
