"""Choosing the search for a kernel size, and running it: exhaustive up to 3x3, local past it, 3-D."""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np

from dither_lab.design import DEFAULT_OBJECTIVE
from dither_lab.design.exhaustive import search
from dither_lab.design.local import local_search, resolve_method, search_3d, tiled_start
from dither_lab.design.responses import simulate_responses


def design_kernel(images: np.ndarray, m: int, n: int, *, objective: str = DEFAULT_OBJECTIVE, slices: int = 1,
                  method: str = "auto", restarts: int = 8, seed: int = 0, top: int = 10) -> dict[str, Any]:
    """Design an m x n kernel (or an F x m x n one, ``slices`` = F > 1) on gray images by the paper's procedure.

    Args:
        images: float gray images in [0, 1], (N, H, W).
        m, n: kernel size.
        objective: one of ``OBJECTIVES`` (``csf_psnr`` needs ``method="simulate"``).
        slices: F > 1 gives a channel-cycled 3-D kernel (DeSign3D), each slice searched on its own channels.
        method: one of ``METHODS``; see :func:`resolve_method`.
        restarts: random starts of the local search.
        seed: seed of the random binary 3x3 convolution(s) and of the local search.
        top: how many best and worst candidates an exhaustive search reports.

    Returns:
        The search's JSON-ready result (see :func:`search`, :func:`local_search`, :func:`search_3d`), with
        ``method`` the method that ran and ``kernel_levels`` the best kernel in levels, (m, n) or (F, m, n).
    """
    used = resolve_method(m, n, method)
    if not (isinstance(slices, Integral) and slices >= 1):
        raise ValueError(f"slices must be a whole number >= 1, got {slices!r}")
    if slices > 1:
        local = {"restarts": restarts} if used == "local" else {}
        res = search_3d(images, slices, m, n, objective=objective, seed=seed, method=used, **local)
        return {**res, "method": used, "kernel_levels": res["levels"]}
    levels = simulate_responses(images, seed=seed)
    if used == "local":
        res = local_search(levels, m, n, objective=objective, restarts=restarts, seed=seed,
                           init=tiled_start(levels, m, n, objective=objective))
    else:
        res = search(levels, m, n, objective=objective, top=top, method=used)
    return {**res, "kernel_levels": res["best"][0]["levels"]}
