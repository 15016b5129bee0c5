"""From generator output to thresholds: ranks and quantiles, and the DeSign paper's levels and released kernels.

Generators produce one of three raw forms, each mapped to a domain in one documented way:

* ranks ``r`` in ``0..N-1`` (Bayer, blue noise, cluster-dot) and uniform quantiles ``u`` (``random``, ``sign``):
  ``u = (r + 0.5) / N``; unit domain ``T = 0.5 + strength * (u - 0.5)``; bn domain ``T = strength * Phi^-1(u)``
  (Gaussian quantiles, so over a standard-normal input the tiled map keeps the mean density of +1s at 1/2).
* levels of the DeSign paper in {0, 1, 3, 5, 7, 9} (presets, ``levels:``): bn domain uses the authors' table
  ``0->0.3118, 1->0.6310, 3->0.9671, 5->1.3352, 7->1.7656, 9->2.3419`` times ``strength``; unit domain maps that
  value ``t`` to ``Phi(strength * t)``, the quantile it cuts from a standard normal.
* raw values (``constant:``, ``custom:``, files, arrays): used as they are in either domain.

References:
    Monroy et al., "Designed Dithering Sign Activation for Binary Neural Networks", arXiv:2405.02220.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import ndtr, ndtri

from dither_lab._checks import check_choice

#: The level set of the DeSign search: values a ReLU'd 3x3 binary convolution of a binary image can take.
LEVELS = (0, 1, 3, 5, 7, 9)
#: The authors' mapping of levels to batch-norm units (from their released code).
LEVEL_TO_BN = {0: 0.3118, 1: 0.6310, 3: 0.9671, 5: 1.3352, 7: 1.7656, 9: 2.3419}

#: The kernels the DeSign authors released, in levels.
PRESETS: dict[str, np.ndarray] = {
    "design-2x2-a": np.array([[1, 1], [0, 3]]),
    "design-2x2-b": np.array([[1, 1], [3, 3]]),
    "design-2x2-c": np.array([[1, 3], [1, 3]]),
    "design-3x3-a": np.array([[3, 1, 3], [1, 0, 1], [3, 1, 3]]),
    "design-3x3-b": np.array([[5, 1, 3], [1, 0, 1], [3, 1, 5]]),
    "design-3x3-c": np.array([[3, 0, 3], [0, 1, 0], [3, 0, 3]]),
    "design3d-2x2x4": np.array([[[1, 1], [0, 3]], [[3, 3], [1, 5]], [[5, 5], [3, 7]], [[7, 7], [5, 9]]]),
}
PRESET_HELP = {
    "design-2x2-a": "DeSign 2x2 [[1,1],[0,3]], the authors' default",
    "design-2x2-b": "DeSign 2x2 [[1,1],[3,3]]",
    "design-2x2-c": "DeSign 2x2 [[1,3],[1,3]]",
    "design-3x3-a": "DeSign 3x3 symmetric [[3,1,3],[1,0,1],[3,1,3]]",
    "design-3x3-b": "DeSign 3x3 [[5,1,3],[1,0,1],[3,1,5]]",
    "design-3x3-c": "DeSign 3x3 [[3,0,3],[0,1,0],[3,0,3]]",
    "design3d-2x2x4": "DeSign3D 2x2x4, each channel slice one level up",
}


def ranks_to_quantiles(ranks: np.ndarray) -> np.ndarray:
    """Uniform quantiles ``(r + 0.5) / N`` of ranks ``0..N-1`` (N = number of entries)."""
    ranks = np.asarray(ranks, dtype=np.float64)
    return (ranks + 0.5) / ranks.size


def quantiles_to_thresholds(u: np.ndarray, *, domain: str, strength: float = 1.0) -> np.ndarray:
    """Map uniform quantiles to thresholds: ``0.5 + strength (u - 0.5)`` (unit) or ``strength Phi^-1(u)`` (bn)."""
    check_choice("domain", domain, ("bn", "unit"))
    u = np.asarray(u, dtype=np.float64)
    if domain == "unit":
        return 0.5 + strength * (u - 0.5)
    return strength * ndtri(u)


def levels_to_bn(levels: Any, table: dict[int, float] | None = None) -> np.ndarray:
    """Map DeSign levels {0, 1, 3, 5, 7, 9} to batch-norm units: the authors' (``LEVEL_TO_BN``), or ``table``'s
    (levels scaled from data, for example)."""
    table = LEVEL_TO_BN if table is None else table
    arr = np.asarray(levels)
    bad = sorted({float(v) for v in np.unique(arr)} - {float(k) for k in table})
    if bad:
        raise ValueError(f"levels must be in {sorted(table)}, got {bad}")
    return np.vectorize(lambda v: float(table[int(v)]), otypes=[float])(arr) if arr.size else arr.astype(float)


def levels_to_thresholds(levels: Any, *, domain: str, strength: float = 1.0) -> np.ndarray:
    """Levels to thresholds: ``strength * bn(level)`` (bn) or ``Phi(strength * bn(level))`` (unit)."""
    check_choice("domain", domain, ("bn", "unit"))
    t = strength * levels_to_bn(levels)
    return t if domain == "bn" else ndtr(t)
