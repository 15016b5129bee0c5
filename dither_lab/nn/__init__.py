"""Binary neural networks with dithered activations: what can be built and is shipped (:mod:`.catalog`, no
PyTorch), the models (:mod:`.models`), training (:mod:`.train`), evaluation with kernels swapped in
(:mod:`.evaluate`), feature maps (:mod:`.feature_maps`), learned kernels (:mod:`.learned`) and what a kernel costs
at inference (:mod:`.cost`). Names load on first use: importing the package does not import PyTorch.
"""

from __future__ import annotations

from dither_lab._lazy import lazy_exports

_EXPORTS = {
    **dict.fromkeys(("ACTIVATIONS", "ARCHS", "INPUTS", "PRETRAINED", "UNITS", "register_activation"), "catalog"),
    **dict.fromkeys(("BinaryActivation", "BinaryConv2d", "binary_layers", "build_model", "load_model",
                     "load_pretrained", "resolve_layers", "save_model", "set_kernel"), "models"),
    **dict.fromkeys(("evaluate", "paired_change", "predict", "strength_sweep", "with_kernel"), "evaluate"),
    **dict.fromkeys(("compare_activation", "layer_maps", "layer_mosaic", "layer_summary"), "feature_maps"),
    **dict.fromkeys(("learn_and_compare", "learn_kernel"), "learned"),
    **dict.fromkeys(("inference_time", "kernel_cost", "threshold_tables"), "cost"),
    **dict.fromkeys(("Recipe", "RunConfig", "train"), "train"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
__all__ = sorted(_EXPORTS)
