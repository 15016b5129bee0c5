"""Feature maps of a BNN: each binary layer's batch-norm output, binarized by Sign and by a dithered Sign.

The app's Feature maps page and ``dither-lab maps`` are thin views over these functions.
"""

from __future__ import annotations

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
    """Batch-norm outputs and binary outputs of every binary layer for uint8 images (N, C, H, W)."""
    model.eval()
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
        dict with ``sign`` and ``dithered`` ({-1, +1} maps), ``thresholds`` (the tiled map), ``metrics`` for both,
        and ``shown``: the real map and both binary maps on the metrics' [0, 1] scale, for display.
    """
    r = np.asarray(real, dtype=np.float32)
    if r.ndim != 2:
        raise ValueError(f"real must be a 2-D map (H, W), got shape {r.shape}")
    k = as_kernel(kernel)
    values = k.values[channel % k.shape[0]] if k.is_3d else k.values
    sign = dithered_sign(r, "sign")  # the library's Sign: +1 where r >= 0
    dithered = dithered_sign(r, values)
    binary = (-1.0, 1.0)
    opts = {"value_range": value_range, "binary_values": binary}
    return {
        "sign": sign,
        "dithered": dithered,
        "thresholds": tile(values, *r.shape),
        "metrics": {"Sign": detail_metrics(r, sign, **opts), "dithered": detail_metrics(r, dithered, **opts)},
        "shown": {"real": to_unit_range(r, value_range=value_range), "Sign": to_unit_range(sign, value_range=binary),
                  "dithered": to_unit_range(dithered, value_range=binary)},
    }


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
        dict with ``shown``: three montages (``real``, ``Sign``, ``dithered``) on [0, 1], the channels in rows of a
        near-square grid with one mid-gray (0.5) pixel between them (unused cells mid-gray too); ``channels``
        shown; ``grid`` (rows, columns); and ``density``: the share of +1s over the shown channels for ``Sign``
        and ``dithered``.
    """
    from skimage.util import montage

    r = np.asarray(bn, dtype=np.float32)
    if r.ndim != 3:
        raise ValueError(f"bn must be one image's maps (C, H, W), got shape {r.shape}")
    c = min(r.shape[0], check_positive_int("max_channels", max_channels))
    binary = {"Sign": dithered_sign(r, "sign"), "dithered": dithered_sign(r, kernel)}
    cols = int(np.ceil(np.sqrt(c)))
    grid = (int(np.ceil(c / cols)), cols)

    def tiles(maps: np.ndarray, lo_hi: tuple[float, float]) -> np.ndarray:
        tiled = montage(to_unit_range(maps[:c], value_range=lo_hi), grid_shape=grid, padding_width=1, fill=0.5)
        return tiled[1:-1, 1:-1]  # separators only between tiles: the page frames the outer edge

    shown = {"real": tiles(r, value_range), **{k: tiles(v, (-1.0, 1.0)) for k, v in binary.items()}}
    return {"shown": shown, "channels": c, "grid": grid,
            "density": {k: float((v[:c] > 0).mean()) for k, v in binary.items()}}


def layer_summary(bns: dict[str, np.ndarray], kernel: Any) -> list[dict[str, Any]]:
    """How much a kernel changes each binary layer's code against Sign, on one image's batch-norm outputs.

    Args:
        bns: per binary layer (in network order), its batch-norm output for one image, (C, H, W).
        kernel: kernel in batch-norm units (spec, Kernel or array); a 3-D kernel cycles its slices over the
            channels, as in the network.

    Returns:
        One row per layer: ``layer``, ``channels``, ``height``, ``width``, the share of +1s with Sign
        (``sign_ones``) and with the kernel (``dithered_ones``), and ``differs``, the share of activations whose
        bit the kernel flips.
    """
    rows = []
    for name, bn in bns.items():
        r = np.asarray(bn, dtype=np.float32)
        if r.ndim != 3:
            raise ValueError(f"layer {name!r}: expected one image's maps (C, H, W), got shape {r.shape}")
        sign, dithered = dithered_sign(r, "sign") > 0, dithered_sign(r, kernel) > 0
        rows.append({"layer": name, "channels": r.shape[0], "height": r.shape[1], "width": r.shape[2],
                     "sign_ones": float(sign.mean()), "dithered_ones": float(dithered.mean()),
                     "differs": float((sign != dithered).mean())})
    return rows
