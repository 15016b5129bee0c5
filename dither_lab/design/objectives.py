"""What a candidate kernel is scored by: the search objectives, and scoring by simulating each binarization.

Scores are computed on one scale: ``b`` in {0, 1} and the real-valued reference ``R / 9`` in [0, 1].
Objectives (:data:`dither_lab.design.OBJECTIVES`):

* ``tone`` (the default): mean squared difference of the 2x2 local means of ``b`` and ``R / 9`` (minimize): the
  local tone kept, as a low-pass sees it; won by kernels that dither.
* ``tv``: isotropic total variation of ``b`` (maximize; the paper's choice). Degenerate: a kernel pairing a
  level that always fires (0) with one that never does (9) draws a checkerboard whatever the image.
* ``tv_match``: ``|TV(b) - TV(R / 9)|`` (minimize): detail kept relative to the real-valued response.
* ``mse`` (minimize) and ``psnr`` (maximize) of ``b`` against ``R / 9``.
* ``correlation``: Pearson correlation of ``b`` with ``R`` (maximize).
* ``csf_psnr``: PSNR after the eye's contrast-sensitivity filter (maximize; simulated search only).
"""

from __future__ import annotations

import numpy as np

from dither_lab._checks import check_choice
from dither_lab.design import DEFAULT_OBJECTIVE, OBJECTIVES
from dither_lab.design.responses import binarize_levels, reference, reference_tv

_SQRT2 = np.sqrt(2.0)


def _tv01(b: np.ndarray) -> np.ndarray:
    """Isotropic TV of {0, 1} maps over the interior, averaged over the last three axes (N, H, W): the same value
    as :func:`dither_lab.imaging.metrics.total_variation` of each map stack, from bit operations (fast for many
    candidates at once)."""
    c = b[..., :-1, :-1]
    xr = c ^ b[..., :-1, 1:]
    xd = c ^ b[..., 1:, :-1]
    both = (xr & xd).sum(axis=(-3, -2, -1))
    one = (xr ^ xd).sum(axis=(-3, -2, -1))
    return (one + _SQRT2 * both) / (c.shape[-3] * c.shape[-2] * c.shape[-1])


def _box2(a: np.ndarray) -> np.ndarray:
    """Means of every 2x2 window over the last two axes ('valid')."""
    return (a[..., :-1, :-1] + a[..., :-1, 1:] + a[..., 1:, :-1] + a[..., 1:, 1:]) / 4.0


def score_simulated(levels: np.ndarray, candidates: np.ndarray, *, objective: str = DEFAULT_OBJECTIVE,
                    chunk: int = 8) -> np.ndarray:
    """Score candidates by simulating each binarization (the reference path; any objective).

    Args:
        levels: level indices (N, H, W) from :func:`simulate_responses`.
        candidates: level indices (C, m, n).
        objective: one of ``OBJECTIVES``.
    """
    check_choice("objective", objective, OBJECTIVES)
    from dither_lab.imaging.metrics import csf_psnr

    ref = reference(levels)
    ref_tv = reference_tv(levels) if objective == "tv_match" else 0.0
    out = np.empty(len(candidates))
    for s in range(0, len(candidates), chunk):
        b = binarize_levels(levels, candidates[s : s + chunk])  # (c, N, H, W) bool
        if objective == "tone":
            bb, rb = _box2(b.astype(np.float64)), _box2(ref)
            out[s : s + chunk] = ((bb - rb[None]) ** 2).mean(axis=(1, 2, 3))
        elif objective == "tv":
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


