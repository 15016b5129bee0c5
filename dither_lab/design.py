"""Kernel design: the DeSign paper's search, exhaustive 2x2, and exact exhaustive 3x3 through per-position tables.

The paper's procedure (Monroy et al., arXiv:2405.02220): gray images are binarized at 0.5 to {-1, +1}, convolved
('valid') with one random {-1, +1} 3x3 kernel, and passed through ReLU, giving responses R in the levels
{0, 1, 3, 5, 7, 9}. A candidate threshold kernel T over those levels, tiled periodically, binarizes the
response: ``b = 1 if R >= T else 0``. Candidates are scored by an objective of ``b`` (the paper maximizes total
variation).

Scores are computed on one scale: ``b`` in {0, 1} and the real-valued reference ``R / 9`` in [0, 1].
Objectives (``OBJECTIVES``):

* ``tv``: isotropic total variation of ``b`` (maximize; the paper's choice). Degenerate: a kernel pairing a
  level that always fires (0) with one that never does (9) draws a checkerboard whatever the image.
* ``tv_match``: ``|TV(b) - TV(R / 9)|`` (minimize): detail kept relative to the real-valued response.
* ``mse`` (minimize) and ``psnr`` (maximize) of ``b`` against ``R / 9``.
* ``correlation``: Pearson correlation of ``b`` with ``R`` (maximize).
* ``csf_psnr``: PSNR after the eye's contrast-sensitivity filter (maximize; simulated search only).

Exact tables: with a periodic kernel each output pixel depends only on its own threshold, and each TV term only
on a pixel and its right and lower neighbours, whose kernel positions are fixed by the tile phase. So every
decomposable objective is a sum of per-position terms over tables of at most three levels gathered once from the
data, and all 6^9 3x3 candidates are scored exactly without simulating any of them.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from dither_lab._checks import check_choice
from dither_lab.kernels import LEVELS, PRESETS

OBJECTIVES = ("tv", "tv_match", "mse", "psnr", "correlation", "csf_psnr")
TABLE_OBJECTIVES = ("tv", "tv_match", "mse", "psnr", "correlation")
MAXIMIZE = {"tv": True, "tv_match": False, "mse": False, "psnr": True, "correlation": True, "csf_psnr": True}
_LV = np.array(LEVELS)
_SQRT2 = np.sqrt(2.0)


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
    lut[_LV] = np.arange(len(LEVELS))
    return lut[r]


def all_candidates(m: int, n: int) -> np.ndarray:
    """Every kernel over the level set as level indices, (6^(m n), m, n) uint8, in lexicographic order."""
    k = m * n
    if 6**k > 20_000_000:
        raise ValueError(f"{m}x{n} has 6^{k} candidates; exhaustive search goes up to 3x3")
    idx = np.arange(6**k, dtype=np.int64)
    digits = np.empty((idx.size, k), dtype=np.uint8)
    for pos in range(k - 1, -1, -1):
        digits[:, pos] = idx % 6
        idx //= 6
    return digits.reshape(-1, m, n)


def _candidate_chunk(m: int, n: int, start: int, stop: int) -> np.ndarray:
    idx = np.arange(start, stop, dtype=np.int64)
    k = m * n
    digits = np.empty((idx.size, k), dtype=np.uint8)
    for pos in range(k - 1, -1, -1):
        digits[:, pos] = idx % 6
        idx //= 6
    return digits


def _binary(levels: np.ndarray, cand_levels: np.ndarray) -> np.ndarray:
    """b = 1 where the response level >= the tiled candidate's level: (C, N, H, W) for candidates (C, m, n)."""
    m, n = cand_levels.shape[-2:]
    h, w = levels.shape[-2:]
    rows = np.arange(h) % m
    cols = np.arange(w) % n
    return levels[None] >= cand_levels[:, rows[:, None], cols[None, :]][:, None]


def _tv01(b: np.ndarray) -> np.ndarray:
    """Isotropic TV of {0, 1} maps over the interior, averaged over the last three axes (N, H, W)."""
    c = b[..., :-1, :-1]
    xr = c ^ b[..., :-1, 1:]
    xd = c ^ b[..., 1:, :-1]
    both = (xr & xd).sum(axis=(-3, -2, -1))
    one = (xr ^ xd).sum(axis=(-3, -2, -1))
    return (one + _SQRT2 * both) / (c.shape[-3] * c.shape[-2] * c.shape[-1])


def _reference(levels: np.ndarray) -> np.ndarray:
    return (_LV[levels] / 9.0).astype(np.float64)


def reference_tv(levels: np.ndarray) -> float:
    """Total variation of the real-valued reference R / 9 (interior, isotropic)."""
    r = _reference(levels)
    dx = r[:, :-1, 1:] - r[:, :-1, :-1]
    dy = r[:, 1:, :-1] - r[:, :-1, :-1]
    return float(np.sqrt(dx * dx + dy * dy).mean())


def score_simulated(levels: np.ndarray, candidates: np.ndarray, objective: str = "tv", *,
                    chunk: int = 8) -> np.ndarray:
    """Score candidates by simulating each binarization (the reference path; any objective).

    Args:
        levels: level indices (N, H, W) from :func:`simulate_responses`.
        candidates: level indices (C, m, n).
        objective: one of ``OBJECTIVES``.
    """
    check_choice("objective", objective, OBJECTIVES)
    from dither_lab.metrics import csf_psnr

    ref = _reference(levels)
    ref_tv = reference_tv(levels) if objective == "tv_match" else 0.0
    out = np.empty(len(candidates))
    for s in range(0, len(candidates), chunk):
        b = _binary(levels, candidates[s : s + chunk])  # (c, N, H, W) bool
        if objective == "tv":
            out[s : s + chunk] = _tv01(b)
        elif objective == "tv_match":
            out[s : s + chunk] = np.abs(_tv01(b) - ref_tv)
        elif objective in ("mse", "psnr"):
            mse = ((b - ref[None]) ** 2).mean(axis=(1, 2, 3))
            out[s : s + chunk] = mse if objective == "mse" else 10 * np.log10(1.0 / np.maximum(mse, 1e-12))
        elif objective == "correlation":
            bf = b.reshape(b.shape[0], -1).astype(np.float64)
            rf = ref.ravel()
            bc = bf - bf.mean(1, keepdims=True)
            rc = rf - rf.mean()
            den = np.sqrt((bc**2).sum(1) * (rc**2).sum())
            out[s : s + chunk] = np.divide(bc @ rc, den, out=np.zeros(len(bc)), where=den > 0)
        else:
            out[s : s + chunk] = [np.mean([csf_psnr(r, bi.astype(np.float64), data_range=1.0) for r, bi in zip(ref, bb, strict=True)])
                                  for bb in b]
    return out


@dataclass
class Tables:
    """Per-position sufficient statistics of a response set for a period (m, n)."""

    m: int
    n: int
    tv: np.ndarray  # (m*n, 6, 6, 6): summed TV terms for (own, right, down) thresholds
    own: np.ndarray  # (m*n, 6, 4): per own threshold: count of b=1, sum of b*R/9, sum of (R/9 - b)^2, unused
    interior: int  # number of TV terms
    pixels: int  # number of pixels
    ref_sum: float
    ref_sq: float
    ref_tv: float


def build_tables(levels: np.ndarray, m: int, n: int) -> Tables:
    """Gather the per-position tables of at most three levels from the data, once."""
    lv = np.asarray(levels)
    nimg, h, w = lv.shape
    if h < m + 1 or w < n + 1:
        raise ValueError(f"responses of size {h}x{w} are too small for a {m}x{n} kernel")
    geq = (np.arange(6)[:, None] >= np.arange(6)[None, :]).astype(np.intp)  # geq[a, t]: level a fires at t
    # TV value of a pixel given bits (own, right, down)
    tvf = np.sqrt((np.arange(2)[:, None, None] ^ np.arange(2)[None, :, None]) +
                  (np.arange(2)[:, None, None] ^ np.arange(2)[None, None, :]))
    ii, jj = np.meshgrid(np.arange(h - 1), np.arange(w - 1), indexing="ij")
    code = (lv[:, :-1, :-1].astype(np.int64) * 36 + lv[:, :-1, 1:] * 6 + lv[:, 1:, :-1])
    cls = (ii % m) * n + (jj % n)
    tv = np.zeros((m * n, 6, 6, 6))
    hist = np.bincount((cls[None] * 216 + code).ravel(), minlength=m * n * 216).reshape(m * n, 6, 6, 6)
    # S[p, tp, tr, td] = sum_abc hist[p, a, b, c] * tvf[geq[a, tp], geq[b, tr], geq[c, td]]
    term = tvf[geq[:, None, None, :, None, None], geq[None, :, None, None, :, None], geq[None, None, :, None, None, :]]
    tv = np.einsum("pabc,abcxyz->pxyz", hist.astype(np.float64), term.astype(np.float64))
    ci, cj = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    cls_all = (ci % m) * n + (cj % n)
    h_own = np.bincount((cls_all[None] * 6 + lv).ravel(), minlength=m * n * 6).reshape(m * n, 6).astype(np.float64)
    r = _LV / 9.0
    own = np.zeros((m * n, 6, 4))
    own[:, :, 0] = h_own @ geq  # count of b = 1 for each own threshold
    own[:, :, 1] = (h_own * r[None, :]) @ geq  # sum of b * R/9
    own[:, :, 2] = np.einsum("pa,at->pt", h_own, (r[:, None] - geq) ** 2)  # sum of (R/9 - b)^2
    ref = _reference(lv)
    return Tables(m, n, tv, own, nimg * (h - 1) * (w - 1), lv.size, float(ref.sum()), float((ref**2).sum()),
                  reference_tv(lv))


def _neighbours(m: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    p = np.arange(m * n)
    pi, pj = p // n, p % n
    return pi * n + (pj + 1) % n, ((pi + 1) % m) * n + pj


def score_tables(tables: Tables, candidates: np.ndarray, objective: str = "tv") -> np.ndarray:
    """Exact scores of candidates (C, m, n) from the tables, without simulating any binarization."""
    check_choice("objective", objective, TABLE_OBJECTIVES)
    t = tables
    c = np.asarray(candidates).reshape(len(candidates), -1).astype(np.intp)
    right, down = _neighbours(t.m, t.n)
    k = t.m * t.n
    if objective in ("tv", "tv_match"):
        tot = np.zeros(len(c))
        for p in range(k):
            tot += t.tv[p][c[:, p], c[:, right[p]], c[:, down[p]]]
        tv = tot / t.interior
        return tv if objective == "tv" else np.abs(tv - t.ref_tv)
    sums = np.zeros((len(c), 3))
    for p in range(k):
        sums += t.own[p][c[:, p], :3]
    if objective in ("mse", "psnr"):
        mse = sums[:, 2] / t.pixels
        return mse if objective == "mse" else 10 * np.log10(1.0 / np.maximum(mse, 1e-12))
    npx = t.pixels
    mb, mr = sums[:, 0] / npx, t.ref_sum / npx
    cov = sums[:, 1] / npx - mb * mr
    var_b = mb - mb * mb
    var_r = t.ref_sq / npx - mr * mr
    den = np.sqrt(var_b * var_r)
    return np.divide(cov, den, out=np.zeros(len(c)), where=den > 0)


def search(levels: np.ndarray, m: int, n: int, objective: str = "tv", *, top: int = 10,
           method: str = "table", chunk: int = 1_000_000) -> dict[str, Any]:
    """Exhaustive search of every m x n kernel over the level set; returns the full ranking summary.

    Args:
        levels: level indices from :func:`simulate_responses`.
        m, n: kernel size (2x2: 1296 candidates; 3x3: 10,077,696).
        objective: one of ``OBJECTIVES`` (``csf_psnr`` needs ``method="simulate"``).
        top: how many best and worst candidates to report.
        method: ``"table"`` (exact, fast) or ``"simulate"`` (the reference path).

    Returns:
        JSON-ready dict: objective, direction, count, seconds, best and worst (levels and scores), the score and rank
        of every paper preset of this size, the reference TV, and a histogram of all scores.
    """
    check_choice("method", method, ("table", "simulate"))
    check_choice("objective", objective, OBJECTIVES)
    if method == "table" and objective not in TABLE_OBJECTIVES:
        raise ValueError(f"objective {objective!r} does not decompose into tables; use method='simulate' (2x2)")
    total = 6 ** (m * n)
    t0 = time.perf_counter()
    if method == "table":
        tables = build_tables(levels, m, n)
        scores = np.empty(total)
        for s in range(0, total, chunk):
            scores[s : s + chunk] = score_tables(tables, _candidate_chunk(m, n, s, min(total, s + chunk)), objective)
    else:
        if total > 50_000:
            raise ValueError(f"simulated search of {total} candidates would take too long; use method='table'")
        scores = score_simulated(levels, all_candidates(m, n), objective)
    secs = time.perf_counter() - t0
    maximize = MAXIMIZE[objective]
    order = np.argsort(-scores if maximize else scores, kind="stable")
    rank = np.empty(total, dtype=np.int64)
    rank[order] = np.arange(1, total + 1)

    def entry(i: int) -> dict[str, Any]:
        lv = _LV[_candidate_chunk(m, n, int(i), int(i) + 1)[0]].reshape(m, n)
        return {"levels": lv.tolist(), "score": float(scores[i]), "rank": int(rank[i])}

    presets = {}
    for name, lv in PRESETS.items():
        if lv.shape == (m, n):
            digits = np.searchsorted(_LV, lv.ravel())
            i = int(np.ravel_multi_index(tuple(digits), (6,) * (m * n)))
            presets[name] = entry(i)
    hist, edges = np.histogram(scores, bins=40)
    return {
        "size": [m, n], "objective": objective, "maximize": maximize, "method": method, "count": total,
        "images": int(levels.shape[0]), "seconds": secs, "reference_tv": reference_tv(levels),
        "best": [entry(i) for i in order[:top]], "worst": [entry(i) for i in order[::-1][:top]],
        "presets": presets, "histogram": {"counts": hist.tolist(), "edges": edges.tolist()},
    }


def gray_images(images: np.ndarray) -> np.ndarray:
    """uint8 (N, C, H, W) dataset images to float gray (N, H, W) in [0, 1] (channel mean)."""
    x = np.asarray(images, dtype=np.float32) / 255.0
    return x.mean(axis=1) if x.ndim == 4 else x


def binarize_response(levels: np.ndarray, kernel_levels: Any) -> np.ndarray:
    """{0, 1} output of one response map (H, W) of level indices with a kernel given in levels {0, 1, ..., 9}."""
    k = np.searchsorted(_LV, np.asarray(kernel_levels))
    return _binary(np.asarray(levels)[None], k[None])[0, 0].astype(np.uint8)


def response_image(levels: np.ndarray) -> np.ndarray:
    """A response map of level indices as a float image R / 9 in [0, 1]."""
    return (_LV[np.asarray(levels)] / 9.0).astype(np.float32)


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


# ---------------------------------------------------------------------------------------------- past 3x3

#: The largest kernel side the local search takes (the responses must be larger than the kernel).
MAX_LOCAL_SIDE = 16


def local_search(levels: np.ndarray, m: int, n: int, objective: str = "tv", *, restarts: int = 8, seed: int = 0,
                 init: Any = None, max_sweeps: int = 100) -> dict[str, Any]:
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
        if k.shape != (m, n) or not np.isin(k, _LV).all():
            raise ValueError(f"init kernels must be {m}x{n} arrays of levels {LEVELS}, got {k.tolist()}")
        digits0.append(np.searchsorted(_LV, k.ravel()))
    digits0 += [rng.integers(0, 6, m * n) for _ in range(restarts)]
    if not digits0:
        raise ValueError("give at least one start: restarts >= 1 or an init kernel")
    evals = 0
    runs = []
    for d0 in digits0:
        cur = d0.astype(np.intp).copy()
        best = sign * float(score_tables(tables, cur[None], objective)[0])
        sweeps = 0
        for sweeps in range(1, max_sweeps + 1):  # noqa: B007 (reported)
            changed = False
            for p in rng.permutation(m * n):
                cands = np.repeat(cur[None], 6, axis=0)
                cands[:, p] = np.arange(6)
                s = sign * score_tables(tables, cands, objective)
                evals += 6
                j = int(np.argmin(s))
                if s[j] < best - 1e-12 and j != cur[p]:
                    cur[p], best, changed = j, float(s[j]), True
            if not changed:
                break
        runs.append({"start": _LV[d0].reshape(m, n).tolist(), "levels": _LV[cur].reshape(m, n).tolist(),
                     "score": sign * best, "sweeps": sweeps})
    win = min(runs, key=lambda r: sign * r["score"])
    return {"size": [m, n], "objective": objective, "maximize": MAXIMIZE[objective], "method": "local",
            "images": int(np.asarray(levels).shape[0]), "reference_tv": tables.ref_tv,
            "best": [{"levels": win["levels"], "score": win["score"]}], "starts": runs, "evaluations": evals,
            "seconds": time.perf_counter() - t0}


def tiled_start(levels: np.ndarray, m: int, n: int, objective: str = "tv") -> np.ndarray | None:
    """The exhaustive 2x2 optimum tiled up to m x n (a start for :func:`local_search`), or None when m or n is odd."""
    if m % 2 or n % 2:
        return None
    return np.tile(np.array(search(levels, 2, 2, objective, top=1)["best"][0]["levels"]), (m // 2, n // 2))


def search_3d(images: np.ndarray, slices: int, m: int, n: int, objective: str = "tv", *, channels: int | None = None,
              seed: int = 0, method: str = "auto", **local: Any) -> dict[str, Any]:
    """Channel-cycled (3-D) kernels, as the authors' DeSign3D: slice ``f`` thresholds channels ``c = f mod F``.

    The simulation gets ``channels`` response channels (default ``2 F``), channel ``c`` from its own random
    {-1, +1} 3x3 convolution (seed ``seed + c``). Because every table objective is a sum over pixels of one channel,
    a slice only changes the score of its own channels: the best 3-D kernel is the best 2-D kernel of each channel
    group, searched on that group's responses pooled. Each slice is found exhaustively (``method="exhaustive"``,
    up to 3x3) or by :func:`local_search` (``"local"``); ``"auto"`` picks exhaustive up to 3x3.

    Args:
        images: float gray images in [0, 1], (N, H, W).
        slices: F, the number of slices (channel period).

    Returns:
        JSON-ready dict: the (F, m, n) kernel in levels, each slice's score and search, seconds.
    """
    check_choice("method", method, ("auto", "exhaustive", "local"))
    if not (isinstance(slices, (int, np.integer)) and 1 <= slices <= 64):
        raise ValueError(f"slices must be an integer in 1..64, got {slices!r}")
    channels = 2 * slices if channels is None else channels
    if not (isinstance(channels, (int, np.integer)) and channels >= slices):
        raise ValueError(f"channels must be an integer >= slices ({slices}), got {channels!r}")
    t0 = time.perf_counter()
    responses = [simulate_responses(images, seed=seed + c) for c in range(channels)]
    exhaustive = method == "exhaustive" or (method == "auto" and m * n <= 9)
    out = []
    for f in range(slices):
        pooled = np.concatenate(responses[f::slices])
        res = search(pooled, m, n, objective, top=1) if exhaustive else local_search(pooled, m, n, objective, **local)
        out.append({"slice": f, "channels": list(range(f, channels, slices)), "levels": res["best"][0]["levels"],
                    "score": res["best"][0]["score"], "method": res["method"]})
    return {"size": [slices, m, n], "objective": objective, "maximize": MAXIMIZE[objective], "channels": channels,
            "levels": [s["levels"] for s in out], "slices": out, "seconds": time.perf_counter() - t0}
