"""The DeSign paper's simulated responses: what a binary 3x3 convolution gives a binarized image, in levels.

The paper's procedure (Monroy et al., arXiv:2405.02220): gray images are binarized at 0.5 to {-1, +1}, convolved
('valid') with one random {-1, +1} 3x3 kernel, and passed through ReLU, giving responses R in the levels
{0, 1, 3, 5, 7, 9}. A candidate threshold kernel T over those levels, tiled periodically, binarizes the
response: ``b = 1 if R >= T else 0``. Responses are kept as level indices (0..5 into ``LEVELS``); the
real-valued reference of a response is ``R / 9`` in [0, 1].
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from dither_lab.imaging.metrics import total_variation
from dither_lab.kernels import LEVELS

LEVEL_VALUES = np.array(LEVELS)


def simulate_responses(images: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """ReLU of a 'valid' 3x3 convolution of {-1, +1}-binarized gray images with one seeded random {-1, +1} kernel.

    Args:
        images: float gray images in [0, 1], (N, H, W) with H, W >= 3.

    Returns:
        Level indices (0..5 into ``LEVELS``), uint8, (N, H - 2, W - 2).
    """
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 3 or min(x.shape[1:]) < 3:
        raise ValueError(f"images must be (N, H, W) with H, W >= 3, got shape {x.shape}")
    w = np.random.default_rng(seed).choice([-1, 1], size=(3, 3))
    s = np.where(x >= 0.5, 1, -1).astype(np.int8)
    h, wd = x.shape[1] - 2, x.shape[2] - 2
    acc = np.zeros((x.shape[0], h, wd), dtype=np.int16)
    for di, dj in itertools.product(range(3), range(3)):
        acc += w[di, dj] * s[:, di : di + h, dj : dj + wd]
    r = np.maximum(acc, 0)
    lut = np.full(10, 255, dtype=np.uint8)
    lut[LEVEL_VALUES] = np.arange(len(LEVELS))
    return lut[r]


def gray_images(images: np.ndarray) -> np.ndarray:
    """uint8 (N, C, H, W) dataset images to float gray (N, H, W) in [0, 1] (channel mean)."""
    x = np.asarray(images, dtype=np.float32) / 255.0
    return x.mean(axis=1) if x.ndim == 4 else x


def reference(levels: np.ndarray) -> np.ndarray:
    """The real-valued reference R / 9 in [0, 1] of level indices (float64)."""
    return (LEVEL_VALUES[np.asarray(levels)] / 9.0).astype(np.float64)


def reference_tv(levels: np.ndarray) -> float:
    """Total variation of the real-valued reference R / 9 (isotropic, over the pixels with both neighbours)."""
    return total_variation(reference(levels))


def response_image(levels: np.ndarray) -> np.ndarray:
    """A response map of level indices as a float image R / 9 in [0, 1]."""
    return reference(levels).astype(np.float32)


def binarize_levels(levels: np.ndarray, cand_levels: np.ndarray) -> np.ndarray:
    """b = 1 where the response level >= the tiled candidate's level: (C, N, H, W) for candidates (C, m, n)."""
    m, n = cand_levels.shape[-2:]
    h, w = levels.shape[-2:]
    rows = np.arange(h) % m
    cols = np.arange(w) % n
    return levels[None] >= cand_levels[:, rows[:, None], cols[None, :]][:, None]


def binarize_response(levels: np.ndarray, kernel_levels: Any) -> np.ndarray:
    """{0, 1} output of one response map (H, W) of level indices with a kernel given in levels {0, 1, ..., 9}."""
    k = np.searchsorted(LEVEL_VALUES, np.asarray(kernel_levels))
    return binarize_levels(np.asarray(levels)[None], k[None])[0, 0].astype(np.uint8)


def levels_from_data(levels: np.ndarray, activations: np.ndarray) -> dict[int, float]:
    """Map each DeSign level to batch-norm units from data, by matching firing rates.

    A level L fires (``R >= L``) on a fraction ``p_L`` of the simulated responses; its threshold in batch-norm
    units is the value that a measured batch-norm output exceeds with that same probability, the
    ``1 - p_L`` quantile of ``activations`` (for example a trained model's pre-activations on held-out images).

    Args:
        levels: level indices from :func:`simulate_responses`.
        activations: measured batch-norm outputs (any shape).

    Returns:
        ``{level: threshold}`` for the six levels, to compare with the authors' table ``LEVEL_TO_BN``.
    """
    lv = np.asarray(levels).ravel()
    act = np.asarray(activations, dtype=np.float64).ravel()
    act = act[np.isfinite(act)]
    if lv.size == 0 or act.size == 0:
        raise ValueError("levels and activations must not be empty")
    out = {}
    for i, level in enumerate(LEVELS):
        p_fire = float((lv >= i).mean())
        out[level] = float(np.quantile(act, min(1.0, max(0.0, 1.0 - p_fire))))
    return out
