"""Kernels past the exhaustive range: coordinate descent on the exact tables, and channel-cycled 3-D kernels."""

from __future__ import annotations

import time
from numbers import Integral
from typing import Any

import numpy as np

from dither_lab._checks import check_choice
from dither_lab.design import (
    DEFAULT_OBJECTIVE,
    MAX_EXHAUSTIVE_ENTRIES,
    MAX_LOCAL_SIDE,
    MAXIMIZE,
    METHODS,
    TABLE_OBJECTIVES,
)
from dither_lab.design.exhaustive import build_tables, score_tables, search
from dither_lab.design.responses import LEVEL_VALUES, simulate_responses
from dither_lab.kernels import LEVELS


def local_search(levels: np.ndarray, m: int, n: int, *, objective: str = DEFAULT_OBJECTIVE, restarts: int = 8,
                 seed: int = 0, init: Any = None, max_sweeps: int = 100) -> dict[str, Any]:
    """Kernels past 3x3 (6^16 candidates for 4x4) by coordinate descent on the exact tables.

    Method: from a start kernel, visit the entries in a seeded random order; for each, score all six levels with the
    others fixed (exactly, from :func:`build_tables`) and keep the best (a tie keeps the current level). Sweeps
    repeat until one changes nothing (a local optimum: no single-entry change improves the score) or
    ``max_sweeps``. Starts: ``init`` kernels (levels, e.g. a smaller optimum tiled up) and ``restarts`` seeded
    random kernels; the best local optimum wins. With 32 starts it finds the exhaustive optimum on 2x2 and 3x3 in
    the tests (with 8, TV can end in the other phase of the checkerboard: no single-entry change links the two),
    but it is a heuristic: nothing proves its result global past 3x3.

    Args:
        levels: level indices from :func:`simulate_responses`.
        m, n: kernel size, 1..``MAX_LOCAL_SIDE``.
        objective: one of ``TABLE_OBJECTIVES``.
        restarts: random starts.
        init: start kernels in levels: one (m, n) kernel, or several as (K, m, n) or a list of (m, n).

    Returns:
        JSON-ready dict: the best kernel (levels) and score, every start's local optimum, evaluations, seconds.
    """
    check_choice("objective", objective, TABLE_OBJECTIVES)
    for name, v in (("m", m), ("n", n)):
        if not (isinstance(v, (int, np.integer)) and 1 <= v <= MAX_LOCAL_SIDE):
            raise ValueError(f"{name} must be an integer in 1..{MAX_LOCAL_SIDE}, got {v!r}")
    if restarts < 0 or max_sweeps < 1:
        raise ValueError(f"restarts must be >= 0 and max_sweeps >= 1, got {restarts} and {max_sweeps}")
    t0 = time.perf_counter()
    tables = build_tables(levels, m, n)
    sign = -1.0 if MAXIMIZE[objective] else 1.0  # minimize sign * score
    rng = np.random.default_rng(seed)
    starts = [] if init is None else list(np.asarray(init)[None] if np.ndim(init) == 2 else np.asarray(init))
    digits0 = []
    for k in starts:
        if k.shape != (m, n) or not np.isin(k, LEVEL_VALUES).all():
            raise ValueError(f"init kernels must be {m}x{n} arrays of levels {LEVELS}, got {k.tolist()}")
        digits0.append(np.searchsorted(LEVEL_VALUES, k.ravel()))
    digits0 += [rng.integers(0, 6, m * n) for _ in range(restarts)]
    if not digits0:
        raise ValueError("give at least one start: restarts >= 1 or an init kernel")
    evals = 0
    runs = []
    for d0 in digits0:
        cur = d0.astype(np.intp).copy()
        best = sign * float(score_tables(tables, cur[None], objective=objective)[0])
        sweeps = 0
        for sweeps in range(1, max_sweeps + 1):  # noqa: B007 (reported)
            changed = False
            for p in rng.permutation(m * n):
                cands = np.repeat(cur[None], 6, axis=0)
                cands[:, p] = np.arange(6)
                s = sign * score_tables(tables, cands, objective=objective)
                evals += 6
                j = int(np.argmin(s))
                if s[j] < best - 1e-12 and j != cur[p]:
                    cur[p], best, changed = j, float(s[j]), True
            if not changed:
                break
        runs.append({"start": LEVEL_VALUES[d0].reshape(m, n).tolist(), "levels": LEVEL_VALUES[cur].reshape(m, n).tolist(),
                     "score": sign * best, "sweeps": sweeps})
    win = min(runs, key=lambda r: sign * r["score"])
    return {"size": [m, n], "objective": objective, "maximize": MAXIMIZE[objective], "method": "local",
            "images": int(np.asarray(levels).shape[0]), "reference_tv": tables.ref_tv,
            "best": [{"levels": win["levels"], "score": win["score"]}], "starts": runs, "evaluations": evals,
            "seconds": time.perf_counter() - t0}


def tiled_start(levels: np.ndarray, m: int, n: int, *, objective: str = DEFAULT_OBJECTIVE) -> np.ndarray | None:
    """The exhaustive 2x2 optimum tiled up to m x n (a start for :func:`local_search`), or None when m or n is odd."""
    if m % 2 or n % 2:
        return None
    return np.tile(np.array(search(levels, 2, 2, objective=objective, top=1)["best"][0]["levels"]), (m // 2, n // 2))


def resolve_method(m: int, n: int, method: str = "auto") -> str:
    """The search method for an m x n kernel: ``auto`` is ``table`` (exhaustive, exact) up to 3x3 and ``local``
    past it.

    Raises:
        ValueError: an unknown method, a side outside 1..``MAX_LOCAL_SIDE``, or an exhaustive method past 3x3.
    """
    check_choice("method", method, METHODS)
    for name, v in (("m", m), ("n", n)):
        if not (isinstance(v, Integral) and 1 <= v <= MAX_LOCAL_SIDE):
            raise ValueError(f"kernel sides must be 1..{MAX_LOCAL_SIDE}, got {name}={v!r}")
    if method == "auto":
        return "table" if m * n <= MAX_EXHAUSTIVE_ENTRIES else "local"
    if method != "local" and m * n > MAX_EXHAUSTIVE_ENTRIES:
        raise ValueError(f"exhaustive search covers kernels up to 3x3 (6^9 candidates), got {m}x{n}; "
                         "use the local method for larger kernels")
    return method


def search_3d(images: np.ndarray, slices: int, m: int, n: int, *, objective: str = DEFAULT_OBJECTIVE,
              channels: int | None = None, seed: int = 0, method: str = "auto", **local: Any) -> dict[str, Any]:
    """Channel-cycled (3-D) kernels, as the authors' DeSign3D: slice ``f`` thresholds channels ``c = f mod F``.

    The simulation gets ``channels`` response channels (default ``2 F``), channel ``c`` from its own random
    {-1, +1} 3x3 convolution (seed ``seed + c``). Because every table objective is a sum over pixels of one channel,
    a slice only changes the score of its own channels: the best 3-D kernel is the best 2-D kernel of each channel
    group, searched on that group's responses pooled. Each slice is found by ``method`` (one of ``METHODS``, as
    :func:`resolve_method` reads it: exhaustive, ``table`` or ``simulate``, up to 3x3, or :func:`local_search`).

    Args:
        images: float gray images in [0, 1], (N, H, W).
        slices: F, the number of slices (channel period).

    Returns:
        JSON-ready dict: the (F, m, n) kernel in levels, each slice's score and search, seconds.
    """
    used = resolve_method(m, n, method)
    if not (isinstance(slices, (int, np.integer)) and 1 <= slices <= 64):
        raise ValueError(f"slices must be an integer in 1..64, got {slices!r}")
    channels = 2 * slices if channels is None else channels
    if not (isinstance(channels, (int, np.integer)) and channels >= slices):
        raise ValueError(f"channels must be an integer >= slices ({slices}), got {channels!r}")
    t0 = time.perf_counter()
    responses = [simulate_responses(images, seed=seed + c) for c in range(channels)]
    out = []
    for f in range(slices):
        pooled = np.concatenate(responses[f::slices])
        res = (local_search(pooled, m, n, objective=objective, **local) if used == "local"
               else search(pooled, m, n, objective=objective, top=1, method=used))
        out.append({"slice": f, "channels": list(range(f, channels, slices)), "levels": res["best"][0]["levels"],
                    "score": res["best"][0]["score"], "method": res["method"]})
    return {"size": [slices, m, n], "objective": objective, "maximize": MAXIMIZE[objective], "channels": channels,
            "levels": [s["levels"] for s in out], "slices": out, "seconds": time.perf_counter() - t0}
