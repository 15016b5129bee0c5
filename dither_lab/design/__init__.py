"""Kernel design: the DeSign paper's search, exact and exhaustive up to 3x3, local past it, and 3-D kernels.

Modules: :mod:`.responses` (the simulated responses a candidate binarizes), :mod:`.objectives` (what a candidate
is scored by), :mod:`.exhaustive` (every candidate up to 3x3, exactly, through per-position tables),
:mod:`.local` (coordinate descent past 3x3, channel-cycled 3-D kernels), :mod:`.methods` (which search for which
size: :func:`design_kernel`), :mod:`.report` (what a search's numbers show, in words). Names load on first use,
so the constants here cost no import.
"""

from __future__ import annotations

from dither_lab._lazy import lazy_exports

#: Search objectives; see :mod:`dither_lab.design.objectives`.
OBJECTIVES = ("tone", "tv", "tv_match", "mse", "psnr", "correlation", "csf_psnr")
#: The objectives that decompose into exact per-position tables.
TABLE_OBJECTIVES = ("tone", "tv", "tv_match", "mse", "psnr", "correlation")
#: The default objective: local tone, the mean squared difference of the output's and the response's 2x2 local
#: means, what a low-pass (the eye's, or the next layer's sum over its receptive field) sees. It is won by a
#: kernel that spreads its thresholds over the levels, a dither. The objectives that compare pixel by pixel (MSE,
#: PSNR, correlation) and TV matched to the response (a whole-map statistic) are won on these responses by a
#: constant kernel, which is Sign moved, and the paper's TV by a checkerboard of levels 0 and 9, the same pattern
#: whatever the image.
DEFAULT_OBJECTIVE = "tone"
#: How each objective is named for people (menus, tables, sentences).
OBJECTIVE_LABELS = {"tone": "local tone against the response", "tv": "the paper's total variation", "tv_match": "TV matched to the response",
                    "mse": "MSE against the response", "psnr": "PSNR against the response",
                    "correlation": "correlation with the response", "csf_psnr": "eye-weighted PSNR against the response"}
#: Whether a larger score is better, per objective.
MAXIMIZE = {"tone": False, "tv": True, "tv_match": False, "mse": False, "psnr": True, "correlation": True, "csf_psnr": True}
#: Search methods; ``auto`` is ``table`` up to 3x3 and ``local`` past it.
METHODS = ("auto", "table", "simulate", "local")
#: Exhaustive search covers kernels of at most this many entries (6^9 = 10,077,696 candidates for 3x3).
MAX_EXHAUSTIVE_ENTRIES = 9
#: The largest kernel side the local search takes (the responses must be larger than the kernel).
MAX_LOCAL_SIDE = 16

_EXPORTS = {
    **dict.fromkeys(("Tables", "all_candidates", "build_tables", "candidate_digits", "score_tables", "search"),
                    "exhaustive"),
    **dict.fromkeys(("local_search", "search_3d", "tiled_start"), "local"),
    **dict.fromkeys(("score_simulated",), "objectives"),
    **dict.fromkeys(("LEVEL_VALUES", "binarize_levels", "binarize_response", "gray_images", "levels_from_data",
                     "reference_tv", "response_image", "simulate_responses"), "responses"),
    "design_kernel": "methods", "resolve_method": "local",
    **dict.fromkeys(("best_varying", "compared_kernels", "is_constant", "ranking_rows", "search_rows", "result_kernel",
                     "search_takeaway"), "report"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
__all__ = sorted([*_EXPORTS, "DEFAULT_OBJECTIVE", "MAXIMIZE", "MAX_EXHAUSTIVE_ENTRIES", "MAX_LOCAL_SIDE", "METHODS",
                  "OBJECTIVES", "OBJECTIVE_LABELS", "TABLE_OBJECTIVES"])
