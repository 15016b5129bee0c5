"""Binarizations of one image side by side: Sign, ordered dithering with kernels, error diffusion, with metrics.

The app's image lab and the Learn page are thin views over :func:`compare`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dither_lab._checks import check_image
from dither_lab._text import and_list
from dither_lab.imaging.dither import DIFFUSION_KERNELS, error_diffusion, ordered_dither
from dither_lab.imaging.metrics import DEFAULT_PPD, METRICS, detail_metrics, radial_power_spectrum
from dither_lab.kernels import Kernel, make_kernel

#: Table headers of the metrics, in the order tables show them (tone and detail first), with which way is better.
METRIC_LABELS = {k: f"{m.label} {m.arrow}" for k, m in METRICS.items()}


@dataclass
class Output:
    """One binarization: its label, the spec that made it, the {0, 1} image, metrics, the radially averaged power
    spectrum of its error (output minus input: what binarizing added) and its error map."""

    label: str
    spec: str
    binary: np.ndarray
    metrics: dict[str, Any]
    spectrum: tuple[np.ndarray, np.ndarray] = field(repr=False)
    error: np.ndarray = field(repr=False)


def binarize(image: np.ndarray, spec: str | Kernel, *, allow_files: bool = False) -> tuple[str, str, np.ndarray]:
    """Binarize with a kernel spec (image units) or ``diffusion:METHOD``; returns (label, spec, {0, 1} image).
    ``allow_files`` lets a ``file:`` spec be read (the command line; the app never opens typed paths)."""
    if isinstance(spec, str) and spec.startswith("diffusion:"):
        method = spec.partition(":")[2]
        if method not in DIFFUSION_KERNELS:
            raise ValueError(f"unknown error-diffusion method {method!r}; valid: {', '.join(DIFFUSION_KERNELS)}")
        # "Jarvis-Judice-Ninke diffusion": the method's name, short enough for a table's column
        return f"{method.title()} diffusion", spec, error_diffusion(image, method=method, serpentine=True)
    k = spec if isinstance(spec, Kernel) else make_kernel(spec, domain="unit", allow_files=allow_files)
    label = "Sign (one threshold)" if k.spec == "sign" else k.name
    return label, k.spec, ordered_dither(image, k)


def compare(image: np.ndarray, specs: list[str | Kernel], *, include_sign: bool = True,
            pixels_per_degree: float = DEFAULT_PPD, names: dict[str, str] | None = None,
            allow_files: bool = False) -> list[Output]:
    """Binarize ``image`` with Sign (first, if asked) and each spec; measure each against the image.

    Args:
        image: float32 in [0, 1], (H, W) or (C, H, W).
        specs: kernel specs in image units, Kernels, or ``diffusion:METHOD``.
        include_sign: put plain Sign (threshold 0.5) first.
        pixels_per_degree: the viewing condition of the eye-weighted metric (see
            :data:`dither_lab.imaging.metrics.VIEWING`).
        names: labels for specs (spec -> name, e.g. the names of a kernel library), else each kernel's own name.
        allow_files: let ``file:`` specs be read (see :func:`binarize`).
    """
    img = check_image(image)
    todo: list[str | Kernel] = (["sign"] if include_sign else []) + [s for s in specs if not (include_sign and s == "sign")]
    names = names or {}
    outputs = []
    for spec in todo:
        label, canon, binary = binarize(img, spec, allow_files=allow_files)
        label = names.get(spec if isinstance(spec, str) else canon, label) if not isinstance(spec, Kernel) else label
        outputs.append(Output(label, canon, binary, detail_metrics(img, binary, pixels_per_degree=pixels_per_degree),
                              radial_power_spectrum(binary - img), error_map(img, binary)))
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


def metrics_csv(outputs: list[Output]) -> str:
    """The :func:`metrics_table` as CSV text (a header row, then one row per output)."""
    import csv
    import io

    rows = metrics_table(outputs)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["output", "spec"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def metrics_json(outputs: list[Output]) -> dict[str, dict[str, Any]]:
    """Every output's metrics by its label, with its spec (JSON-ready)."""
    return {o.label: {"spec": o.spec, **o.metrics} for o in outputs}


def error_scale(outputs: list[Output], *, step: float = 0.05) -> float:
    """One colour scale for every output's :func:`error_map`: the largest error, rounded up to ``step``, so maps
    drawn side by side compare by colour (+-this value)."""
    top = max((float(np.abs(o.error).max()) for o in outputs if o.error.size), default=0.0)
    return max(step, float(np.ceil(round(top / step, 9)) * step))


#: A share of 1s further than this from the input's mean is a shift of the overall tone (not texture).
SHIFT = 0.08
#: Thresholds whose mean is further than this from mid-gray (image units) shift the tone by themselves.
OFF_CENTRE = 0.02


def _thresholds(spec: str) -> Kernel | None:
    """The kernel of an output's spec in image units, or None (error diffusion, or a spec that reads a file)."""
    if spec.startswith("diffusion:"):
        return None
    try:
        return make_kernel(spec, domain="unit", allow_files=False)
    except ValueError:
        return None


def tone_shifts(outputs: list[Output]) -> list[str]:
    """A sentence for each direction in which kernels shift the whole image's tone: the kernels whose share of white
    pixels is more than :data:`SHIFT` below (darken) or above (lighten) the input's mean because their thresholds
    sit off mid-gray (by more than :data:`OFF_CENTRE` on average, in image units; all of them, for the paper's
    levels). Sign, error diffusion and centred kernels are not said: their tone follows the image.

    Examples:
        >>> from dither_lab.imaging.samples import sample_image
        >>> tone_shifts(compare(sample_image("gray-ramp"), ["bayer:4", "preset:design-2x2-a"]))[0][:68]
        'design-2x2-a darkens the image: 27% of its pixels are white against '
    """
    sentences = []
    for word, sign in (("darken", -1), ("lighten", 1)):
        group, kernels = [], []
        for o in outputs:
            k = _thresholds(o.spec) if o.spec != "sign" else None
            # the kernel's thresholds cause the shift: they sit off mid-gray the way the tone went
            if (k is not None and sign * (o.metrics["density"] - o.metrics["reference_mean"]) > SHIFT
                    and sign * (k.values.mean() - 0.5) < -OFF_CENTRE):
                group.append(o)
                kernels.append(k)
        if not group:
            continue
        one = len(group) == 1
        mean = group[0].metrics["reference_mean"]
        shares = and_list([f"{o.metrics['density']:.0%}" for o in group])
        text = (f"{and_list([o.label for o in group])} {word}{'s' if one else ''} the image: {shares} of "
                f"{'its' if one else 'their'} pixels are white against the input's mean of {mean:.0%}")
        values = np.concatenate([k.values.ravel() for k in kernels])
        side = "above" if sign < 0 else "below"
        if np.all(sign * (values - 0.5) < 0):
            text += (f", because all {'its' if one else 'their'} thresholds lie {side} mid-gray: "
                     f"{values.min():.2f} to {values.max():.2f} in image units")
            if any(k.levels is not None for k in kernels):
                text += (" (the paper's levels, 0 to 9, were set for ReLU outputs, which are never negative, so "
                         "every one maps above the middle)")
        else:
            text += (f", because {'its' if one else 'their'} thresholds average {side} mid-gray "
                     f"({and_list([f'{k.values.mean():.2f}' for k in kernels])} in image units)")
        sentences.append(text + ".")
    return sentences


def takeaway(outputs: list[Output]) -> str:
    """What the numbers show, in a few sentences computed from them: the kernel that keeps local tone best against
    Sign, what the eye sees at the viewing condition, the kernels that darken or lighten the whole image and why
    (:func:`tone_shifts`), and why pixel metrics prefer Sign when they do."""
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
    else:
        text = f"Sign keeps local tone best here: tone error {te_s:.3f}, the best kernel {best.label} {te_b:.3f}."
    seen = best.metrics["viewing"]
    seen = f"Seen at {seen}" if seen[0].isdigit() else seen[0].upper() + seen[1:]
    best_eye = max(others, key=lambda o: o.metrics["csf_psnr"])
    eye_s = sign.metrics["csf_psnr"]
    if best_eye.metrics["csf_psnr"] > eye_s:
        text += (f" {seen}, {best_eye.label} looks {best_eye.metrics['csf_psnr'] - eye_s:.1f} dB closer to the input "
                 f"(eye-weighted PSNR {best_eye.metrics['csf_psnr']:.1f} against {eye_s:.1f} dB).")
    elif not shifted:
        text += (f" {seen}, the eye still resolves the dither texture: eye-weighted PSNR favours Sign "
                 f"({eye_s:.1f} against {best_eye.metrics['csf_psnr']:.1f} dB for {best_eye.label}).")
    for sentence in tone_shifts(outputs):
        text += " " + sentence
    higher = [m for m in ("psnr", "ssim") if all(sign.metrics[m] > o.metrics[m] for o in others)]
    if higher:
        which = " and ".join(METRICS[m].label.split(" (")[0] for m in higher)
        text += (f" Pixel by pixel ({which}) Sign scores higher than every kernel: against a gray input every binary "
                 "texture counts as error, though the eye averages it away.")
    return text


def error_map(image: np.ndarray, binary: np.ndarray, *, sigma: float = 1.5) -> np.ndarray:
    """Signed local tone error ``blur(binary) - blur(image)`` (gray; colour averaged), what the eye sees as wrong."""
    from scipy import ndimage

    img = check_image(image)
    a = img if img.ndim == 2 else img.mean(0)
    b = binary.astype(np.float32) if binary.ndim == 2 else binary.astype(np.float32).mean(0)
    return (ndimage.gaussian_filter(b, sigma, mode="wrap") - ndimage.gaussian_filter(a, sigma, mode="wrap")).astype(np.float32)
