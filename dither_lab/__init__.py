"""dither_lab: see, design and measure dithered binary activations (DeSign, arXiv:2405.02220).

The public API::

    from dither_lab import make_kernel, dithered_sign, DitheredSign, ordered_dither, detail_metrics
"""

from dither_lab.activation import DitheredSign, FoldedThreshold, dithered_sign, fold_batchnorm_thresholds
from dither_lab.dither import error_diffusion, ordered_dither
from dither_lab.io import load_image, load_kernel, save_image, save_kernel
from dither_lab.kernels import PRESETS, Kernel, as_kernel, bayer, blue_noise, cluster_dot, make_kernel, tile
from dither_lab.metrics import (
    csf_psnr,
    csf_weighted_mse,
    density,
    detail_metrics,
    low_high_ratio,
    mse,
    psnr,
    radial_power_spectrum,
    residual_correlation,
    ssim,
    tone_error,
    total_variation,
)

__version__ = "0.1.0"

__all__ = [
    "PRESETS", "DitheredSign", "FoldedThreshold", "Kernel", "as_kernel", "bayer", "blue_noise", "cluster_dot",
    "csf_psnr", "csf_weighted_mse", "density", "detail_metrics", "dithered_sign", "error_diffusion",
    "fold_batchnorm_thresholds", "load_image", "load_kernel", "low_high_ratio", "make_kernel", "mse",
    "ordered_dither", "psnr", "radial_power_spectrum", "residual_correlation", "save_image", "save_kernel", "ssim",
    "tile", "tone_error", "total_variation", "__version__",
]
