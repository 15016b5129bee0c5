"""What a threshold kernel costs a binary network at inference, against plain Sign.

With batch norm folded in (:func:`dither_lab.activation.fold_batchnorm_thresholds`), Sign compares each
activation with one threshold per channel; a dithered Sign compares it with one of the thresholds of that
channel's tiled kernel, and the tiled map repeats with the kernel's period, so a channel needs ``m x n`` of them
(a 3-D kernel cycles its slices over the channels: still ``m x n`` per channel). Either way it is one comparison
per activation and not one multiply-add more: what a kernel adds is the thresholds a deployment stores,
``C x m x n`` per binary layer instead of ``C``. (Since each channel's thresholds are ``a_c + b_c T``, a
deployment could also keep two values per channel and the kernel's cells, at one multiply-add per threshold it
rebuilds; the table needs no arithmetic at all.) :func:`threshold_tables` gives those tables as the model's
inference folds them, :func:`kernel_cost` counts them, layer by layer, and :func:`inference_time` measures the
folded network against the same network with Sign in the same layers.

Examples:
    >>> from dither_lab.nn.models import build_model
    >>> net = build_model("fmnist-net", in_channels=1, image_size=28, width=0.25)
    >>> cost = kernel_cost(net, "bayer:4")  # 96 channels in 4 binary layers, 16 thresholds each
    >>> cost["thresholds"], cost["sign_thresholds"], cost["extra_macs"]
    (1536, 96, 0)
"""

from __future__ import annotations

import copy
import time
from typing import Any

import numpy as np
import torch
from torch import nn

from dither_lab.nn.evaluate import with_kernel
from dither_lab.nn.models import binary_layers, model_nbytes

#: Bytes of a threshold as the float model folds it (float32). The packed engine stores what it runs: integer
#: thresholds on the popcount (int16) where a binary convolution feeds the activation, float32 where the residual
#: stream does; its program says its own bytes (``PackedProgram.nbytes``, in ``dither-lab cost``).
THRESHOLD_BYTES = 4


def layer_shapes(model: nn.Module) -> dict[str, tuple[int, int, int]]:
    """(C, H, W) of the map each binary layer thresholds, from one forward pass of a blank input on a copy of
    ``model`` (a model shared between threads stays untouched)."""
    model = copy.deepcopy(model).eval()
    cfg = model.config
    shapes: dict[str, tuple[int, int, int]] = {}
    for n, m in binary_layers(model).items():
        m.register_forward_hook(lambda mod, inp, out, n=n: shapes.__setitem__(n, tuple(inp[0].shape[1:])))
    with torch.inference_mode():  # the copy is made outside: inference tensors would not track versions
        model(torch.zeros(1, cfg["in_channels"], cfg["image_size"], cfg["image_size"]))
    return shapes


def threshold_tables(model: nn.Module, kernel: Any = None, *, layers: Any = None) -> dict[str, dict[str, Any]]:
    """The thresholds a deployment stores: per binary layer, the folded thresholds of one period of the tiled map.

    For each binary layer (``kernel`` in ``layers`` as in :func:`kernel_cost`): ``theta``, a (C, m', n') float32
    table with ``m' = min(m, H)`` and ``n' = min(n, W)``, and ``high``, a (C,) +-1 vector (-1 where the batch-norm
    gamma is negative), such that the layer's output at (c, i, j) is ``high[c]`` where its input is
    ``>= theta[c, i mod m', j mod n']`` and ``-high[c]`` elsewhere; ``shape`` is the (C, H, W) it applies to.
    """
    m = with_kernel(model, kernel, layers=layers)[0]
    shapes = layer_shapes(m)
    out = {}
    for name, layer in binary_layers(m).items():
        c, h, w = shapes[name]
        mk, nk = layer.kernel.shape[-2:]
        folded = layer.folded_for(h, w)  # the same folding the model's inference uses
        out[name] = {"theta": folded.theta[:, : min(mk, h), : min(nk, w)].contiguous(), "high": folded.hi.flatten(),
                     "shape": (c, h, w), "kernel": layer.kernel.spec if layer.kernel.spec != "custom" else layer.kernel.name}
    return out


def kernel_cost(model: nn.Module, kernel: Any = None, *, layers: Any = None) -> dict[str, Any]:
    """What running ``model`` with ``kernel`` in its binary layers costs at inference, against Sign in them.

    Args:
        model: a BNN from :mod:`dither_lab.nn.models` (it is not changed).
        kernel: a kernel (spec, Kernel or array) swapped into ``layers``, or None for the model's own kernels.
        layers: which binary layers take ``kernel`` (names or indices; None = all); the others keep theirs.

    Returns:
        ``rows``: per binary layer its name, kernel, ``channels``, ``height``, ``width``, ``per_channel`` (the
        thresholds one channel's tiled map holds: the kernel's cells, or fewer on a smaller map), ``thresholds``
        (to store after folding batch norm), ``sign_thresholds`` (one per channel) and ``compares`` (per
        image); and the totals ``thresholds``, ``sign_thresholds``,
        ``extra_thresholds``, ``extra_bytes`` (float32), ``model_bytes`` (packed), ``extra_share`` (of the
        model's bytes), ``compares`` (per image, the same for every kernel) and ``extra_macs`` (0).

    Raises:
        ValueError: a bad kernel or layer.
    """
    return tables_cost(threshold_tables(model, kernel, layers=layers), model_nbytes(model)["total"])


def tables_cost(tables: dict[str, dict[str, Any]], model_bytes: int) -> dict[str, Any]:
    """:func:`kernel_cost` of tables already made by :func:`threshold_tables`, for a model of ``model_bytes``."""
    rows = []
    for name, t in tables.items():
        c, h, w = t["shape"]
        rows.append({"layer": name, "kernel": t["kernel"], "channels": c, "height": h, "width": w,
                     "per_channel": t["theta"][0].numel(), "thresholds": t["theta"].numel(), "sign_thresholds": c,
                     "compares": c * h * w})
    total = sum(r["thresholds"] for r in rows)
    sign = sum(r["sign_thresholds"] for r in rows)
    extra_bytes = THRESHOLD_BYTES * (total - sign)
    return {"rows": rows, "thresholds": total, "sign_thresholds": sign, "extra_thresholds": total - sign,
            "extra_bytes": extra_bytes, "model_bytes": model_bytes, "extra_share": extra_bytes / model_bytes,
            "compares": sum(r["compares"] for r in rows), "extra_macs": 0}


def inference_time(model: nn.Module, kernel: Any = None, *, layers: Any = None, batch: int = 256,
                   repeats: int = 7, seed: int = 0, engine: str = "float", statistic: str = "median") -> dict[str, float]:
    """Measured inference (one batch of random images) of ``model`` with ``kernel`` in ``layers`` against the same
    model with Sign there, timed alternately in one run, on an engine: ``"float"`` (PyTorch, inference mode,
    channels-last, batch norm and thresholds folded) or ``"packed"`` (the 1-bit engine,
    :func:`dither_lab.engine.compile_model`, with PyTorch's thread count).

    Returns ``seconds_per_image``, ``sign_seconds_per_image`` and ``ratio`` (kernel / Sign), each the
    ``statistic`` of ``repeats`` runs: ``"median"``, or ``"min"``, the fastest, which other work on the machine
    disturbs least (where the machine is shared, as an app's is).
    """
    from dither_lab._checks import check_choice
    from dither_lab.nn.evaluate import ENGINES

    check_choice("engine", engine, ENGINES)
    check_choice("statistic", statistic, ("median", "min"))
    if batch < 1 or repeats < 1:
        raise ValueError(f"batch and repeats must be >= 1, got {batch} and {repeats}")
    cfg = model.config
    x = torch.from_numpy(np.random.default_rng(seed).standard_normal(
        (batch, cfg["in_channels"], cfg["image_size"], cfg["image_size"]), dtype=np.float32))
    if engine == "packed":
        from dither_lab.engine import compile_model

        threads = torch.get_num_threads()
        runs = [compile_model(model, kernel=k, layers=None if k is None else layers, threads=threads).predict
                for k in (kernel, "sign")]
        x_in: Any = x.numpy()
    else:
        with_k = with_kernel(model, kernel, layers=layers)[0]
        with_sign = with_kernel(model, "sign", layers=layers)[0]
        runs = [n.eval().to(memory_format=torch.channels_last) for n in (with_k, with_sign)]
        x_in = x.contiguous(memory_format=torch.channels_last)

    times: list[list[float]] = [[], []]
    with torch.inference_mode():
        for run in runs:  # warm-up: the first pass folds the thresholds (and compiles the packed loops)
            run(x_in)
        for _ in range(repeats):  # alternate, so a slower spell of the machine falls on both
            for t, run in zip(times, runs, strict=True):
                t0 = time.perf_counter()
                run(x_in)
                t.append(time.perf_counter() - t0)
    t_k, t_s = (float(np.median(t) if statistic == "median" else np.min(t)) for t in times)
    return {"seconds_per_image": t_k / batch, "sign_seconds_per_image": t_s / batch, "ratio": t_k / t_s}


#: Runs of each kernel, and of Sign, that the app times on its shared machine; it shows the fastest.
SHARED_REPEATS = 5


def timing_plan(kernels: list[tuple[str, str]]) -> tuple[list[tuple[str, str | None]], int]:
    """What to time for a table of :func:`engine_row` rows: the trained kernels (spec None), the chosen
    ``(name, spec)`` kernels, and Sign timed against itself (1.00 without noise: the run's noise), unless Sign is
    one of them; returns the list and the index of Sign's row."""
    floor = [] if any(spec == "sign" for _, spec in kernels) else [("Sign (against itself)", "sign")]
    timed = [("trained kernels", None), *kernels, *floor]
    return timed, [spec for _, spec in timed].index("sign")


def timing_note(rows: list[dict[str, Any]], noise: int) -> str:
    """What :func:`engine_row` rows timed on a shared machine (as the app times them: the fastest of
    :data:`SHARED_REPEATS` runs) show, computed from them. ``rows[noise]`` is Sign timed against itself, the run's
    noise: a ratio is named as past it when it is further from 1.00 (as shown, to two decimals) than both 10% and
    the noise row's own distance."""
    from dither_lab._text import and_list

    def off(r: dict[str, Any]) -> float:
        return round(max(abs(r["float / Sign"] - 1), abs(r["packed / Sign"] - 1)), 2)

    floor = rows[noise]
    band = max(0.10, off(floor))
    far = [r["kernel"] for i, r in enumerate(rows) if i != noise and off(r) > band]
    return (f"Each engine runs the kernel and Sign alternately, the fastest of {SHARED_REPEATS} runs each: a ratio "
            "near 1.00 is the paper's \"no extra cost\", executed. Timings share this machine's cores with the app, "
            f"so they are noisy: in this run Sign timed against itself (row *{floor['kernel']}*), 1.00 without noise, "
            f"came out at {floor['float / Sign']:.2f} on float and {floor['packed / Sign']:.2f} packed; ratios within "
            f"{band:.0%} of 1.00 are noise here, and no time column is marked best. "
            "Each ratio is against Sign timed beside it in its own row, so under load a row's time and ratio may not "
            "match another row's. "
            + (f"Further from 1.00 in this run: {and_list(far)}; time again, or measure on a quiet machine. "
               if far else "")
            + "On a quiet machine, `dither-lab cost --model NAME --kernel SPEC --time` measures the same.")


def cost_rows(costs: list[tuple[str, str | None, dict[str, Any]]]) -> dict[str, Any]:
    """:func:`kernel_cost` of several kernels as a table: per kernel (name, spec; None for the trained kernels)
    the thresholds stored and Sign's, compares and multiply-adds per image, the extra bytes and their share of the
    model; fewer is better in each column that differs between kernels (the headers say so).

    Returns:
        ``{"rows": [...], "better": {column: "lower"}}``.
    """
    from dither_lab.nn.evaluate import short_spec

    rows = [{"kernel": name, "spec": "(as trained)" if spec is None else short_spec(spec),
             "thresholds ↓": c["thresholds"], "Sign's": c["sign_thresholds"], "compares / image": c["compares"],
             "extra MACs ↓": c["extra_macs"], "extra bytes ↓": c["extra_bytes"],
             "% of model ↓": round(100 * c["extra_share"], 1)} for name, spec, c in costs]
    return {"rows": rows, "better": dict.fromkeys(("thresholds ↓", "extra MACs ↓", "extra bytes ↓", "% of model ↓"),
                                                  "lower")}


def engine_row(label: str, times: dict[str, dict[str, float]], program: Any) -> dict[str, Any]:
    """One table row of what a kernel costs on each engine: time per image on the float model and on the packed
    1-bit engine (each with its ratio to Sign in the same layers), how much faster the packed engine is, and the
    packed program's bytes.

    Args:
        label: the kernel's name.
        times: ``{"float": ..., "packed": ...}``, each :func:`inference_time`'s result.
        program: the compiled :class:`dither_lab.engine.PackedProgram` of the model with this kernel.
    """
    f, p = times["float"], times["packed"]
    return {"kernel": label, "float (ms / image) ↓": round(1e3 * f["seconds_per_image"], 4),
            "float / Sign": round(f["ratio"], 2), "packed (ms / image) ↓": round(1e3 * p["seconds_per_image"], 4),
            "packed / Sign": round(p["ratio"], 2),
            "packed speedup ↑": round(f["seconds_per_image"] / p["seconds_per_image"], 1),
            "packed program (bytes) ↓": int(program.nbytes()["total"])}
