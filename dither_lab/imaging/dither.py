"""Image-level dithering: ordered dithering with any threshold kernel, and error diffusion as the reference.

Images are float in [0, 1], shaped (H, W) (gray) or (C, H, W) (each channel dithered on its own). Outputs are
uint8 in {0, 1}. Ordered dithering is ``out = image >= T`` with ``T`` the tiled kernel in image units (a spec
string is read with ``domain="unit"``, so ``bayer:4`` gives thresholds ``(r + 0.5) / 16``). It is the same
comparison as the dithered Sign, on {0, 1} instead of {-1, +1}.

Error diffusion is sequential (each pixel waits for its neighbours' errors), which is why it has no place inside
a parallel network layer; it is here as the quality reference that teachers compare ordered dithering against.

References:
    Floyd and Steinberg, "An adaptive algorithm for spatial greyscale", Proc. SID 17(2), 1976.
    Jarvis, Judice and Ninke, "A survey of techniques for the display of continuous tone pictures", CGIP 1976.
    Stucki, "MECCA", IBM Research Report RZ1060, 1981. Ulichney, "Digital Halftoning", MIT Press 1987 (serpentine).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from dither_lab._checks import check_choice, check_image
from dither_lab.kernels import as_kernel, resolve_phase, tile

#: Error-diffusion weights: (matrix, column of the current pixel in its first row, divisor).
DIFFUSION_KERNELS: dict[str, tuple[list[list[int]], int, int]] = {
    "floyd-steinberg": ([[0, 0, 7], [3, 5, 1]], 1, 16),
    "jarvis-judice-ninke": ([[0, 0, 0, 7, 5], [3, 5, 7, 5, 3], [1, 3, 5, 3, 1]], 2, 48),
    "stucki": ([[0, 0, 0, 8, 4], [2, 4, 8, 4, 2], [1, 2, 4, 2, 1]], 2, 42),
    "atkinson": ([[0, 0, 1, 1], [1, 1, 1, 0], [0, 1, 0, 0]], 1, 8),
    "sierra": ([[0, 0, 0, 5, 3], [2, 4, 5, 4, 2], [0, 2, 3, 2, 0]], 2, 32),
}


def ordered_dither(image: np.ndarray, kernel: Any = "bayer:4", *, phase: Any = "origin") -> np.ndarray:
    """Ordered dithering: ``out[c, i, j] = 1 if image[c, i, j] >= T[(i + pi) mod m, (j + pj) mod n] else 0``.

    Args:
        image: float array in [0, 1], (H, W) or (C, H, W).
        kernel: Kernel, spec (read in image units) or array of thresholds. A 3-D kernel cycles over channels.
        phase: tile anchor, as in :func:`dither_lab.kernels.resolve_phase`.

    Returns:
        uint8 array of the same shape, values {0, 1}.

    Examples:
        >>> ordered_dither(np.full((2, 2), 0.5, dtype=np.float32), "bayer:2").tolist()
        [[1, 0], [0, 1]]
    """
    img = check_image(image)
    k = as_kernel(kernel, domain="unit")
    planes = img[None] if img.ndim == 2 else img
    c, h, w = planes.shape
    m = k.shape[-2]
    pi, pj = resolve_phase(phase, k.shape, h, w)
    # One period of rows of the tiled map, (C or 1, m, W): comparing row blocks against it streams the image
    # once with a contiguous inner loop, without building the whole H x W map.
    rows = tile(k, min(m, h), w, channels=c if k.is_3d else None, phase=(pi, pj)).astype(np.float32)
    rows = rows.reshape(-1, min(m, h), w)
    out = np.empty(planes.shape, dtype=bool)
    bulk = (h // m) * m
    if bulk:
        np.greater_equal(planes[:, :bulk].reshape(c, bulk // m, m, w), rows[:, None],
                         out=out[:, :bulk].reshape(c, bulk // m, m, w))
    if bulk < h:
        np.greater_equal(planes[:, bulk:], rows[:, : h - bulk], out=out[:, bulk:])
    out = out.view(np.uint8)
    return out[0] if img.ndim == 2 else out


@numba.njit(cache=True)
def _diffuse(img: np.ndarray, weights: np.ndarray, anchor: int, threshold: float, serpentine: bool) -> np.ndarray:
    h, w = img.shape
    kh, kw = weights.shape
    buf = img.astype(np.float64)
    out = np.zeros((h, w), dtype=np.uint8)
    for i in range(h):
        reverse = serpentine and (i % 2 == 1)
        for step in range(w):
            j = w - 1 - step if reverse else step
            old = buf[i, j]
            new = 1.0 if old >= threshold else 0.0
            out[i, j] = np.uint8(new)
            err = old - new
            for di in range(kh):
                ii = i + di
                if ii >= h:
                    break
                for dj in range(kw):
                    wt = weights[di, dj]
                    if wt == 0.0:
                        continue
                    off = dj - anchor
                    jj = j - off if reverse else j + off
                    if 0 <= jj < w:
                        buf[ii, jj] += err * wt
    return out


def error_diffusion(image: np.ndarray, *, method: str = "floyd-steinberg", serpentine: bool = False,
                    threshold: float = 0.5) -> np.ndarray:
    """Error-diffusion halftoning (Floyd-Steinberg, Jarvis-Judice-Ninke, Stucki, Atkinson, Sierra).

    Each pixel is set to ``1 if value >= threshold else 0`` in raster order and its error is pushed to the
    unvisited neighbours with the method's weights. ``serpentine=True`` scans odd rows right to left, mirroring
    the weights, which removes the directional worms of a plain raster scan.

    Args:
        image: float array in [0, 1], (H, W) or (C, H, W).
        method: one of ``DIFFUSION_KERNELS``.
        serpentine: boustrophedon scan.
        threshold: quantizer threshold.

    Returns:
        uint8 array of the same shape, values {0, 1}.
    """
    img = check_image(image)
    check_choice("method", method, DIFFUSION_KERNELS)
    matrix, anchor, div = DIFFUSION_KERNELS[method]
    weights = np.asarray(matrix, dtype=np.float64) / div
    planes = img[None] if img.ndim == 2 else img
    out = np.stack([_diffuse(np.ascontiguousarray(p), weights, anchor, float(threshold), bool(serpentine))
                    for p in planes])
    return out[0] if img.ndim == 2 else out
