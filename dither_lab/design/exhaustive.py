"""Exhaustive kernel search: every candidate up to 3x3, scored exactly through per-position tables.

Exact tables: with a periodic kernel each output pixel depends only on its own threshold, and each TV term only
on a pixel and its right and lower neighbours, whose kernel positions are fixed by the tile phase. So every
decomposable objective is a sum of per-position terms over tables of at most three levels gathered once from the
data, and all 6^9 3x3 candidates are scored exactly without simulating any of them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from dither_lab._checks import check_choice
from dither_lab.design import DEFAULT_OBJECTIVE, MAXIMIZE, OBJECTIVES, TABLE_OBJECTIVES
from dither_lab.design.objectives import score_simulated
from dither_lab.design.responses import LEVEL_VALUES, reference, reference_tv
from dither_lab.kernels import PRESETS


def candidate_digits(m: int, n: int, start: int = 0, stop: int | None = None) -> np.ndarray:
    """Candidates ``start..stop-1`` of every m x n kernel over the six levels, as level indices (count, m * n)
    uint8, in lexicographic order (candidate i is i written in base 6, first entry most significant)."""
    k = m * n
    idx = np.arange(start, 6**k if stop is None else stop, dtype=np.int64)
    digits = np.empty((idx.size, k), dtype=np.uint8)
    for pos in range(k - 1, -1, -1):
        digits[:, pos] = idx % 6
        idx //= 6
    return digits


def all_candidates(m: int, n: int) -> np.ndarray:
    """Every kernel over the level set as level indices, (6^(m n), m, n) uint8, in lexicographic order."""
    if 6 ** (m * n) > 20_000_000:
        raise ValueError(f"{m}x{n} has 6^{m * n} candidates; exhaustive search goes up to 3x3")
    return candidate_digits(m, n).reshape(-1, m, n)


@dataclass
class Tables:
    """Per-position sufficient statistics of a response set for a period (m, n)."""

    m: int
    n: int
    tv: np.ndarray  # (m*n, 6, 6, 6): summed TV terms for (own, right, down) thresholds
    tone: np.ndarray  # (m*n, 1296): summed squared 2x2-mean differences for (own, right, down, diagonal) thresholds
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
    r = LEVEL_VALUES / 9.0
    own = np.zeros((m * n, 6, 4))
    own[:, :, 0] = h_own @ geq  # count of b = 1 for each own threshold
    own[:, :, 1] = (h_own * r[None, :]) @ geq  # sum of b * R/9
    own[:, :, 2] = np.einsum("pa,at->pt", h_own, (r[:, None] - geq) ** 2)  # sum of (R/9 - b)^2
    # local tone: each 2x2 window's squared difference of means depends on the levels and thresholds of its four
    # pixels (own, right, down, diagonal): a histogram of the windows' levels, times the cost of every threshold set
    tone_code = code * 6 + lv[:, 1:, 1:]
    hist4 = np.bincount((cls[None] * 1296 + tone_code).ravel(), minlength=m * n * 1296).reshape(m * n, 1296)
    a4 = np.indices((6,) * 4).reshape(4, -1)  # the four levels of every window code
    bits = sum(geq[a4[q][:, None], a4[q][None, :]] for q in range(4)) / 4.0  # (window levels, thresholds): mean b
    cost = (bits - r[a4].mean(0)[:, None]) ** 2
    tone = hist4.astype(np.float64) @ cost
    ref = reference(lv)
    return Tables(m, n, tv, tone, own, nimg * (h - 1) * (w - 1), lv.size, float(ref.sum()), float((ref**2).sum()),
                  reference_tv(lv))


def _neighbours(m: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    p = np.arange(m * n)
    pi, pj = p // n, p % n
    return pi * n + (pj + 1) % n, ((pi + 1) % m) * n + pj


def score_tables(tables: Tables, candidates: np.ndarray, *, objective: str = DEFAULT_OBJECTIVE) -> np.ndarray:
    """Exact scores of candidates (C, m, n) from the tables, without simulating any binarization."""
    check_choice("objective", objective, TABLE_OBJECTIVES)
    t = tables
    c = np.asarray(candidates).reshape(len(candidates), -1).astype(np.intp)
    right, down = _neighbours(t.m, t.n)
    k = t.m * t.n
    if objective == "tone":
        diag = down[right]
        tot = np.zeros(len(c))
        for p in range(k):
            tot += t.tone[p][c[:, p] * 216 + c[:, right[p]] * 36 + c[:, down[p]] * 6 + c[:, diag[p]]]
        return tot / t.interior
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


def search(levels: np.ndarray, m: int, n: int, *, objective: str = DEFAULT_OBJECTIVE, top: int = 10,
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
            scores[s : s + chunk] = score_tables(tables, candidate_digits(m, n, s, min(total, s + chunk)), objective=objective)
    else:
        if total > 50_000:
            raise ValueError(f"simulated search of {total} candidates would take too long; use method='table'")
        scores = score_simulated(levels, all_candidates(m, n), objective=objective)
    secs = time.perf_counter() - t0
    maximize = MAXIMIZE[objective]
    order = np.argsort(-scores if maximize else scores, kind="stable")
    rank = np.empty(total, dtype=np.int64)
    rank[order] = np.arange(1, total + 1)

    def entry(i: int) -> dict[str, Any]:
        lv = LEVEL_VALUES[candidate_digits(m, n, int(i), int(i) + 1)[0]].reshape(m, n)
        return {"levels": lv.tolist(), "score": float(scores[i]), "rank": int(rank[i])}

    presets = {}
    for name, lv in PRESETS.items():
        if lv.shape == (m, n):
            digits = np.searchsorted(LEVEL_VALUES, lv.ravel())
            i = int(np.ravel_multi_index(tuple(digits), (6,) * (m * n)))
            presets[name] = entry(i)
    hist, edges = np.histogram(scores, bins=40)
    return {
        "size": [m, n], "objective": objective, "maximize": maximize, "method": method, "count": total,
        "images": int(levels.shape[0]), "seconds": secs, "reference_tv": reference_tv(levels),
        "best": [entry(i) for i in order[:top]], "worst": [entry(i) for i in order[::-1][:top]],
        "presets": presets, "histogram": {"counts": hist.tolist(), "edges": edges.tolist()},
    }


