"""One pass over memory for the dithered Sign on the CPU: the compare that writes +-1, and the straight-through
backward, each a numba loop that reads its inputs once and writes its output once (PyTorch needs three passes for
the first and five for the second). NumPy arrays in and out; the loops release the GIL, and callers split the rows
among their own threads (numba's parallel threading layer is not safe for concurrent callers).

Layout: the tensor is seen as rows of the threshold map's period, ``x`` (R, P) and ``thr`` (T, P), row ``r`` using
threshold row ``r % T``: (N*C, H*W) rows against (C or 1, H*W) for channels-first maps, (N*H*W, C) rows against
(H*W, C) for channels-last ones.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numba
import numpy as np

from dither_lab._threads import run_all

#: Straight-through estimators by code, as the loops take them.
STE_CODES = {"hardtanh": 0, "approxsign": 1, "identity": 2}


@numba.njit(nogil=True, cache=True)
def compare_rows(x: np.ndarray, thr: np.ndarray, out: np.ndarray, one: Any, start: int, stop: int) -> None:
    """``out[r, j] = +one if x[r, j] >= thr[r % T, j] else -one`` for rows ``start..stop-1`` (NaN gives -one);
    ``one`` is 1 in the arrays' dtype."""
    period = thr.shape[0]
    for r in range(start, stop):
        t = thr[r % period]
        xr = x[r]
        o = out[r]
        for j in range(xr.shape[0]):
            o[j] = one if xr[j] >= t[j] else -one


@numba.njit(nogil=True, cache=True)
def ste_rows(grad: np.ndarray, x: np.ndarray, thr: np.ndarray, out: np.ndarray, ste: int, one: Any, zero: Any,
             start: int, stop: int) -> None:
    """``out = grad * window(x - thr)`` for rows ``start..stop-1``: hard-tanh ``1[|d| <= 1]``, ApproxSign
    ``max(0, 2 - 2|d|)``, identity 1. ``one`` and ``zero`` are typed like the arrays, so every operation rounds in
    their dtype as PyTorch's does (NaN in ``x`` gives 0 with hard-tanh, NaN with ApproxSign, as there)."""
    period = thr.shape[0]
    two = one + one
    for r in range(start, stop):
        t = thr[r % period]
        xr = x[r]
        g = grad[r]
        o = out[r]
        for j in range(xr.shape[0]):
            d = abs(xr[j] - t[j])
            if ste == 0:
                o[j] = g[j] * (one if d <= one else zero)
            elif ste == 1:
                w = two - (d + d)
                o[j] = g[j] * (zero if w <= zero else w)
            else:
                o[j] = g[j]


def run_rows(loop: Callable[..., None], rows: int, threads: int, *args: Any) -> None:
    """Run ``loop(*args, start, stop)`` over ``rows`` rows split among ``threads`` threads (this one and the shared
    pool's)."""
    threads = max(1, min(threads, rows))
    bounds = np.linspace(0, rows, threads + 1).astype(np.int64)
    run_all([partial(loop, *args, int(bounds[i]), int(bounds[i + 1])) for i in range(threads)])
