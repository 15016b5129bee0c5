"""The dithered Sign: its functional and module forms with straight-through gradients (:mod:`.dithered`), and batch
norm folded with it into one comparison for inference (:mod:`.folding`)."""

from dither_lab.activation.dithered import STE_NAMES, DitheredSign, dithered_sign, ste_window, threshold_map
from dither_lab.activation.folding import FoldedThreshold, fold_batchnorm_thresholds

__all__ = ["STE_NAMES", "DitheredSign", "FoldedThreshold", "dithered_sign", "fold_batchnorm_thresholds",
           "ste_window", "threshold_map"]
