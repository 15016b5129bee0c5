"""Tiling a kernel periodically over a map: the tile's phase and the threshold map."""

from __future__ import annotations

from typing import Any

import numpy as np

from dither_lab._checks import check_choice, check_positive_int
from dither_lab.kernels.spec import as_kernel


def resolve_phase(phase: Any, kernel_shape: tuple[int, ...], height: int, width: int) -> tuple[int, int]:
    """Tile offset (pi, pj) so that pixel (i, j) uses kernel entry ((i + pi) mod m, (j + pj) mod n).

    ``"origin"`` anchors the tile at the top-left pixel (pi = pj = 0). ``"center"`` matches the DeSign authors'
    TensorFlow code, which tiles to ``ceil(H/m)*m`` and centre-crops: ``pi = (ceil(H/m)*m - H) // 2``.
    A pair of integers is used as given.
    """
    m, n = kernel_shape[-2:]
    if isinstance(phase, str):
        check_choice("phase", phase, ("origin", "center"))
        if phase == "origin":
            return 0, 0
        return ((-(-height // m) * m - height) // 2) % m, ((-(-width // n) * n - width) // 2) % n
    try:
        pi, pj = (int(p) for p in phase)
    except (TypeError, ValueError):
        raise ValueError(f"phase must be 'origin', 'center' or a pair of integers, got {phase!r}") from None
    return pi % m, pj % n


def tile(kernel: Any, height: int, width: int, *, channels: int | None = None, phase: Any = "origin") -> np.ndarray:
    """The periodic threshold map of a kernel over an H x W grid.

    Shape: (H, W) for a 2-D kernel with ``channels=None``, else (C, H, W); a 3-D kernel (F, m, n) gives channel
    ``c`` the slice ``c mod F`` (``channels`` defaults to F).

    Examples:
        >>> tile([[0, 1], [2, 3]], 3, 3).astype(int).tolist()
        [[0, 1, 0], [2, 3, 2], [0, 1, 0]]
    """
    k = as_kernel(kernel).values
    height = check_positive_int("height", height)
    width = check_positive_int("width", width)
    pi, pj = resolve_phase(phase, k.shape, height, width)
    m, n = k.shape[-2:]
    rows = (np.arange(height) + pi) % m
    cols = (np.arange(width) + pj) % n
    if k.ndim == 2:
        t = k[rows[:, None], cols[None, :]]
        return t if channels is None else np.broadcast_to(t, (channels, height, width)).copy()
    c = k.shape[0] if channels is None else check_positive_int("channels", channels)
    return k[(np.arange(c) % k.shape[0])[:, None, None], rows[None, :, None], cols[None, None, :]]
