"""Binarizations of one image side by side: Sign, ordered dithering with kernels, error diffusion, with metrics.

The app's image lab and the Learn page are thin views over :func:`compare`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dither_lab._checks import check_image
from dither_lab.imaging.dither import DIFFUSION_KERNELS, error_diffusion, ordered_dither
from dither_lab.imaging.metrics import detail_metrics, radial_power_spectrum
from dither_lab.kernels import Kernel, make_kernel

METRIC_LABELS = {
    "psnr": "PSNR (dB)",
    "ssim": "SSIM",
    "csf_psnr": "CSF-PSNR (dB)",
    "tv_ratio": "TV ratio",
    "density": "density of 1s",
    "tone_error": "tone error",
    "residual_correlation": "residual corr.",
}


@dataclass
class Output:
    """One binarization: its label, the spec that made it, the {0, 1} image, metrics, spectrum and error map."""

    label: str
    spec: str
    binary: np.ndarray
    metrics: dict[str, Any]
    spectrum: tuple[np.ndarray, np.ndarray] = field(repr=False)
    error: np.ndarray = field(repr=False)


def binarize(image: np.ndarray, spec: str | Kernel) -> tuple[str, str, np.ndarray]:
    """Binarize with a kernel spec (image units) or ``diffusion:METHOD``; returns (label, spec, {0, 1} image)."""
    if isinstance(spec, str) and spec.startswith("diffusion:"):
        method = spec.partition(":")[2]
        if method not in DIFFUSION_KERNELS:
            raise ValueError(f"unknown error-diffusion method {method!r}; valid: {', '.join(DIFFUSION_KERNELS)}")
        return f"error diffusion ({method})", spec, error_diffusion(image, method=method, serpentine=True)
    k = spec if isinstance(spec, Kernel) else make_kernel(spec, domain="unit", allow_files=False)
    label = "Sign (one threshold)" if k.spec == "sign" else k.name
    return label, k.spec, ordered_dither(image, k)


def compare(image: np.ndarray, specs: list[str | Kernel], *, include_sign: bool = True) -> list[Output]:
    """Binarize ``image`` with Sign (first, if asked) and each spec; measure each against the image.

    Args:
        image: float32 in [0, 1], (H, W) or (C, H, W).
        specs: kernel specs in image units, Kernels, or ``diffusion:METHOD``.
        include_sign: put plain Sign (threshold 0.5) first.
    """
    img = check_image(image)
    todo: list[str | Kernel] = (["sign"] if include_sign else []) + [s for s in specs if not (include_sign and s == "sign")]
    outputs = []
    for spec in todo:
        label, canon, binary = binarize(img, spec)
        outputs.append(Output(label, canon, binary, detail_metrics(img, binary), radial_power_spectrum(binary),
                              error_map(img, binary)))
    return outputs


def metrics_table(outputs: list[Output]) -> list[dict[str, Any]]:
    """Rows for a table/CSV: output label, spec, and the headline metrics."""
    rows = []
    for o in outputs:
        row: dict[str, Any] = {"output": o.label, "spec": o.spec}
        row.update({METRIC_LABELS[k]: o.metrics[k] for k in METRIC_LABELS})
        rows.append(row)
    return rows


def error_map(image: np.ndarray, binary: np.ndarray, *, sigma: float = 1.5) -> np.ndarray:
    """Signed local tone error ``blur(binary) - blur(image)`` (gray; colour averaged), what the eye sees as wrong."""
    from scipy import ndimage

    img = check_image(image)
    a = img if img.ndim == 2 else img.mean(0)
    b = binary.astype(np.float32) if binary.ndim == 2 else binary.astype(np.float32).mean(0)
    return (ndimage.gaussian_filter(b, sigma, mode="wrap") - ndimage.gaussian_filter(a, sigma, mode="wrap")).astype(np.float32)
