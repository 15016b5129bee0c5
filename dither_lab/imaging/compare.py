"""Binarizations of one image side by side: Sign, ordered dithering with kernels, error diffusion, with metrics.

The app's image lab and the Learn page are thin views over :func:`compare`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dither_lab._checks import check_image
from dither_lab.imaging.dither import DIFFUSION_KERNELS, error_diffusion, ordered_dither
from dither_lab.imaging.metrics import DEFAULT_PPD, METRICS, detail_metrics, radial_power_spectrum
from dither_lab.kernels import Kernel, make_kernel

#: Table headers of the metrics, in the order tables show them (tone and detail first), with which way is better.
METRIC_LABELS = {k: f"{m.label} {m.arrow}" for k, m in METRICS.items()}


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


def compare(image: np.ndarray, specs: list[str | Kernel], *, include_sign: bool = True,
            pixels_per_degree: float = DEFAULT_PPD, names: dict[str, str] | None = None) -> list[Output]:
    """Binarize ``image`` with Sign (first, if asked) and each spec; measure each against the image.

    Args:
        image: float32 in [0, 1], (H, W) or (C, H, W).
        specs: kernel specs in image units, Kernels, or ``diffusion:METHOD``.
        include_sign: put plain Sign (threshold 0.5) first.
        pixels_per_degree: the viewing condition of the eye-weighted metric (see
            :data:`dither_lab.imaging.metrics.VIEWING`).
        names: labels for specs (spec -> name, e.g. the names of a kernel library), else each kernel's own name.
    """
    img = check_image(image)
    todo: list[str | Kernel] = (["sign"] if include_sign else []) + [s for s in specs if not (include_sign and s == "sign")]
    names = names or {}
    outputs = []
    for spec in todo:
        label, canon, binary = binarize(img, spec)
        label = names.get(spec if isinstance(spec, str) else canon, label) if not isinstance(spec, Kernel) else label
        outputs.append(Output(label, canon, binary, detail_metrics(img, binary, pixels_per_degree=pixels_per_degree),
                              radial_power_spectrum(binary), error_map(img, binary)))
    return outputs


def metrics_table(outputs: list[Output]) -> list[dict[str, Any]]:
    """Rows for a table/CSV: output label, spec, and the metrics (tone and detail first), headers with which way
    is better."""
    rows = []
    for o in outputs:
        row: dict[str, Any] = {"output": o.label, "spec": o.spec}
        row.update({METRIC_LABELS[k]: o.metrics[k] for k in METRIC_LABELS})
        rows.append(row)
    return rows


def best_outputs(outputs: list[Output]) -> dict[str, int]:
    """Per metric (:data:`METRIC_LABELS` keys), the index of the best output (the share of 1s: nearest the input's
    mean tone)."""
    from dither_lab.imaging.metrics import best_index

    out = {}
    for key, info in METRICS.items():
        i = best_index([o.metrics[key] for o in outputs], info.better,
                       target=outputs[0].metrics["reference_mean"] if outputs else None)
        if i is not None:
            out[key] = i
    return out


#: A share of 1s further than this from the input's mean is a shift of the overall tone (not texture).
SHIFT = 0.08


def takeaway(outputs: list[Output]) -> str:
    """What the numbers show, in a sentence or two, computed from them: the kernel that keeps local tone best
    against Sign, what the eye sees at the viewing condition, and why pixel metrics prefer Sign when they do."""
    sign = next((o for o in outputs if o.spec == "sign"), None)
    others = [o for o in outputs if o.spec != "sign"]
    if sign is None or not others:
        return "Add a kernel to compare it with Sign."
    best = min(others, key=lambda o: o.metrics["tone_error"])
    te_b, te_s = best.metrics["tone_error"], sign.metrics["tone_error"]
    mean = sign.metrics["reference_mean"]
    shifted = abs(best.metrics["density"] - mean) > SHIFT
    if te_b < te_s:
        ratio = te_s / te_b if te_b > 0 else float("inf")
        how = f"{ratio:.0f}x" if ratio >= 2 else f"{100 * (1 - te_b / te_s):.0f}%"
        text = f"{best.label} keeps local tone {how} better than Sign: tone error {te_b:.3f} against {te_s:.3f}."
    elif shifted:
        text = (f"{best.label} shifts the overall tone: {best.metrics['density']:.0%} of its pixels are white against "
                f"the input's mean of {mean:.0%}, because its thresholds are not centred on mid-gray; so its tone "
                f"error is higher than Sign's ({te_b:.3f} against {te_s:.3f}).")
    else:
        text = f"Sign keeps local tone best here: tone error {te_s:.3f}, the best kernel {best.label} {te_b:.3f}."
    seen = best.metrics["viewing"]
    seen = seen[0].upper() + seen[1:]
    best_eye = max(others, key=lambda o: o.metrics["csf_psnr"])
    eye_s = sign.metrics["csf_psnr"]
    if best_eye.metrics["csf_psnr"] > eye_s:
        text += (f" {seen}, {best_eye.label} looks {best_eye.metrics['csf_psnr'] - eye_s:.1f} dB closer to the input "
                 f"(eye-weighted PSNR {best_eye.metrics['csf_psnr']:.1f} against {eye_s:.1f} dB).")
    elif not shifted:
        text += (f" {seen}, the eye still resolves the dither texture: eye-weighted PSNR favours Sign "
                 f"({eye_s:.1f} against {best_eye.metrics['csf_psnr']:.1f} dB for {best_eye.label}); seen from "
                 "further away it would not.")
    if sign.metrics["psnr"] > best.metrics["psnr"]:
        text += (" Pixel by pixel (PSNR, SSIM) Sign scores higher: against a gray input every binary texture counts "
                 "as error, though the eye averages it away.")
    return text


def error_map(image: np.ndarray, binary: np.ndarray, *, sigma: float = 1.5) -> np.ndarray:
    """Signed local tone error ``blur(binary) - blur(image)`` (gray; colour averaged), what the eye sees as wrong."""
    from scipy import ndimage

    img = check_image(image)
    a = img if img.ndim == 2 else img.mean(0)
    b = binary.astype(np.float32) if binary.ndim == 2 else binary.astype(np.float32).mean(0)
    return (ndimage.gaussian_filter(b, sigma, mode="wrap") - ndimage.gaussian_filter(a, sigma, mode="wrap")).astype(np.float32)
