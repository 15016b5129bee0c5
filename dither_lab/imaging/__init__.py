"""Images: ordered dithering and error diffusion (:mod:`.dither`), detail metrics (:mod:`.metrics`), binarizations
compared side by side (:mod:`.compare`) and the sample images and test charts (:mod:`.samples`)."""

from __future__ import annotations

from dither_lab._lazy import lazy_exports

_EXPORTS = {
    **dict.fromkeys(("DIFFUSION_KERNELS", "error_diffusion", "ordered_dither"), "dither"),
    **dict.fromkeys(("csf_psnr", "csf_weighted_mse", "density", "detail_metrics", "low_high_ratio", "mse", "psnr",
                     "radial_power_spectrum", "residual_correlation", "ssim", "to_unit_range", "tone_error",
                     "total_variation"), "metrics"),
    **dict.fromkeys(("Output", "compare", "error_map", "metrics_table"), "compare"),
    **dict.fromkeys(("SAMPLES", "sample_image"), "samples"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
__all__ = sorted(_EXPORTS)
