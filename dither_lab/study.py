"""The comparison study of threshold kernels on trained BNNs.

Which kernels are compared (:data:`STUDY_KERNELS`), their accuracy when swapped into a trained model at test
time (:func:`swap_accuracies`), and the detail each keeps in the model's feature maps (:func:`feature_map_metrics`).
Accuracy when *trained with* a kernel comes from training runs (``scripts/campaign.py``); the study script
``scripts/compare_kernels.py`` joins both into ``benchmarks/results/compare_<dataset>.json``.

The designed kernels are this project's own searches on the paper's simulated responses (the embedded 2,000-image
Fashion-MNIST subset, first 1,000 images, seed 0), reproduced by ``tests/test_study.py``::

    python -m dither_lab design --size 2x2 --objective tv --count 1000     # [[0,9],[9,0]]
    python -m dither_lab design --size 3x3 --objective tv --count 1000     # [[9,0,0],[0,9,9],[9,0,9]]
    python -m dither_lab design --size 3x3 --objective psnr --count 1000   # every entry 5: a constant threshold
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StudyKernel:
    """One kernel of the study.

    Attributes:
        key: short name (file and run names).
        label: what tables and plots show.
        activation: the ``activation`` argument of :func:`dither_lab.models.build_model` that trains with it.
        spec: the kernel swapped in at test time (None: learned from the model, see :func:`learned_spec`).
    """

    key: str
    label: str
    activation: str
    spec: str | None


STUDY_KERNELS: tuple[StudyKernel, ...] = (
    StudyKernel("sign", "Sign", "sign", "sign"),
    StudyKernel("design-2x2-a", "DeSign 2x2 [[1,1],[0,3]] (paper default)", "design", "preset:design-2x2-a"),
    StudyKernel("design-2x2-b", "DeSign 2x2 [[1,1],[3,3]]", "preset:design-2x2-b", "preset:design-2x2-b"),
    StudyKernel("design-2x2-c", "DeSign 2x2 [[1,3],[1,3]]", "preset:design-2x2-c", "preset:design-2x2-c"),
    StudyKernel("design-3x3-a", "DeSign 3x3 [[3,1,3],[1,0,1],[3,1,3]]", "preset:design-3x3-a", "preset:design-3x3-a"),
    StudyKernel("design-3x3-b", "DeSign 3x3 [[5,1,3],[1,0,1],[3,1,5]]", "preset:design-3x3-b", "preset:design-3x3-b"),
    StudyKernel("design-3x3-c", "DeSign 3x3 [[3,0,3],[0,1,0],[3,0,3]]", "preset:design-3x3-c", "preset:design-3x3-c"),
    StudyKernel("design3d-2x2x4", "DeSign3D 2x2x4 (channel-cycled)", "design3d", "preset:design3d-2x2x4"),
    StudyKernel("bayer-2", "Bayer 2x2", "bayer:2", "bayer:2"),
    StudyKernel("bayer-4", "Bayer 4x4", "bayer:4", "bayer:4"),
    StudyKernel("blue-noise-8", "blue noise 8x8", "blue-noise:8", "blue-noise:8"),
    StudyKernel("tv-2x2", "TV-designed 2x2 [[0,9],[9,0]] (this search)", "levels:0,9;9,0", "levels:0,9;9,0"),
    StudyKernel("tv-3x3", "TV-designed exact 3x3 [[9,0,0],[0,9,9],[9,0,9]]", "levels:9,0,0;0,9,9;9,0,9",
                "levels:9,0,0;0,9,9;9,0,9"),
    StudyKernel("psnr-3x3", "PSNR-designed exact 3x3 (constant level 5)", "levels:5", "levels:5"),
    StudyKernel("learned", "learned kernel (STE, from DeSign 2x2)", "learned", None),
)


def study_kernel(key: str) -> StudyKernel:
    """The study kernel named ``key``."""
    for k in STUDY_KERNELS:
        if k.key == key:
            return k
    raise ValueError(f"unknown study kernel {key!r}; valid keys: {', '.join(k.key for k in STUDY_KERNELS)}")


__all__ = ["StudyKernel", "STUDY_KERNELS", "study_kernel"]

