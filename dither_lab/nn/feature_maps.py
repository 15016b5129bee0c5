"""Feature maps of a BNN: each binary layer's batch-norm output, binarized by Sign and by a dithered Sign.

The app's Feature maps page and ``dither-lab maps`` are thin views over these functions.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from torch import nn

from dither_lab._checks import check_positive_int
from dither_lab.activation import dithered_sign
from dither_lab.data import normalize
from dither_lab.imaging.metrics import detail_metrics, to_unit_range
from dither_lab.kernels import as_kernel, tile
from dither_lab.nn.models import record_taps

#: Batch-norm outputs are compared with binary maps after mapping this range linearly to [0, 1] (clipped).
ACTIVATION_RANGE = (-3.0, 3.0)


@torch.inference_mode()
def layer_maps(model: nn.Module, images: np.ndarray, dataset: str) -> dict[str, dict[str, np.ndarray]]:
    """Batch-norm outputs and binary outputs of every binary layer for uint8 images (N, C, H, W), recorded on a copy
    of ``model`` (recording switches taps on and off: a model shared between threads stays untouched)."""
    model = copy.deepcopy(model).eval()
    with record_taps(model) as taps:
        model(normalize(np.asarray(images), dataset))
    return {n: {"bn": t["bn"].numpy(), "binary": t["binary"].numpy()} for n, t in taps.items()}


def compare_activation(real: np.ndarray, kernel: Any, *, value_range: tuple[float, float] = ACTIVATION_RANGE,
                       channel: int = 0) -> dict[str, Any]:
    """Sign and dithered Sign of one real-valued map (a batch-norm output), with metrics against it.

    Args:
        real: the map, (H, W).
        kernel: kernel in batch-norm units (spec, Kernel or array); a 3-D kernel uses slice ``channel mod F``.
        value_range: the range of ``real`` mapped to [0, 1] for the metrics (stated in the result).
        channel: the channel this map came from.

    Returns:
        dict with ``sign``, ``dithered`` and ``shifted`` ({-1, +1} maps: Sign, the kernel, and Sign at the kernel's
        mean threshold, which shifts the share of +1s as the kernel does but keeps one threshold), ``shift`` (that
        mean threshold), ``thresholds`` (the tiled map), ``metrics`` (``Sign``, ``dithered``, ``shifted Sign``) and
        ``shown``: the real map and the binary maps on the metrics' [0, 1] scale, for display. Comparing the kernel
        with the shifted Sign separates what it keeps of the detail from the shift of its mean.
    """
    r = np.asarray(real, dtype=np.float32)
    if r.ndim != 2:
        raise ValueError(f"real must be a 2-D map (H, W), got shape {r.shape}")
    k = as_kernel(kernel)
    values = k.values[channel % k.shape[0]] if k.is_3d else k.values
    shift = float(values.mean())
    sign = dithered_sign(r, "sign")  # the library's Sign: +1 where r >= 0
    dithered = dithered_sign(r, values)
    shifted = dithered_sign(r, np.full((1, 1), shift))
    binary = (-1.0, 1.0)
    opts = {"value_range": value_range, "binary_values": binary}
    return {
        "sign": sign,
        "dithered": dithered,
        "shifted": shifted,
        "shift": shift,
        "thresholds": tile(values, *r.shape),
        "metrics": {"Sign": detail_metrics(r, sign, **opts), "dithered": detail_metrics(r, dithered, **opts),
                    "shifted Sign": detail_metrics(r, shifted, **opts)},
        "shown": {"real": to_unit_range(r, value_range=value_range), "Sign": to_unit_range(sign, value_range=binary),
                  "dithered": to_unit_range(dithered, value_range=binary),
                  "shifted": to_unit_range(shifted, value_range=binary)},
    }


#: A kernel whose thresholds average closer to 0 than this (batch-norm units; for a 3-D kernel, every slice) is
#: centred: Sign at its mean is Sign itself, to two decimals, and tables and panels leave that comparison out.
CENTRED = 0.005


def is_centred(res: dict[str, Any]) -> bool:
    """Whether :func:`compare_activation`'s kernel is centred on 0 (:data:`CENTRED`): nothing to compare with Sign
    at its mean, which is (almost) Sign."""
    return abs(res["shift"]) < CENTRED


def takeaway(res: dict[str, Any], kernel_name: str) -> str:
    """What :func:`compare_activation`'s numbers show, in a sentence or two: detail against Sign at the same shift,
    and the shift itself."""
    m = res["metrics"]
    lc = {k: v["local_correlation"] for k, v in m.items()}
    ones = {k: v["density"] for k, v in m.items()}
    if is_centred(res):
        verb = "more" if lc["dithered"] > lc["Sign"] else "less"
        return (f"{kernel_name}'s thresholds are centred on 0 (mean {res['shift'] + 0.0:+.2f}): +1 on {ones['dithered']:.0%} of this map "
                f"against Sign's {ones['Sign']:.0%}, and {verb} local detail than Sign here: local correlation "
                f"{lc['dithered']:.3f} against {lc['Sign']:.3f}.")
    verb = "more" if lc["dithered"] > lc["shifted Sign"] else "less"
    return (f"{kernel_name}'s thresholds average {res['shift']:+.2f}, which by itself turns {ones['shifted Sign']:.0%} "
            f"of the activations on against Sign's {ones['Sign']:.0%}. Against Sign shifted by the same amount, "
            f"it keeps {verb} local detail: local correlation {lc['dithered']:.3f} against {lc['shifted Sign']:.3f} "
            f"(plain Sign: {lc['Sign']:.3f}). In a network, batch norm learns where the activations sit against "
            "the thresholds, so the shift is the network's to absorb; the detail is the kernel's.")


def most_detail_gained(bns: dict[str, np.ndarray], kernel: Any) -> dict[str, Any]:
    """The binary layer and channel where a kernel keeps the most detail beyond both Sign and Sign at its mean
    threshold: the largest local correlation of the kernel's map less the better of the two others'
    (:func:`channel_detail`), where its pattern, not its shift, makes the difference.

    Args:
        bns: per binary layer (in network order), its batch-norm output for one image, (C, H, W).
        kernel: kernel in batch-norm units (spec, Kernel or array).

    Returns:
        ``{"layer": name, "index": its position from 0, "channel", "gain", "detail": {"Sign", "dithered",
        "shifted Sign"}, "ahead", "channels"}``: the channel's local correlations, and in how many of the layer's
        channels the kernel keeps more than both (one channel is no layer's rule).
    """
    best: dict[str, Any] | None = None
    for i, (name, bn) in enumerate(bns.items()):
        d = channel_detail(bn, kernel)
        gain = d["dithered"] - np.maximum(d["Sign"], d["shifted Sign"])
        c = int(np.argmax(gain))
        if best is None or gain[c] > best["gain"]:
            best = {"layer": name, "index": i, "channel": c, "gain": float(gain[c]),
                    "detail": {k: float(v[c]) for k, v in d.items()}, "ahead": int((gain > 0).sum()),
                    "channels": int(gain.size)}
    if best is None:
        raise ValueError("bns must hold at least one layer's maps")
    return best


def shifted_label(shift: float) -> str:
    """How tables and panels name Sign at a kernel's mean threshold: ``"Sign at +0.64 (kernel mean)"``."""
    return f"Sign at {round(shift, 2) + 0.0:+.2f} (kernel mean)"  # + 0.0: no "-0.00" for a centred kernel


def comparison_rows(res: dict[str, Any], kernel_name: str) -> list[dict[str, Any]]:
    """:func:`compare_activation`'s metrics as table rows: Sign, the kernel (as ``kernel_name``) and, unless the
    kernel is centred (:func:`is_centred`), Sign at its mean threshold (:func:`shifted_label`), under the headers of
    :data:`dither_lab.imaging.compare.METRIC_LABELS` (tone and detail first, each saying which way is better).

    Examples:
        >>> res = compare_activation(np.linspace(-2, 2, 64, dtype=np.float32).reshape(8, 8), "preset:design-2x2-a")
        >>> [r["output"] for r in comparison_rows(res, "DeSign 2x2 (paper)")]
        ['Sign', 'DeSign 2x2 (paper)', 'Sign at +0.64 (kernel mean)']
        >>> [r["output"] for r in comparison_rows(compare_activation(res["thresholds"], "bayer:4"), "Bayer 4x4")]
        ['Sign', 'Bayer 4x4']
    """
    from dither_lab.imaging.compare import METRIC_LABELS

    names = {"Sign": "Sign", "dithered": kernel_name, "shifted Sign": shifted_label(res["shift"])}
    return [{"output": names[key], **{label: m[k] for k, label in METRIC_LABELS.items()}}
            for key, m in res["metrics"].items() if not (key == "shifted Sign" and is_centred(res))]


def layer_rows(rows: list[dict[str, Any]], kernel_name: str, places: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """:func:`layer_summary`'s rows as a table: the layer (its index from 0, as the command line counts, and
    where it sits in the network, from :func:`dither_lab.nn.models.layer_places`), its maps, the detail Sign, the
    kernel and Sign at the kernel's mean threshold keep (local correlation, higher is better), the trained
    network's batch-norm mean, the share of +1s with Sign and the kernel, and the bits the kernel flips.

    The detail columns (:func:`detail_columns`) are to be compared within a row; a centred kernel's rows leave out
    Sign at its mean, which is Sign (:data:`CENTRED`).
    """
    places = places or {}
    sign, kern, shift = detail_columns(kernel_name)
    centred = not _shifted(rows)
    return [{"layer": f"{i}: {places.get(r['layer'], r['layer'])}", sign: round(r["sign_detail"], 3),
             kern: round(r["dithered_detail"], 3), **({} if centred else {shift: round(r["shifted_detail"], 3)}),
             "maps": f"{r['channels']} x {r['height']}x{r['width']}", "BN mean": round(r["bn_mean"], 2),
             "+1s: Sign (%)": round(100 * r["sign_ones"], 1), f"+1s: {kernel_name} (%)": round(100 * r["dithered_ones"], 1),
             "bits flipped (%)": round(100 * r["differs"], 1)} for i, r in enumerate(rows)]


def _shifted(rows: list[dict[str, Any]]) -> bool:
    """Whether :func:`layer_summary`'s kernel shifts any channel's threshold (:data:`CENTRED`): a 3-D kernel whose
    slices average +0.8 and -0.8 averages 0 but shifts every channel."""
    return any(r["kernel_shift"] >= CENTRED for r in rows)


def shifted_sign_name(rows: list[dict[str, Any]], kernel_name: str) -> str:
    """How :func:`layer_summary`'s Sign at the kernel's mean threshold reads in a sentence: one mean, or, for a 3-D
    kernel whose slices differ, each channel's slice mean."""
    if not rows:
        return f"Sign at {kernel_name}'s mean threshold"
    if abs(abs(rows[0]["kernel_mean"]) - rows[0]["kernel_shift"]) > 1e-6:
        return f"Sign at the mean of {kernel_name}'s slice for each channel"
    return f"Sign at {kernel_name}'s mean threshold ({rows[0]['kernel_mean'] + 0.0:+.2f})"


def layer_parts(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """:func:`layer_rows` as two tables, each led by the layer, so that each fits a page: the detail kept (the
    columns to compare within a row), then the network's shift, the share of +1s and the bits the kernel flips."""
    detail = [c for c in (rows[0] if rows else {}) if c.startswith("detail: ")]
    return ([{c: r[c] for c in ("layer", *detail)} for r in rows],
            [{c: v for c, v in r.items() if c not in detail} for r in rows])


def detail_columns(kernel_name: str) -> tuple[str, str, str]:
    """The headers of :func:`layer_rows`' detail columns: the local correlation (higher is better) of Sign, the
    kernel and Sign at the kernel's mean threshold ("shifted Sign", short enough for the table to fit)."""
    return ("detail: Sign ↑", f"detail: {kernel_name} ↑", "detail: shifted Sign ↑")


def layer_mosaic(bn: np.ndarray, kernel: Any, *, max_channels: int = 64,
                 value_range: tuple[float, float] = ACTIVATION_RANGE) -> dict[str, Any]:
    """Every channel of one layer's batch-norm output at a glance: the real maps, Sign and the dithered Sign.

    Args:
        bn: the layer's batch-norm output for one image, (C, H, W).
        kernel: kernel in batch-norm units (spec, Kernel or array); a 3-D kernel cycles its slices over the
            channels, as in the network.
        max_channels: at most this many channels, from the first.
        value_range: the range of ``bn`` mapped to [0, 1], as in :func:`compare_activation`.

    Returns:
        dict with ``shown``: four montages (``real``, ``Sign``, ``dithered`` and ``shifted``: Sign at each
        channel's mean threshold of the kernel) on [0, 1], the channels in rows of a near-square grid with one
        mid-gray (0.5) pixel between them (unused cells mid-gray too); ``channels`` shown; ``grid`` (rows,
        columns); ``tile`` (height, width of one channel); and ``density``: the share of +1s over the shown
        channels for ``Sign``, ``dithered`` and ``shifted``.
    """
    from skimage.util import montage

    r = np.asarray(bn, dtype=np.float32)
    if r.ndim != 3:
        raise ValueError(f"bn must be one image's maps (C, H, W), got shape {r.shape}")
    c = min(r.shape[0], check_positive_int("max_channels", max_channels))
    _, three = _three_ways(r, as_kernel(kernel))
    binary = {"Sign": three["Sign"], "dithered": three["dithered"], "shifted": three["shifted Sign"]}
    cols = int(np.ceil(np.sqrt(c)))
    grid = (int(np.ceil(c / cols)), cols)

    def tiles(maps: np.ndarray, lo_hi: tuple[float, float]) -> np.ndarray:
        tiled = montage(to_unit_range(maps[:c], value_range=lo_hi), grid_shape=grid, padding_width=1, fill=0.5)
        return tiled[1:-1, 1:-1]  # separators only between tiles: the page frames the outer edge

    shown = {"real": tiles(r, value_range), **{k: tiles(v, (-1.0, 1.0)) for k, v in binary.items()}}
    return {"shown": shown, "channels": c, "grid": grid, "tile": (r.shape[1], r.shape[2]),
            "density": {k: float((v[:c] > 0).mean()) for k, v in binary.items()}}


def layer_summary(bns: dict[str, np.ndarray], kernel: Any) -> list[dict[str, Any]]:
    """How much a kernel changes each binary layer's code against Sign, on one image's batch-norm outputs.

    Args:
        bns: per binary layer (in network order), its batch-norm output for one image, (C, H, W).
        kernel: kernel in batch-norm units (spec, Kernel or array); a 3-D kernel cycles its slices over the
            channels, as in the network.

    Returns:
        One row per layer: ``layer``, ``channels``, ``height``, ``width``, ``bn_mean`` (the mean batch-norm output:
        where the trained network puts its activations against the thresholds), ``kernel_mean`` (the kernel's
        mean threshold over the channels), ``kernel_shift`` (the largest shift of a channel's mean threshold, for a
        3-D kernel whose slices differ), the share of +1s with Sign (``sign_ones``) and with the kernel (``dithered_ones``),
        ``differs`` (the share of activations whose bit the kernel flips), and the local correlation of the binary
        maps with the batch-norm output (:func:`dither_lab.imaging.metrics.local_correlation`, per channel,
        averaged) for Sign, the kernel and Sign shifted to the kernel's mean threshold (``sign_detail``,
        ``dithered_detail``, ``shifted_detail``).
    """
    k = as_kernel(kernel)
    rows = []
    for name, bn in bns.items():
        r = np.asarray(bn, dtype=np.float32)
        if r.ndim != 3:
            raise ValueError(f"layer {name!r}: expected one image's maps (C, H, W), got shape {r.shape}")
        shift, binary = _three_ways(r, k)
        sign, dithered = binary["Sign"], binary["dithered"]
        detail = {key: float(v.mean()) for key, v in _channel_detail(r, binary).items()}
        rows.append({"layer": name, "channels": r.shape[0], "height": r.shape[1], "width": r.shape[2],
                     "bn_mean": float(r.mean()), "kernel_mean": float(shift.mean()),
                     "kernel_shift": float(np.abs(shift).max()),
                     "sign_ones": float((sign > 0).mean()), "dithered_ones": float((dithered > 0).mean()),
                     "differs": float(((sign > 0) != (dithered > 0)).mean()),
                     "sign_detail": detail["Sign"], "dithered_detail": detail["dithered"],
                     "shifted_detail": detail["shifted Sign"]})
    return rows


def _three_ways(r: np.ndarray, k: Any) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Each channel's mean threshold (a 3-D kernel's slice c mod F) and the maps (C, H, W) binarized by Sign, the
    kernel and Sign at that mean threshold."""
    slices = k.values.reshape(-1, k.shape[-2] * k.shape[-1]).mean(1)
    shift = slices[np.arange(r.shape[0]) % len(slices)]
    shifted = np.where(r >= shift[:, None, None].astype(np.float32), 1.0, -1.0).astype(np.float32)
    return shift, {"Sign": dithered_sign(r, "sign"), "dithered": dithered_sign(r, k), "shifted Sign": shifted}


def _channel_detail(r: np.ndarray, binary: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Local correlation per channel, measured as :func:`compare_activation` measures it: the map clipped to
    ``ACTIVATION_RANGE`` (so one channel gets one figure wherever it is shown)."""
    from dither_lab.imaging.metrics import local_correlation

    shown = to_unit_range(r, value_range=ACTIVATION_RANGE)
    return {key: np.array([local_correlation(shown[c], b[c]) for c in range(r.shape[0])]) for key, b in binary.items()}


def channel_detail(bn: np.ndarray, kernel: Any) -> dict[str, np.ndarray]:
    """Per channel of one layer, the local correlation with the batch-norm output of Sign, the kernel and Sign at
    the kernel's mean threshold: where a kernel keeps detail that a shift alone loses.

    Args:
        bn: the layer's batch-norm output for one image, (C, H, W).
        kernel: kernel in batch-norm units (spec, Kernel or array); a 3-D kernel cycles its slices over the channels.

    Returns:
        ``{"Sign": (C,), "dithered": (C,), "shifted Sign": (C,)}``: :func:`dither_lab.imaging.metrics.local_correlation`
        of each binary map with its channel (0.0 where a binary map is constant: the channel is lost).

    Examples:
        >>> bn = np.stack([np.linspace(-1, 2, 64, dtype=np.float32).reshape(8, 8)] * 2)
        >>> d = channel_detail(bn, "preset:design-2x2-a")
        >>> sorted(d), d["dithered"].shape
        (['Sign', 'dithered', 'shifted Sign'], (2,))
    """
    r = np.asarray(bn, dtype=np.float32)
    if r.ndim != 3:
        raise ValueError(f"bn must be one image's maps (C, H, W), got shape {r.shape}")
    return _channel_detail(r, _three_ways(r, as_kernel(kernel))[1])


def summary_takeaway(rows: list[dict[str, Any]], kernel_name: str) -> str:
    """What :func:`layer_summary`'s rows show, in a sentence or two: in how many layers the kernel keeps more
    detail than Sign at its shift, and where the network's own batch norm puts the activations."""
    if not rows:
        return ""
    shifted = _shifted(rows)
    ref = "shifted_detail" if shifted else "sign_detail"
    wins = [i for i, r in enumerate(rows) if r["dithered_detail"] > r[ref]]
    against = "Sign shifted to the kernel's mean threshold" if shifted else "Sign"
    first = rows[0]
    text = (f"{kernel_name} keeps more local detail than {against} in {len(wins)} of {len(rows)} binary layers "
            f"(layer 0: {first['dithered_detail']:.3f} against {first[ref]:.3f}). ")
    if shifted:  # the green column may be plain Sign's: say so, and what the kernel's pattern did
        plain = [r for r in rows if r["sign_detail"] > r["dithered_detail"]]
        if plain:
            back = sum(r["dithered_detail"] > r["shifted_detail"] for r in plain)
            where = "in each" if back == len(plain) else f"in {back} of those"
            text += (f"Plain Sign, unshifted, keeps more than {kernel_name} in {len(plain)} of the {len(rows)} layers"
                     + (f"; {where}, the kernel's shift loses more detail than its pattern wins back. " if back
                        else ". "))
    text += (f"The trained network's batch norm puts its activations at a mean of {np.mean([r['bn_mean'] for r in rows]):+.2f} "
             f"over the layers; with {kernel_name} {np.mean([r['dithered_ones'] for r in rows]):.0%} of them are +1, "
             f"with Sign {np.mean([r['sign_ones'] for r in rows]):.0%}.")
    return text
