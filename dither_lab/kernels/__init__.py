"""Threshold kernels: the Kernel type, generators behind a registry, the spec grammar, mappings, tiling.

A threshold kernel is a small array tiled periodically over an image or a feature map: shape (m, n), or
(F, m, n) for the 3-D variant whose slice ``c mod F`` applies to channel ``c`` (DeSign3D). The same kernel is
used in two places, so its values live in one of two domains:

* ``"bn"``: batch-norm units, for activations ``sign(y - T)`` where ``y`` is roughly standard normal.
* ``"unit"``: image units, for ordered dithering ``image >= T`` of images in [0, 1].

Modules: :mod:`~dither_lab.kernels.kernel` (the Kernel type), :mod:`~dither_lab.kernels.generators` (Bayer, blue
noise, cluster-dot, random, presets; one function and one registration each), :mod:`~dither_lab.kernels.levels`
(ranks, quantiles and the paper's levels mapped to thresholds), :mod:`~dither_lab.kernels.spec` (the registry and
the spec grammar), :mod:`~dither_lab.kernels.tiling` (the periodic map). This package reads and writes no file and
imports nothing of :mod:`dither_lab.io`: kernel files and the shipped blue-noise masks belong to it, and it registers
the ``file:`` spec and the masks here, imported by name the first time they are needed (``spec.PLUGINS``,
``generators.MASK_PLUGINS``).

Spec grammar (shared by the CLI, the app and URLs)::

    sign | bayer:N | blue-noise:N[:seed=S][:sigma=X] | cluster-dot:N | random:MxN[:seed=S] | random:FxMxN
    constant:V | preset:NAME | levels:1,1;0,3 | custom:0.1,-0.2;0.3,0 | file:PATH
    (rows separated by ';', 3-D slices by '|'; ranked, random, preset and levels kernels take :strength=X)
"""

from dither_lab.kernels.generators import (
    bayer,
    blue_noise,
    blue_noise_mask,
    cluster_dot,
    random_uniform,
    register_mask_source,
)
from dither_lab.kernels.kernel import DOMAINS, Kernel, format_values, grid_kernel, parse_values, resize_grid
from dither_lab.kernels.levels import (
    LEVEL_TO_BN,
    LEVELS,
    PRESET_HELP,
    PRESETS,
    levels_to_bn,
    levels_to_thresholds,
    quantiles_to_thresholds,
    ranks_to_quantiles,
)
from dither_lab.kernels.spec import (
    GENERATORS,
    Generator,
    ParsedSpec,
    as_kernel,
    levels_spec,
    list_specs,
    make_kernel,
    parse_spec,
    register_generator,
    spec_help,
)
from dither_lab.kernels.tiling import resolve_phase, tile

__all__ = [
    "DOMAINS", "GENERATORS", "LEVELS", "LEVEL_TO_BN", "PRESETS", "PRESET_HELP", "Generator", "Kernel", "ParsedSpec",
    "as_kernel", "bayer", "blue_noise", "blue_noise_mask", "cluster_dot", "format_values", "grid_kernel",
    "levels_spec", "levels_to_bn", "levels_to_thresholds", "list_specs", "make_kernel", "parse_spec", "parse_values",
    "quantiles_to_thresholds", "random_uniform", "ranks_to_quantiles", "register_generator", "register_mask_source",
    "resize_grid", "resolve_phase", "spec_help", "tile",
]
