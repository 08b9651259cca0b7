"""The Yin-Yang data set (Kriener, Göltz and Petrovici 2021, arXiv:2102.08211), generated.

Points of the unit disk centred at (0.5, 0.5) belong to one of three classes: yin (0),
yang (1) and the two dots (2). The published generator draws, for every sample, a
class uniformly and then points uniform in the square [0, 2 r_big]^2 until one lies in
the disk and has that class (rejection sampling, so the classes are balanced), with
NumPy's legacy `RandomState`. Features are (x, y, 1 - x, 1 - y). The canonical splits
(train 5000 samples with seed 42, validation 1000 with seed 41, test 1000 with seed 40)
are reproduced exactly (tests check values of the published data).
"""

from typing import Literal

import numpy as np

R_SMALL = 0.1
R_BIG = 0.5
CLASS_NAMES = ("yin", "yang", "dot")
SPLITS = {"train": (5000, 42), "validation": (1000, 41), "test": (1000, 40)}

Split = Literal["train", "validation", "test"]


def yinyang_classes(
    points: np.ndarray, r_small: float = R_SMALL, r_big: float = R_BIG
) -> np.ndarray:
    """Class of each point (..., 2) of the big disk (centre and radius r_big): 2 (dot)
    within r_small of a dot centre (r_big +- r_big/2, r_big), else 1 (yang) or 0 (yin);
    -1 outside the disk. The rules and comparisons (< or <=) are the published ones."""
    points = np.asarray(points, dtype=np.float64)
    x, y = points[..., 0], points[..., 1]
    d_right = np.hypot(x - 1.5 * r_big, y - r_big)
    d_left = np.hypot(x - 0.5 * r_big, y - r_big)
    yang = (
        (d_right <= r_small)
        | ((d_left > r_small) & (d_left <= 0.5 * r_big))
        | ((y > r_big) & (d_right > 0.5 * r_big))
    )
    classes = np.where((d_right < r_small) | (d_left < r_small), 2, yang.astype(int))
    inside = np.hypot(x - r_big, y - r_big) <= r_big
    return np.where(inside, classes, -1)


def yinyang_class(x: float, y: float, r_small: float = R_SMALL, r_big: float = R_BIG) -> int:
    """Class of one point: 0 (yin), 1 (yang), 2 (dot), or -1 outside the big disk."""
    return int(yinyang_classes(np.array([x, y]), r_small, r_big))


def generate_yinyang(
    size: int, seed: int, r_small: float = R_SMALL, r_big: float = R_BIG
) -> tuple[np.ndarray, np.ndarray]:
    """`size` samples drawn as the published generator does; returns features (size, 4)
    float64 (x, y, 1 - x, 1 - y) and labels (size,) int64.

    Per sample: goal = randint(3); repeat x, y = rand(2) * 2 r_big until (x, y) lies in
    the big disk and has class goal. The same (size, seed) always gives the same data.
    """
    if size < 0:
        raise ValueError(f"size must be >= 0, got {size}")
    if not 0 < r_small < r_big / 2:
        raise ValueError(f"need 0 < r_small < r_big/2, got r_small={r_small}, r_big={r_big}")
    rng = np.random.RandomState(seed)
    points = np.empty((size, 2))
    labels = np.empty(size, dtype=np.int64)
    for index in range(size):
        goal = rng.randint(3)
        while True:
            x, y = rng.rand(2) * 2.0 * r_big
            if yinyang_class(x, y, r_small, r_big) == goal:  # -1 outside the disk
                break
        points[index] = x, y
        labels[index] = goal
    # the square [0, 2 r_big]^2 scaled to the unit square (a no-op for r_big = 0.5)
    points /= 2.0 * r_big
    return np.concatenate([points, 1.0 - points], axis=1), labels


def load_yinyang(split: Split) -> tuple[np.ndarray, np.ndarray]:
    """A canonical split: "train" (5000, seed 42), "validation" (1000, seed 41) or
    "test" (1000, seed 40), as (features (n, 4), labels (n,))."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
    size, seed = SPLITS[split]
    return generate_yinyang(size, seed)
