"""Detail-preservation metrics for binary maps against the real-valued map they came from.

Conventions: every metric takes arrays shaped (H, W) or (C, H, W) and an explicit ``data_range`` where the
scale matters. A binary map in {-1, +1} (an activation) is compared with a real map after both are brought to
[0, 1]: the binary map by ``(b + 1) / 2`` and the real map linearly from a stated range ``(lo, hi)`` with
clipping (see :func:`to_unit_range`); :func:`detail_metrics` records the range it used. Images in [0, 1] and
dithered outputs in {0, 1} are already in that range.

Which way is better, and what each metric measures, is in :data:`METRICS`; the eye-weighted metric models a
stated viewing condition (:class:`Viewing`, :data:`VIEWING`).

References:
    Wang et al., "Image quality assessment: from error visibility to structural similarity", IEEE TIP 2004 (SSIM).
    Mannos and Sakrison, "The effects of a visual fidelity criterion on the encoding of images",
    IEEE Trans. Information Theory 20(4), 1974 (contrast sensitivity function).
    Ulichney, "Digital Halftoning", MIT Press 1987 (radially averaged power spectrum of blue noise).
    Mitsa and Varkur, "Evaluation of contrast sensitivity functions for the formulation of quality measures
    incorporated in halftoning algorithms", ICASSP 1993 (CSF-weighted error as a halftone quality measure).
    Lau and Arce, "Modern Digital Halftoning", 2nd ed., CRC Press 2008 (halftones judged at print resolution and
    reading distance, where the eye low-passes the dither texture away).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import fft as sfft
from scipy import ndimage
from skimage import metrics as skm

from dither_lab._checks import check_choice, check_same_shape

TV_KINDS = ("isotropic", "anisotropic", "paper")


# ------------------------------------------------------------------------------------------ viewing conditions


@dataclass(frozen=True)
class Viewing:
    """A viewing condition: image pixels per inch as shown, and the distance they are seen from.

    The eye-weighted metric needs how many image pixels fall in one degree of visual angle, which decides which
    frequencies of the error the eye still resolves.
    """

    name: str
    pixels_per_inch: float
    distance_cm: float
    summary: str

    @property
    def pixels_per_degree(self) -> float:
        """Image pixels in one degree of visual angle: ``ppi / 2.54 * distance * tan(1 degree)``."""
        return self.pixels_per_inch / 2.54 * self.distance_cm * math.tan(math.radians(1.0))

    def describe(self) -> str:
        """The condition in words, for printing beside the numbers."""
        return f"{self.summary} ({self.pixels_per_degree:.1f} pixels/degree)"


#: Named viewing conditions. ``print`` is the default: binary images are halftones, and halftones are judged as
#: printed at 300 dpi and read at about 30 cm (Lau and Arce 2008), where the eye no longer resolves a dither's
#: finest texture. ``screen`` is an image shown pixel for pixel on a 96-pixel-per-inch monitor seen from 50 cm,
#: where it still does (the app's 1:1 display on such a screen).
VIEWING: dict[str, Viewing] = {
    "print": Viewing("print", 300.0, 30.0, "printed at 300 dpi, seen from 30 cm"),
    "screen": Viewing("screen", 96.0, 50.0, "shown 1:1 at 96 pixels per inch, seen from 50 cm"),
}
DEFAULT_VIEWING = "print"
#: Pixels per degree of the default viewing condition (61.8).
DEFAULT_PPD = VIEWING[DEFAULT_VIEWING].pixels_per_degree


def viewing_ppd(viewing: str | float) -> float:
    """Pixels per degree of a named viewing condition (``VIEWING``) or a number of pixels per degree.

    Raises:
        ValueError: an unknown name or a number that is not positive and finite.
    """
    if isinstance(viewing, str):
        if viewing in VIEWING:
            return VIEWING[viewing].pixels_per_degree
        try:
            viewing = float(viewing)
        except ValueError:
            raise ValueError(f"viewing must be one of {', '.join(VIEWING)} or a number of pixels per degree, "
                             f"got {viewing!r}") from None
    v = float(viewing)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"pixels per degree must be a positive number, got {viewing!r}")
    return v


def describe_viewing(pixels_per_degree: float) -> str:
    """``pixels_per_degree`` in words: the named condition it is, or the number."""
    for v in VIEWING.values():
        if abs(v.pixels_per_degree - pixels_per_degree) < 1e-9:
            return v.describe()
    return f"{pixels_per_degree:.1f} pixels/degree"


# --------------------------------------------------------------------------------------------- what each means


@dataclass(frozen=True)
class MetricInfo:
    """What a metric of :func:`detail_metrics` measures and which way is better.

    Attributes:
        label: a short column header.
        better: ``"higher"``, ``"lower"``, ``"near 1"``, ``"near 0"`` or ``"near the input's mean"``.
        help: one sentence for people.
        group: ``"tone and detail"`` (what dithering keeps; tables lead with these), ``"pixel fidelity"``
            (pixel by pixel against the real-valued reference, which any binary texture is penalized by), or
            ``"texture"`` (how the output's variation and error are made: best near the value a faithful output
            would have, 1 for the TV ratio and 0 for the residual correlation, though a binary output cannot reach
            it).
    """

    label: str
    better: str
    help: str
    group: str

    @property
    def arrow(self) -> str:
        """The direction in one symbol: up, down, or toward a target."""
        return {"higher": "↑", "lower": "↓", "near the input's mean": "→ mean"}.get(
            self.better, "→ " + self.better.removeprefix("near "))


METRICS: dict[str, MetricInfo] = {
    "tone_error": MetricInfo("tone error", "lower", "Mean difference of local brightness (both blurred, Gaussian "
                             "sigma 2 px): how well the local share of white pixels follows the tone.", "tone and detail"),
    "csf_psnr": MetricInfo("eye-weighted PSNR (dB)", "higher", "PSNR of the error as the eye sees it (Mannos-Sakrison "
                           "contrast sensitivity) at the stated viewing condition.", "tone and detail"),
    "local_correlation": MetricInfo("local correlation", "higher", "Correlation of local brightness (both blurred, "
                                    "sigma 1 px) with the input's: detail kept, whatever the overall shift.",
                                    "tone and detail"),
    "density": MetricInfo("share of 1s", "near the input's mean", "Fraction of white pixels (+1s); the input's mean "
                          "tone is the share that keeps overall brightness.", "tone and detail"),
    "psnr": MetricInfo("PSNR (dB)", "higher", "Pixel by pixel against the gray input: any binary texture is penalized, "
                       "so Sign's flat areas score well here although they lose the tone.", "pixel fidelity"),
    "ssim": MetricInfo("SSIM", "higher", "Structural similarity pixel by pixel against the gray input: like PSNR it "
                       "penalizes the dither texture the eye averages away.", "pixel fidelity"),
    "tv_ratio": MetricInfo("TV ratio", "near 1", "Total variation of the output over the input's: how much "
                           "variation it has; binary textures have more than the input.", "texture"),
    "residual_correlation": MetricInfo("residual corr.", "near 0", "Correlation of the error with the input: "
                                       "0 is an error unrelated to the image.", "texture"),
}
#: :data:`METRICS` in the two tables the app shows: what dithering keeps (tone and detail), then the rest.
KEPT = [k for k, m in METRICS.items() if m.group == "tone and detail"]
OTHERS = [k for k in METRICS if k not in KEPT]


def _scores(values: list[float | None], better: str, target: float | None) -> list[tuple[float, int]]:
    """(score, index) of the finite ``values``, lower scores better, by the direction ``better``."""
    goal = {"near 1": 1.0, "near 0": 0.0}.get(better, target)
    scored = []
    for i, v in enumerate(values):
        if v is None or not np.isfinite(v):
            continue
        key = -v if better == "higher" else v if better == "lower" else abs(v - (goal if goal is not None else 0.0))
        scored.append((float(key), i))
    return scored


def best_index(values: list[float | None], better: str, *, target: float | None = None) -> int | None:
    """Index of the best of ``values`` by the direction ``better`` (a :class:`MetricInfo` direction); ``target``
    is the input's mean for ``"near the input's mean"``. None when no value is finite."""
    scored = _scores(values, better, target)
    return min(scored)[1] if scored else None


def best_indices(values: list[float | None], better: str, *, target: float | None = None,
                 decimals: int = 9) -> list[int]:
    """Indices of every value as good as the best (:func:`best_index`): ties by the direction's score, so 0.95 and
    1.05 tie for "near 1", compared to ``decimals`` places (float rounding is no difference).

    Examples:
        >>> best_indices([0.95, 1.05, 1.2], "near 1"), best_indices([2.0, 3.0, 3.0], "higher")
        ([0, 1], [1, 2])
    """
    scored = [(round(k, decimals), i) for k, i in _scores(values, better, target)]
    best = min(scored)[0] if scored else None
    return [i for k, i in scored if k == best]


def _arr(x: Any, name: str) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    a = np.asarray(x, dtype=np.float64)
    if a.ndim not in (2, 3) or a.size == 0:
        raise ValueError(f"{name} must be a non-empty (H, W) or (C, H, W) array, got shape {a.shape}")
    return a


def _range(data_range: Any) -> float:
    if data_range is None:
        raise ValueError("data_range must be given explicitly (for example 1.0 for images in [0, 1])")
    r = float(data_range)
    if not np.isfinite(r) or r <= 0:
        raise ValueError(f"data_range must be a positive number, got {data_range!r}")
    return r


def to_unit_range(x: Any, *, value_range: tuple[float, float]) -> np.ndarray:
    """Map ``x`` linearly from ``value_range = (lo, hi)`` to [0, 1], clipping outside values.

    For a binary activation use ``(-1, 1)``; for a batch-norm output a symmetric range such as ``(-3, 3)``.
    """
    lo, hi = (float(v) for v in value_range)
    if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
        raise ValueError(f"value_range must be (lo, hi) with lo < hi, got {value_range!r}")
    return np.clip((_arr(x, "x") - lo) / (hi - lo), 0.0, 1.0)


def mse(reference: Any, test: Any) -> float:
    """Mean squared error."""
    a, b = _arr(reference, "reference"), _arr(test, "test")
    check_same_shape(a, b)
    return float(skm.mean_squared_error(a, b))


def psnr(reference: Any, test: Any, *, data_range: float) -> float:
    """Peak signal-to-noise ratio in dB (scikit-image); ``inf`` for identical maps."""
    a, b = _arr(reference, "reference"), _arr(test, "test")
    check_same_shape(a, b)
    r = _range(data_range)
    if np.array_equal(a, b):
        return float("inf")
    return float(skm.peak_signal_noise_ratio(a, b, data_range=r))


def _global_ssim(a: np.ndarray, b: np.ndarray, r: float) -> float:
    c1, c2 = (0.01 * r) ** 2, (0.03 * r) ** 2
    ma, mb = a.mean(), b.mean()
    va, vb = a.var(ddof=1) if a.size > 1 else 0.0, b.var(ddof=1) if b.size > 1 else 0.0
    cov = ((a - ma) * (b - mb)).sum() / max(a.size - 1, 1)
    return float((2 * ma * mb + c1) * (2 * cov + c2) / ((ma**2 + mb**2 + c1) * (va + vb + c2)))


def ssim(reference: Any, test: Any, *, data_range: float) -> float:
    """Structural similarity (scikit-image, Gaussian-free 7x7 windows by default).

    Small maps work: the window shrinks to the largest odd size that fits (at least 3); maps smaller than 3
    pixels on a side use the single-window (global) SSIM formula with the same constants. Channels of a
    (C, H, W) map are averaged.
    """
    a, b = _arr(reference, "reference"), _arr(test, "test")
    check_same_shape(a, b)
    r = _range(data_range)
    side = min(a.shape[-2:])
    if side < 3:
        planes = zip(a.reshape(-1, *a.shape[-2:]), b.reshape(-1, *b.shape[-2:]), strict=True)
        return float(np.mean([_global_ssim(p, q, r) for p, q in planes]))
    win = min(7, side if side % 2 else side - 1)
    kw = {"channel_axis": 0} if a.ndim == 3 else {}
    # float32 halves the cost of the five box filters; SSIM's statistics need no more precision than that
    return float(skm.structural_similarity(a.astype(np.float32), b.astype(np.float32), data_range=r, win_size=win, **kw))


def total_variation(x: Any, *, kind: str = "isotropic") -> float:
    """Mean total variation per pixel, from forward differences ``dx = x[i, j+1] - x[i, j]``, ``dy`` likewise.

    * ``"isotropic"``: mean of ``sqrt(dx^2 + dy^2)`` over the (H-1) x (W-1) pixels that have both neighbours.
    * ``"anisotropic"``: mean of ``|dx|`` plus mean of ``|dy|``.
    * ``"paper"``: the DeSign formula ``mean sqrt(dx^2 + dy^2)`` over all H x W pixels, with zero difference
      past the last row and column (the border convention is ours; the paper's code does not state one).
    """
    check_choice("kind", kind, TV_KINDS)
    a = _arr(x, "x")
    dx = np.diff(a, axis=-1)
    dy = np.diff(a, axis=-2)
    if kind == "anisotropic":
        return float(np.abs(dx).mean() + np.abs(dy).mean()) if dx.size and dy.size else 0.0
    if kind == "isotropic":
        if a.shape[-1] < 2 or a.shape[-2] < 2:
            return 0.0
        return float(np.sqrt(dx[..., :-1, :] ** 2 + dy[..., :, :-1] ** 2).mean())
    pad = [(0, 0)] * (a.ndim - 2)
    dxp = np.pad(dx, pad + [(0, 0), (0, 1)])
    dyp = np.pad(dy, pad + [(0, 1), (0, 0)])
    return float(np.sqrt(dxp**2 + dyp**2).mean())


def residual_correlation(reference: Any, test: Any) -> float:
    """Pearson correlation between the reference and the residual ``test - reference`` (0 = error unrelated).

    Returns 0.0 when either is constant, counting a spread within float rounding of the values as constant (a tone
    shift ``a + 0.25`` leaves a residual constant up to about 1e-17, which is no correlation).
    """
    a, b = _arr(reference, "reference"), _arr(test, "test")
    check_same_shape(a, b)
    res = (b - a).ravel()
    a = a.ravel()
    rounding = 1e3 * np.finfo(np.float64).eps * max(float(np.abs(a).max()), float(np.abs(b).max()), 1e-300)
    if a.std() <= rounding or res.std() <= rounding:
        return 0.0
    return float(np.corrcoef(a, res)[0, 1])


def csf_mannos_sakrison(f_cpd: np.ndarray) -> np.ndarray:
    """Mannos-Sakrison contrast sensitivity ``A(f) = 2.6 (0.0192 + 0.114 f) exp(-(0.114 f)^1.1)``, f in cycles/degree.

    Normalized to a peak of 1; below the peak frequency (about 8 cycles/degree) it is held at 1, as is usual for
    halftone evaluation, so the mean tone (f = 0) is not discounted.
    """
    f = np.asarray(f_cpd, dtype=np.float64)
    a = 2.6 * (0.0192 + 0.114 * f) * np.exp(-((0.114 * f) ** 1.1))
    fs = np.linspace(0, 60, 6001)
    curve = 2.6 * (0.0192 + 0.114 * fs) * np.exp(-((0.114 * fs) ** 1.1))
    peak_f, peak = fs[np.argmax(curve)], curve.max()
    return np.where(f < peak_f, 1.0, a / peak)


@functools.lru_cache(maxsize=16)
def _csf_weights(h: int, w: int, pixels_per_degree: float) -> np.ndarray:
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    weights = csf_mannos_sakrison(np.hypot(fx, fy) * pixels_per_degree).astype(np.float32)
    weights.setflags(write=False)  # cached and shared by every caller
    return weights


def csf_weighted_mse(reference: Any, test: Any, *, pixels_per_degree: float = DEFAULT_PPD) -> float:
    """Mean squared error after filtering the error with the Mannos-Sakrison CSF (what the eye sees).

    Args:
        pixels_per_degree: the viewing condition (see :data:`VIEWING`); the default, 61.8, is a 300-dpi print read
            from 30 cm, where a dither's finest texture is past what the eye resolves; 33.0 is a 96-pixel-per-inch
            screen at 50 cm, where it is not.
    """
    a, b = _arr(reference, "reference"), _arr(test, "test")
    check_same_shape(a, b)
    if not pixels_per_degree > 0:
        raise ValueError(f"pixels_per_degree must be positive, got {pixels_per_degree}")
    h, w = a.shape[-2:]
    weight = _csf_weights(h, w, float(pixels_per_degree))
    err = sfft.rfft2((b - a).astype(np.float32), axes=(-2, -1), workers=-1) * weight
    return float(np.mean(sfft.irfft2(err, s=(h, w), axes=(-2, -1), workers=-1) ** 2))


def csf_psnr(reference: Any, test: Any, *, data_range: float, pixels_per_degree: float = DEFAULT_PPD) -> float:
    """PSNR of the CSF-weighted error, in dB, at a viewing condition (see :func:`csf_weighted_mse`)."""
    r = _range(data_range)
    m = csf_weighted_mse(reference, test, pixels_per_degree=pixels_per_degree)
    return float("inf") if m == 0 else float(10 * np.log10(r * r / m))


def power_spectrum(x: Any) -> tuple[np.ndarray, np.ndarray]:
    """Power spectrum of the mean-removed map, ``|FFT|^2 / (H W)`` averaged over channels, and each frequency's
    radius in cycles/pixel (both (H, W), unshifted FFT order). White noise of variance v has power about v."""
    a = _arr(x, "x")
    planes = a.reshape(-1, *a.shape[-2:])
    h, w = planes.shape[-2:]
    centred = (planes - planes.mean(axis=(-2, -1), keepdims=True)).astype(np.float32)
    p = np.mean(np.abs(sfft.fft2(centred, axes=(-2, -1), workers=-1)) ** 2, axis=0) / (h * w)
    return p, _radius(h, w)


@functools.lru_cache(maxsize=16)
def _radius(h: int, w: int) -> np.ndarray:
    r = np.hypot(np.fft.fftfreq(h)[:, None], np.fft.fftfreq(w)[None, :])
    r.setflags(write=False)
    return r


def radial_power_spectrum(x: Any, *, bins: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Radially averaged :func:`power_spectrum` (channels averaged).

    Returns:
        ``(freq, power)``: bin centres in cycles/pixel in (0, 0.5] and the mean power in each bin.
    """
    p, _ = power_spectrum(x)
    h, w = p.shape
    nb = bins or max(2, min(h, w) // 2)
    idx, keep, counts, freq = _radial_bins(h, w, nb)
    sums = np.bincount(idx, weights=p.ravel()[keep], minlength=nb)
    power = np.divide(sums, counts, out=np.zeros(nb), where=counts > 0)
    return freq[counts > 0], power[counts > 0]


@functools.lru_cache(maxsize=16)
def _radial_bins(h: int, w: int, nb: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r = _radius(h, w).ravel()
    edges = np.linspace(0, 0.5, nb + 1)
    keep = np.flatnonzero((r > 0) & (r <= 0.5))
    idx = np.digitize(r[keep], edges[1:-1], right=True)
    counts = np.bincount(idx, minlength=nb)
    return idx, keep, counts, (edges[:-1] + edges[1:]) / 2


def low_high_ratio(x: Any, *, cutoff: float = 0.25) -> float:
    """Mean :func:`power_spectrum` below ``cutoff`` cycles/pixel over mean power above it (DC excluded).

    White noise gives about 1; blue noise, whose energy sits at high frequencies, gives much less; a smooth
    image gives much more.
    """
    if not 0 < cutoff < 0.5:
        raise ValueError(f"cutoff must be in (0, 0.5) cycles/pixel, got {cutoff}")
    p, r = power_spectrum(x)
    low = p[(r > 0) & (r < cutoff)]
    high = p[r >= cutoff]
    if low.size == 0 or high.size == 0 or high.mean() == 0:
        raise ValueError(f"map of shape {np.shape(x)} is too small to split its spectrum at {cutoff} cycles/pixel")
    return float(low.mean() / high.mean())


def local_correlation(reference: Any, test: Any, *, sigma: float = 1.0) -> float:
    """Pearson correlation of the two maps after a Gaussian low-pass (``sigma`` pixels, wrap-around).

    How well the local share of 1s follows the reference's local value, whatever their offset and scale: a kernel
    whose thresholds are not centred shifts the share of 1s, which this ignores, so it measures detail apart from
    shift. Channels are pooled. 0.0 when either blurred map is constant.
    """
    a, b = _arr(reference, "reference"), _arr(test, "test")
    check_same_shape(a, b)
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    s = (0,) * (a.ndim - 2) + (sigma, sigma)
    la = ndimage.gaussian_filter(a.astype(np.float32), s, mode="wrap").ravel().astype(np.float64)
    lb = ndimage.gaussian_filter(b.astype(np.float32), s, mode="wrap").ravel().astype(np.float64)
    if la.std() <= 1e-7 * max(float(np.abs(la).max()), 1e-30) or lb.std() <= 1e-7 * max(float(np.abs(lb).max()), 1e-30):
        return 0.0
    return float(np.corrcoef(la, lb)[0, 1])


def density(binary: Any) -> float:
    """Fraction of 'on' pixels: +1 in a {-1, +1} map, 1 in a {0, 1} map (anything > 0)."""
    return float((_arr(binary, "binary") > 0).mean())


def tone_error(reference: Any, test: Any, *, sigma: float = 2.0) -> float:
    """Mean absolute difference after a Gaussian low-pass (``sigma`` pixels, wrap-around) of both maps.

    Measures how well local mean tone is kept, ignoring the dither texture.
    """
    a, b = _arr(reference, "reference"), _arr(test, "test")
    check_same_shape(a, b)
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    s = (0,) * (a.ndim - 2) + (sigma, sigma)
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    return float(np.abs(ndimage.gaussian_filter(a32, s, mode="wrap") - ndimage.gaussian_filter(b32, s, mode="wrap")).mean())


def detail_metrics(reference: Any, binary: Any, *, value_range: tuple[float, float] = (0.0, 1.0),
                   binary_values: tuple[float, float] = (0.0, 1.0),
                   pixels_per_degree: float = DEFAULT_PPD) -> dict[str, Any]:
    """All detail metrics of a binary map against its real-valued source, on one [0, 1] scale.

    Args:
        reference: the real map (image in [0, 1], or a batch-norm output).
        binary: the binary map.
        value_range: (lo, hi) of the reference, mapped linearly to [0, 1] (clipped).
        binary_values: the (off, on) values of the binary map: (0, 1) for dithered images, (-1, 1) for activations.
        pixels_per_degree: the viewing condition of the eye-weighted metric (see :data:`VIEWING`).

    Returns:
        dict with the :data:`METRICS` (psnr, ssim, csf_psnr, tv_ratio, residual_correlation, density, tone_error,
        local_correlation), mse, tv_reference, tv_binary, ``reference_mean`` (the share of 1s that keeps the
        reference's mean tone), the ranges used and ``viewing`` (the condition in words).
    """
    ref = to_unit_range(reference, value_range=value_range)
    out = to_unit_range(binary, value_range=binary_values)
    check_same_shape(ref, out)
    tv_ref = total_variation(ref)
    tv_out = total_variation(out)
    return {
        "psnr": psnr(ref, out, data_range=1.0),
        "ssim": ssim(ref, out, data_range=1.0),
        "mse": mse(ref, out),
        "csf_psnr": csf_psnr(ref, out, data_range=1.0, pixels_per_degree=pixels_per_degree),
        "tv_reference": tv_ref,
        "tv_binary": tv_out,
        "tv_ratio": tv_out / tv_ref if tv_ref > 0 else float("inf") if tv_out > 0 else 1.0,
        "residual_correlation": residual_correlation(ref, out),
        "density": density(out),
        "tone_error": tone_error(ref, out),
        "local_correlation": local_correlation(ref, out),
        "reference_mean": float(ref.mean()),
        "pixels_per_degree": float(pixels_per_degree),
        "viewing": describe_viewing(float(pixels_per_degree)),
        "value_range": [float(v) for v in value_range],
        "binary_values": [float(v) for v in binary_values],
    }
