"""dither_lab: see, design and measure dithered binary activations (DeSign, arXiv:2405.02220).

The public API::

    from dither_lab import make_kernel, dithered_sign, DitheredSign, ordered_dither, detail_metrics

Names are imported on first use (PEP 562), so ``import dither_lab`` and the commands that run no network do not
import PyTorch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("DitheredSign", "FoldedThreshold", "dithered_sign", "fold_batchnorm_thresholds"),
                    "dither_lab.activation"),
    **dict.fromkeys(("error_diffusion", "ordered_dither"), "dither_lab.imaging.dither"),
    **dict.fromkeys(("load_image", "load_kernel", "save_image", "save_kernel"), "dither_lab.io"),
    **dict.fromkeys(("PRESETS", "Kernel", "as_kernel", "bayer", "blue_noise", "cluster_dot", "make_kernel", "tile"),
                    "dither_lab.kernels"),
    **dict.fromkeys(("csf_psnr", "csf_weighted_mse", "density", "detail_metrics", "low_high_ratio", "mse", "psnr",
                     "radial_power_spectrum", "residual_correlation", "ssim", "tone_error", "total_variation"),
                    "dither_lab.imaging.metrics"),
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dither_lab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
