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

from dither_lab._text import trained_with_header
from dither_lab.data import Dataset, normalize
from dither_lab.nn.models import set_kernel


def with_kernel(model: nn.Module, kernel: Any, *, layers: Any = None) -> tuple[nn.Module, list[str]]:
    """A copy of ``model`` whose binary layers (all, or ``layers``) use ``kernel`` (None: its trained kernels), in
    eval mode, to run: running a model changes it (inference fills its folded-threshold caches, ``eval()`` and
    recording taps switch state), so the library runs copies and a model shared between threads stays untouched."""
    m = copy.deepcopy(model)
    names = [] if kernel is None else set_kernel(m, kernel, layers=layers)
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
        model, swapped = with_kernel(model, kernel, layers=layers)  # a copy to run, the caller's left untouched
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


def swap_changes(results: list[tuple[str, str | None, dict[str, Any]]], *,
                 trained_with: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Kernels swapped in at test time against the trained kernels, image by image.

    Args:
        results: ``(name, spec, result)`` per run of :func:`evaluate` with ``per_image=True`` on the same images;
            the first is the network with its trained kernels (spec None).
        trained_with: the accuracy and epochs of a network trained with a kernel, by spec
            (:func:`dither_lab.study.trained_with`), where the study measured one.

    Returns:
        One dict per run: ``name``, ``spec``, ``accuracy``, ``images``, and against the first run, from
        :func:`paired_change`: ``change``, ``chance``, ``fixed``, ``broken`` and ``beyond_chance`` (the change is
        larger than chance alone gives); ``trained_with`` and ``epochs`` (None where unmeasured). Fractions.

    Raises:
        ValueError: no runs, or a first run that is not the trained kernels.
    """
    if not results or results[0][1] is not None:
        raise ValueError("results must start with the trained kernels' run (spec None)")
    ref = results[0][2]["correct"]
    trained_with = trained_with or {}
    out = []
    for name, spec, r in results:
        p = paired_change(r["correct"], ref)
        study = trained_with.get(spec) if spec is not None else None
        out.append({"name": name, "spec": spec, "accuracy": r["accuracy"], "images": int(len(r["correct"])),
                    "change": p["change"], "chance": p["chance"], "fixed": p["fixed"], "broken": p["broken"],
                    "beyond_chance": abs(p["change"]) > p["chance"],
                    "trained_with": study["accuracy"] if study else None, "epochs": study["epochs"] if study else None})
    return out


#: Specs longer than this are shortened in tables (the whole spec is in the kernel library).
SPEC_CHARS = 22


def short_spec(spec: str, most: int = SPEC_CHARS) -> str:
    """A spec cut to ``most`` characters with an ellipsis (``custom:0.1,0.2;...`` of a learned kernel is long)."""
    return spec if len(spec) <= most else spec[: most - 1] + "…"


def swap_rows(changes: list[dict[str, Any]]) -> dict[str, Any]:
    """:func:`swap_changes` as a table: rows in percent and points, the kernel's name first and its spec last
    (shortened), which way each column is better, and a tooltip per header. The accuracy columns mark their best;
    the change is marked by its arrow only (the trained kernels' own 0 is no result).

    "Trained with it" comes from the kernel study's runs, shorter than the shipped models' training: its header
    says their epochs (one column of them where the runs differ).

    Returns:
        ``{"rows": [...], "better": {column: direction}, "help": {column: text}}`` (directions as
        :class:`dither_lab.imaging.metrics.MetricInfo`'s).
    """
    epochs = sorted({c["epochs"] for c in changes if c["epochs"] is not None})
    trained = trained_with_header(epochs)
    rows = []
    for i, c in enumerate(changes):
        row = {"kernel": c["name"], "accuracy (%) ↑": round(100 * c["accuracy"], 2),
               "change ↑": round(100 * c["change"], 2), "chance ±": round(100 * c["chance"], 2),
               "beyond chance": "" if i == 0 else "yes" if c["beyond_chance"] else "no"}
        if epochs:
            row[trained] = None if c["trained_with"] is None else round(100 * c["trained_with"], 2)
            if len(epochs) > 1:
                row["its epochs"] = c["epochs"]
        row["spec"] = "(as trained)" if c["spec"] is None else short_spec(c["spec"])
        rows.append(row)
    help = {
        "change ↑": "Accuracy with this kernel minus the trained kernels', on the same images, in points.",
        "chance ±": "How far chance alone moves the change on these images, in points: two standard deviations of "
                    "a sign test on the images this kernel and the trained kernels classify differently. A smaller "
                    "change is no evidence.",
        "beyond chance": "Whether the change is larger than chance alone gives.",
        trained: "Test accuracy (full test set) of a network the kernel study trained with this kernel: a shorter "
                 "run than the shipped models'" + (", epochs beside it." if len(epochs) > 1 else "."),
        "spec": "The kernel's spec (shortened; the whole one is in the kernel library).",
    }
    better = {"accuracy (%) ↑": "higher", trained: "higher"}
    return {"rows": rows, "better": {k: v for k, v in better.items() if not rows or k in rows[0]},
            "help": {k: v for k, v in help.items() if not rows or k in rows[0]}}


#: A fall of accuracy beyond chance and at least this large (a fraction) breaks the network, as the takeaway says.
BREAKS = 0.10


def swap_takeaway(changes: list[dict[str, Any]], *, trained_as: str) -> str:
    """What :func:`swap_changes` shows, in a few sentences computed from it: which kernel is ahead of the trained
    kernels beyond chance, which fall behind, which swap breaks the network (and why: its weights were trained for
    other thresholds), or that every swap is within chance.

    Args:
        changes: :func:`swap_changes`' rows, the trained kernels first.
        trained_as: the name of the kernel the network was trained with ("Sign", "DeSign 2x2 (paper)").
    """
    if not changes:
        return ""
    base, swaps = changes[0], changes[1:]
    n, acc = base["images"], f"{base['accuracy']:.2%}"
    if not swaps:
        return (f"With its trained kernels ({trained_as}) the network classifies {acc} of these {n:,} images right. "
                "Pick kernels to swap in: the table then says how far each moves that, and whether chance alone could.")

    def pts(c: dict[str, Any]) -> str:
        return f"{100 * c['change']:+.2f} points, chance ±{100 * c['chance']:.2f}"

    same = [c for c in swaps if c["fixed"] == c["broken"] == 0]
    ahead = sorted((c for c in swaps if c["beyond_chance"] and c["change"] > 0), key=lambda c: -c["change"])
    behind = sorted((c for c in swaps if c["beyond_chance"] and c["change"] < 0), key=lambda c: c["change"])
    level = [c for c in swaps if not c["beyond_chance"] and c not in same]
    broken = [c for c in behind if -c["change"] >= BREAKS]
    mild = [c for c in behind if c not in broken]
    parts = []
    if ahead:
        a = ahead[0]
        parts.append(f"{a['name']} is ahead of the trained kernels beyond chance: {a['accuracy']:.2%} against {acc} "
                     f"({pts(a)}) on {n:,} images"
                     + (f"; so {_verb(ahead[1:], 'is', 'are')} {_names(ahead[1:])}." if len(ahead) > 1 else "."))
    if broken:
        w = broken[0]
        also = f", and {_names(broken[1:])} {_verb(broken[1:], 'breaks', 'break')} it too" if len(broken) > 1 else ""
        parts.append(f"Swapping {w['name']} in breaks the network: accuracy falls from {acc} to {w['accuracy']:.2%} "
                     f"({pts(w)}){also}. The network's weights were trained for {trained_as}'s thresholds: a swap at test time "
                     "shows how much the network relies on them, not how well it would do trained with the new kernel.")
        if w["trained_with"] is not None:
            parts.append(f"Trained with {w['name']}, a network reached {w['trained_with']:.2%} in the kernel study "
                         f"(a {w['epochs']}-epoch run, full test set).")
    if mild:
        each = (pts(mild[0]) if len(mild) == 1 else "; ".join(f"{c['name']}: {pts(c)}" for c in mild))
        parts.append(f"{_names(mild)} {_verb(mild, 'falls', 'fall')} behind the trained kernels beyond chance ({each}).")
    for c in same:
        parts.append(f"{c['name']} is the kernel this network was trained with: the same prediction on every image."
                     if c["name"] == trained_as else
                     f"{c['name']} gives the trained kernels' prediction on every image.")
    if level and not ahead and not behind:
        big = max(level, key=lambda c: abs(c["change"]))
        if len(level) == 1:
            parts.append(f"{big['name']} is within chance of the trained kernels' {acc} ({pts(big)}): on these {n:,} "
                         "images it does no better or worse than chance alone would make it.")
        else:
            parts.append(f"Every swap is within chance of the trained kernels' {acc}: the largest change, "
                         f"{big['name']}'s, is {pts(big)}. On these {n:,} images no kernel does better or worse than "
                         "chance alone would make it.")
    elif level:
        parts.append(f"{_names(level)} {_verb(level, 'is', 'are')} within chance of the trained kernels.")
    return " ".join(parts)


def _verb(changes: list[dict[str, Any]], one: str, many: str) -> str:
    return one if len(changes) == 1 else many


def _names(changes: list[dict[str, Any]]) -> str:
    from dither_lab._text import and_list

    return and_list([c["name"] for c in changes])


def engine_comparison(floating: dict[str, Any], packed: dict[str, Any]) -> str:
    """A sentence on two :func:`evaluate` results of the same model, kernels and images, one per engine: how long
    each took (lower is better) and whether every prediction agrees.

    Examples:
        >>> f = {"engine": "float", "seconds": 0.6, "count": 1000, "predictions": np.arange(3)}
        >>> p = {"engine": "packed", "seconds": 0.15, "count": 1000, "predictions": np.arange(3)}
        >>> print(engine_comparison(f, p))  # doctest: +NORMALIZE_WHITESPACE
        On these 1,000 images the packed 1-bit engine took 0.150 s and the float model (PyTorch, float32
        emulation of +-1 values) 0.600 s (lower is better): the packed engine ran 4.0 times as fast, with the same
        prediction on every image.
    """
    same = bool(np.array_equal(floating["predictions"], packed["predictions"]))
    ratio = floating["seconds"] / max(packed["seconds"], 1e-9)
    faster = (f"the packed engine ran {ratio:.1f} times as fast" if ratio >= 1
              else f"the float model ran {1 / ratio:.1f} times as fast")
    return (f"On these {packed['count']:,} images the packed 1-bit engine took {packed['seconds']:.3f} s and the float "
            f"model (PyTorch, float32 emulation of +-1 values) {floating['seconds']:.3f} s (lower is better): {faster}, "
            f"with {'the same prediction on every image' if same else 'predictions that differ on some images'}.")
