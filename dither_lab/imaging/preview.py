"""What a threshold kernel does, for previews: its tiled map, a ramp binarized by it and by Sign, the spectrum of the
tiled map, what it costs once folded with batch norm, and a sentence on what its thresholds do.

The kernel designer draws :func:`kernel_preview` and prints :func:`kernel_takeaway`; kernels are read in batch-norm
units (a dithered Sign compares a standardized activation ``y`` with them: ``+1 where y >= T``).

Examples:
    >>> p = kernel_preview("bayer:2")
    >>> p.tiled.shape, p.thresholds_per_channel, round(p.share_on, 3)
    ((32, 32), 4, 0.5)
    >>> kernel_preview("constant:0.5").constant
    0.5
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import ndtr

from dither_lab.imaging.metrics import radial_power_spectrum
from dither_lab.kernels import Kernel, as_kernel, tile

#: The ramp a preview binarizes: batch-norm units from -2.5 to 2.5 (about 99% of a standard normal).
RAMP = (-2.5, 2.5)
#: A share of +1s further than this from one half is a shift of the whole map (more or fewer activations fire).
SHIFT = 0.02


@dataclass(frozen=True)
class KernelPreview:
    """A kernel's preview (see :func:`kernel_preview`).

    Attributes:
        kernel: the kernel previewed.
        slice: the slice drawn (0 for a 2-D kernel).
        tiled: the slice tiled over a square map, (side, side).
        ramp: the input ramp in batch-norm units, (rows, cols), left to right from ``RAMP[0]`` to ``RAMP[1]``.
        ramp_sign, ramp_kernel: the ramp binarized by Sign and by the slice, uint8 {0, 1} (1 = +1).
        spectrum: ``(frequency, power)`` of the tiled slice (:func:`radial_power_spectrum`, on a larger map).
        thresholds_per_channel: thresholds one channel needs once folded with batch norm (m x n; Sign needs 1).
        stored: values the kernel holds (F x m x n).
        mean_threshold: the mean of all thresholds (Sign: 0).
        share_on: the expected share of +1s on a standard-normal map, ``mean(P(y >= T))`` over the kernel's cells
            (Sign: one half).
        constant: the one threshold of a kernel whose thresholds are all equal (a shifted Sign), else None.
    """

    kernel: Kernel
    slice: int
    tiled: np.ndarray = field(repr=False)
    ramp: np.ndarray = field(repr=False)
    ramp_sign: np.ndarray = field(repr=False)
    ramp_kernel: np.ndarray = field(repr=False)
    spectrum: tuple[np.ndarray, np.ndarray] = field(repr=False)
    thresholds_per_channel: int
    stored: int
    mean_threshold: float
    share_on: float
    constant: float | None


def kernel_preview(kernel: Any, *, slice: int = 0, side: int = 32, spectrum_side: int = 64,
                   ramp_shape: tuple[int, int] = (16, 128)) -> KernelPreview:
    """Everything a kernel preview draws, computed once.

    Args:
        kernel: a Kernel, a spec (read in batch-norm units) or an array of thresholds, (m, n) or (F, m, n).
        slice: which slice of a 3-D kernel to draw (0 for a 2-D kernel).
        side: side of the tiled map drawn.
        spectrum_side: side of the tiled map whose spectrum is taken (larger: finer frequency bins).
        ramp_shape: (rows, cols) of the ramp; small, so that a page draws it larger than its pixels.

    Returns:
        A :class:`KernelPreview`.

    Raises:
        ValueError: an invalid kernel, or ``slice`` outside the kernel's slices.
    """
    k = as_kernel(kernel, domain="bn")
    slices = k.shape[0] if k.is_3d else 1
    if not 0 <= int(slice) < slices:
        raise ValueError(f"slice must be in 0..{slices - 1} for a kernel of shape {list(k.shape)}, got {slice!r}")
    shown = k.values[int(slice)] if k.is_3d else k.values
    from dither_lab.activation import dithered_sign  # PyTorch loads only for a preview

    rows, cols = ramp_shape
    ramp = np.tile(np.linspace(*RAMP, cols, dtype=np.float32), (rows, 1))
    on = ((dithered_sign(ramp, shown) + 1) / 2).astype(np.uint8)
    sign = ((dithered_sign(ramp, "sign") + 1) / 2).astype(np.uint8)
    values = k.values
    first = float(values.flat[0])
    return KernelPreview(
        kernel=k, slice=int(slice), tiled=tile(shown, side, side), ramp=ramp, ramp_sign=sign, ramp_kernel=on,
        spectrum=radial_power_spectrum(tile(shown, spectrum_side, spectrum_side)),
        thresholds_per_channel=int(k.shape[-2] * k.shape[-1]), stored=int(values.size),
        mean_threshold=float(values.mean()), share_on=float(ndtr(-values).mean()),
        constant=first if bool(np.all(values == first)) else None)


def kernel_takeaway(preview: KernelPreview) -> str:
    """What the kernel's thresholds do, in two or three sentences computed from the preview: the range and mean of
    its thresholds, the share of a standard-normal map it turns on against Sign's half, and what it costs folded;
    a constant kernel is said to be Sign moved.

    Examples:
        >>> kernel_takeaway(kernel_preview("constant:0.5")).startswith("Every threshold is 0.5: this kernel is Sign moved")
        True
    """
    p = preview
    if p.constant is not None:
        if p.constant == 0:
            return ("Every threshold is 0: this is plain Sign, one threshold for every activation and no dithering. "
                    "It turns on 50% of a standard-normal map.")
        return (f"Every threshold is {p.constant:.4g}: this kernel is Sign moved by {p.constant:.4g}, not a dither. "
                f"It turns on {p.share_on:.0%} of a standard-normal map everywhere, where Sign turns on 50%, and "
                "neighbouring activations still share one threshold, so no texture carries the tone.")
    v = p.kernel.values
    text = (f"Its {v.size} thresholds run from {v.min():.2f} to {v.max():.2f}, mean {p.mean_threshold:.2f} "
            f"(Sign: one threshold at 0). On a standard-normal map it turns on {p.share_on:.0%} of the activations")
    if p.share_on < 0.5 - SHIFT:
        text += " where Sign turns on 50%, so fewer activations fire: the map comes out darker."
    elif p.share_on > 0.5 + SHIFT:
        text += " where Sign turns on 50%, so more activations fire: the map comes out lighter."
    else:
        text += ", as Sign does, so the map keeps its balance of +1s and -1s."
    per = p.thresholds_per_channel
    return text + (f" Folded with batch norm it needs {per} threshold{'s' if per > 1 else ''} per channel where Sign "
                   "needs 1, and no extra arithmetic: one comparison per activation either way.")
