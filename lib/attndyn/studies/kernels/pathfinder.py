"""Procedural Pathfinder-style images (spec Sec. 4.1, stand-in for the LRA release, [PROPOSED]).

Each image holds `distractors + 1` curved dashed paths and two marked endpoints. Positive: both markers
sit at the two ends of one path (the other paths are distractors). Negative: each marker sits at one end
of a different path. Every image has the same number of paths of the same length, so the label is only
readable from connectivity. Paths keep a Chebyshev distance >= `min_separation` from each other, so that
dilating the drawn pixels by one pixel joins the dashes of a path but never two different paths.
"""
from __future__ import annotations

import numpy as np

PATH_VALUE, MARKER_VALUE = 128, 255


def random_path(rng, size: int, length: int, curvature: float) -> np.ndarray | None:
    """Smooth random walk of `length` unit steps with angle noise N(0, curvature^2): pixels (length+1, 2)."""
    pos = rng.uniform(1, size - 1, 2)
    angle = rng.uniform(0, 2 * np.pi)
    points = [pos.copy()]
    for _ in range(length):
        angle += rng.normal(0, curvature)
        pos = pos + np.array([np.cos(angle), np.sin(angle)])
        points.append(pos.copy())
    pixels = np.rint(np.array(points)).astype(int)
    return pixels if (pixels.min() >= 0 and pixels.max() < size) else None


def _far_from(pixels: np.ndarray, taken: list[np.ndarray], min_sep: int) -> bool:
    """Chebyshev distance from every pixel of `pixels` to every earlier path is >= min_sep."""
    for other in taken:
        gap = np.abs(pixels[:, None, :] - other[None, :, :]).max(-1)
        if gap.min() < min_sep:
            return False
    return True


def _place_paths(rng, cfg: dict, count: int) -> list[np.ndarray] | None:
    paths = []
    for _ in range(count):
        for _attempt in range(cfg["max_tries"]):
            p = random_path(rng, cfg["size"], cfg["path_length"], cfg["curvature"])
            if p is not None and np.abs(p[0] - p[-1]).max() >= 2 and _far_from(p, paths, cfg["min_separation"]):
                paths.append(p)
                break
        else:
            return None
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


def sample_image(rng, cfg: dict, positive: bool) -> np.ndarray:
    """One image of the requested label (retries until the paths fit)."""
    while True:
        paths = _place_paths(rng, cfg, cfg["distractors"] + 1)
        if paths is not None:
            break
    markers = [paths[0][0], paths[0][-1]] if positive else [paths[0][0], paths[1][-1]]
    return draw(paths, markers, cfg["size"], cfg["dash_on"])


def generate(cfg: dict, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
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


def pathfinder_dataset(cfg: dict) -> dict:
    """Train and test splits as flattened pixel sequences (LRA layout): (M, size*size) uint8."""
    x_train, y_train = generate(cfg, cfg["n_train"], cfg["data_seed"])
    x_test, y_test = generate(cfg, cfg["n_test"], cfg["data_seed"] + 10_000)
    return {"x_train": x_train.reshape(len(x_train), -1), "y_train": y_train,
            "x_test": x_test.reshape(len(x_test), -1), "y_test": y_test}
