"""Evaluation of a BNN with any kernel swapped into any layers: accuracy, per-class accuracy, confusion matrix.

Runs in inference mode, batched, with every batch norm + threshold folded into one comparison
(:class:`dither_lab.nn.models.BinaryActivation`). A kernel swap works on a copy, so a shared (cached) model is
never changed.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from dither_lab.data import Dataset, normalize
from dither_lab.nn.models import set_kernel


def with_kernel(model: nn.Module, kernel: Any, *, layers: Any = None) -> tuple[nn.Module, list[str]]:
    """A copy of ``model`` whose binary layers (all, or ``layers``) use ``kernel``; the original is untouched."""
    m = copy.deepcopy(model)
    names = set_kernel(m, kernel, layers=layers)
    return m.eval(), names


@torch.inference_mode()
def predict(model: nn.Module, images: np.ndarray, dataset: str, *, batch_size: int = 500,
            progress: Callable[[float], None] | None = None, device: torch.device | str = "cpu") -> np.ndarray:
    """Predicted labels for uint8 images (N, C, H, W), on ``device`` (where the model is)."""
    model.eval()
    n = len(images)
    out = np.empty(n, dtype=np.int64)
    for i in range(0, n, batch_size):
        # channels-last is oneDNN's fast layout for these convolutions on CPU
        x = normalize(np.asarray(images[i : i + batch_size]), dataset).contiguous(memory_format=torch.channels_last)
        out[i : i + batch_size] = model(x.to(device)).argmax(1).cpu().numpy()
        if progress is not None:
            progress(min(1.0, (i + batch_size) / n))
    return out


#: The engines a network runs on: PyTorch's float32 emulation of +-1 values, or the packed 1-bit engine
#: (:mod:`dither_lab.engine`: XOR-popcount on bits, the same predictions).
ENGINES = ("float", "packed")


def predict_packed(program: Any, images: np.ndarray, dataset: str, *, batch_size: int = 500,
                   progress: Callable[[float], None] | None = None) -> np.ndarray:
    """Predicted labels for uint8 images (N, C, H, W) from a packed program (:func:`dither_lab.engine.compile_model`)."""
    n = len(images)
    out = np.empty(n, dtype=np.int64)
    for i in range(0, n, batch_size):
        x = normalize(np.asarray(images[i : i + batch_size]), dataset).numpy()
        out[i : i + batch_size] = program.predict(x).argmax(1)
        if progress is not None:
            progress(min(1.0, (i + batch_size) / n))
    return out


def evaluate(model: nn.Module, data: Dataset, *, kernel: Any = None, layers: Any = None, count: int | None = None,
             batch_size: int = 500, progress: Callable[[float], None] | None = None,
             per_image: bool = False, engine: str = "float", program: Any = None) -> dict[str, Any]:
    """Accuracy, per-class accuracy and confusion matrix on ``data`` (its first ``count`` images, or all).

    Args:
        model: a BNN from :mod:`dither_lab.nn.models`.
        data: the evaluation set.
        kernel: a kernel (spec, Kernel or array) swapped in at test time, or None for the trained kernels.
        layers: which binary layers take ``kernel`` (names or indices; None = all).
        count: evaluate on the first ``count`` images.
        progress: called with the fraction done after each batch.
        per_image: also return ``predictions`` (each image's predicted label) and ``correct`` (whether it is
            right; for :func:`paired_change`), as arrays.
        engine: ``"float"`` (PyTorch) or ``"packed"`` (the packed 1-bit engine, compiled here with ``kernel`` in
            ``layers``, or ``program`` when given: one compiled with them already). Both give the same predictions;
            ``seconds`` is the run's time on the engine (compilation not counted).
    """
    from dither_lab._checks import check_choice

    check_choice("engine", engine, ENGINES)
    if count is not None:
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        data = data.subset(np.arange(min(count, len(data))))
    swapped: list[str] = []
    if engine == "packed":
        if program is None:
            from dither_lab.engine import compile_model

            program = compile_model(model, kernel=kernel, layers=layers, threads=torch.get_num_threads())
        if kernel is not None:
            from dither_lab.nn.models import resolve_layers

            swapped = resolve_layers(model, layers)
        t0 = time.perf_counter()
        pred = predict_packed(program, data.images, data.name, batch_size=batch_size, progress=progress)
    else:
        if kernel is not None:
            model, swapped = with_kernel(model, kernel, layers=layers)
        t0 = time.perf_counter()
        pred = predict(model, data.images, data.name, batch_size=batch_size, progress=progress)
    secs = time.perf_counter() - t0
    labels = np.asarray(data.labels)
    k = len(data.classes)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (labels, pred), 1)
    support = confusion.sum(1)
    per_class = np.divide(np.diag(confusion), support, out=np.zeros(k), where=support > 0)
    return {
        "accuracy": float((pred == labels).mean()),
        "per_class": {c: float(a) for c, a in zip(data.classes, per_class, strict=True)},
        "confusion": confusion.tolist(),
        "classes": list(data.classes),
        "count": int(len(labels)),
        "kernel": None if kernel is None else (kernel if isinstance(kernel, str) else getattr(kernel, "spec", "custom")),
        "layers": swapped if kernel is not None else [],
        "seconds": secs,
        "engine": engine,
        **({"predictions": pred, "correct": pred == labels} if per_image else {}),
    }


def paired_change(right: np.ndarray, right_before: np.ndarray) -> dict[str, Any]:
    """How accuracy changed between two runs on the same images, image by image.

    Args:
        right, right_before: per image, whether each run classified it correctly (same images, same order).

    Returns:
        ``fixed`` (right now, wrong before), ``broken`` (the other way round), ``change`` (the change in accuracy,
        a fraction: their difference over the images) and ``chance``: how far chance alone moves that change
        (two standard deviations of the sign test on the images that changed, a fraction), so a change smaller
        than ``chance`` is no evidence of a difference.
    """
    a, b = np.asarray(right, dtype=bool), np.asarray(right_before, dtype=bool)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(f"right and right_before must be two equal, non-empty 1-D arrays, got {a.shape} and {b.shape}")
    fixed, broken = int((a & ~b).sum()), int((b & ~a).sum())
    return {"fixed": fixed, "broken": broken, "change": (fixed - broken) / a.size,
            "chance": 2 * float(np.sqrt(fixed + broken)) / a.size}


#: The strengths a sweep uses unless told: from Sign (0) past the kernel as given (1) to twice its thresholds.
SWEEP_STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)


def strength_sweep(model: nn.Module, data: Dataset, kernel: Any, strengths: Any = SWEEP_STRENGTHS, *,
                   layers: Any = None, count: int | None = None,
                   progress: Callable[[float], None] | None = None, engine: str = "float") -> list[dict[str, Any]]:
    """Accuracy with ``kernel``'s thresholds multiplied by each strength, swapped into ``layers`` at test time.

    Strength 0 puts every threshold at 0 (plain Sign), 1 is the kernel as given, 2 doubles its thresholds: how
    much dithering amplitude a trained network tolerates, or wants. Thresholds are in batch-norm units. ``engine``
    as in :func:`evaluate`.

    Returns:
        One row per strength, in the order given: ``strength``, ``accuracy``, ``seconds``.

    Raises:
        ValueError: a bad kernel, layer or count, or strengths that are not 1 to 50 finite numbers >= 0.
    """
    from dither_lab.kernels import Kernel, as_kernel

    k = as_kernel(kernel)
    try:
        values = [float(v) for v in strengths]
    except (TypeError, ValueError):
        raise ValueError(f"strengths must be numbers, got {strengths!r}") from None
    if not 1 <= len(values) <= 50 or not all(np.isfinite(v) and v >= 0 for v in values):
        raise ValueError(f"strengths must be 1 to 50 finite numbers >= 0, got {values}")
    rows = []
    for i, st in enumerate(values):
        scaled = Kernel(k.values * st, spec=f"{k.spec} x {st:g}", domain=k.domain, name=f"{k.name} x {st:g}")
        r = evaluate(model, data, kernel=scaled, layers=layers, count=count, engine=engine)
        rows.append({"strength": st, "accuracy": r["accuracy"], "seconds": r["seconds"]})
        if progress is not None:
            progress((i + 1) / len(values))
    return rows
