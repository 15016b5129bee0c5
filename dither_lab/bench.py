"""Speed figures of the core, each a ratio against its natural baseline measured in the same process.

Used by ``python -m dither_lab bench`` and ``benchmarks/bench_core.py``. Timings are medians of repeats after a
warm-up, with fixed seeds.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from dither_lab.activation import FoldedThreshold, dithered_sign
from dither_lab.activation.dithered import _compare
from dither_lab.imaging.dither import error_diffusion, ordered_dither
from dither_lab.imaging.metrics import low_high_ratio
from dither_lab.kernels import blue_noise, make_kernel, ranks_to_quantiles


def provenance(**extra: Any) -> dict[str, Any]:
    """What a benchmark's figures were measured with: the commit, the date, the versions, the machine, the threads
    (and ``extra``), to keep beside the figures."""
    import subprocess
    from datetime import UTC, datetime
    from pathlib import Path

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).resolve().parent).stdout.strip()
    except OSError:
        commit = ""
    cpu = platform.processor()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import numba

    return {"commit": commit, "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "python": platform.python_version(), "numpy": np.__version__, "numba": numba.__version__,
            "torch": torch.__version__, "platform": platform.platform(), "processor": cpu,
            "threads": torch.get_num_threads(), **extra}


def write_results(path: Any, results: dict[str, Any], **extra: Any) -> Any:
    """Write a benchmark's results as JSON with their :func:`provenance` under ``meta``; returns the path."""
    import json
    from pathlib import Path

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**results, "meta": provenance(**extra)}, indent=2) + "\n")
    return out


def median_time(fn: Callable[[], Any], *, repeats: int = 15, warmup: int = 2) -> float:
    """Median wall time of ``fn()`` in seconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def authors_threshold_map(kernel_values: np.ndarray, height: int, width: int) -> torch.Tensor:
    """The DeSign authors' construction of the tiled map: a transposed convolution of ones, cropped.

    An independent construction used as the reference in tests and as the baseline in benchmarks.
    """
    k = torch.tensor(np.array(kernel_values, dtype=np.float32))
    k3 = k if k.dim() == 3 else k[None]
    f, m, n = k3.shape
    ones = torch.ones(1, f, -(-height // m), -(-width // n))
    weight = torch.zeros(f, f, m, n)
    weight[range(f), range(f)] = k3
    full = torch.nn.functional.conv_transpose2d(ones, weight, stride=(m, n))
    return full[0, :, :height, :width]


def run(*, quick: bool = False) -> dict[str, Any]:
    """Measure every core figure; ``quick`` uses fewer repeats (for smoke tests)."""
    reps = 3 if quick else 15
    gen = torch.Generator().manual_seed(0)
    shape = (32, 32, 32, 32) if quick else (128, 128, 32, 32)
    x = torch.randn(*shape, generator=gen)
    kern = make_kernel("preset:design-2x2-a")
    t_sign = median_time(lambda: torch.where(x >= 0, 1, -1), repeats=reps)
    t_sign_f = median_time(lambda: torch.where(x >= 0, 1.0, -1.0), repeats=reps)
    t_dsign = median_time(lambda: dithered_sign(x, kern), repeats=reps)
    t_lsign = median_time(lambda: dithered_sign(x, "sign"), repeats=reps)  # the library's Sign: same compare path
    # against the physical limit: copying the tensor (a new one, as the activation returns), forward and backward
    t_copy = median_time(lambda: x.clone(), repeats=reps)
    xg = x.clone().requires_grad_(True)
    out = dithered_sign(xg, kern)
    grad_out = torch.randn(*shape, generator=gen)
    t_back = median_time(lambda: torch.autograd.grad(out, xg, grad_out, retain_graph=True), repeats=reps)
    bn = torch.nn.BatchNorm2d(shape[1]).eval()
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5, generator=gen)
        bn.bias.normal_(0, 0.1, generator=gen)
    folded = FoldedThreshold.from_batchnorm(bn, kern, shape[2], shape[3])
    t_fold = median_time(lambda: folded(x), repeats=reps)
    # channels-last input (the models' inference layout) against thresholds of its layout, and of the other one
    x_cl = x.contiguous(memory_format=torch.channels_last)
    t_matched = median_time(lambda: _compare(x_cl, folded.theta_cl), repeats=reps)
    t_mixed = median_time(lambda: _compare(x_cl, folded.theta), repeats=reps)

    def authors() -> torch.Tensor:
        thr = authors_threshold_map(kern.values, shape[2], shape[3])
        return torch.where(x - thr >= 0, 1.0, -1.0)

    t_auth = median_time(authors, repeats=reps)

    rng = np.random.default_rng(0)
    side = 512 if quick else 2048
    rgb = rng.random((3, side, side), dtype=np.float32)
    bay = make_kernel("bayer:8", domain="unit")
    t_cmp = median_time(lambda: rgb >= 0.5, repeats=reps)
    t_od = median_time(lambda: ordered_dither(rgb, bay), repeats=reps)

    gray = rng.random((512, 512), dtype=np.float32)
    error_diffusion(gray[:8, :8])  # JIT compile outside the timing
    t_ed = median_time(lambda: error_diffusion(gray), repeats=max(3, reps // 3))

    vc = {}
    for n in (64,) if quick else (64, 128):
        t0 = time.perf_counter()
        ranks = blue_noise(n, seed=0)
        vc[n] = (time.perf_counter() - t0, low_high_ratio(ranks_to_quantiles(ranks)))

    res: dict[str, Any] = {
        "dithered_sign_shape": list(shape),
        "sign_int_s": t_sign,
        "sign_float_s": t_sign_f,
        "dithered_sign_s": t_dsign,
        "dithered_sign_vs_sign": t_dsign / t_sign,
        "dithered_sign_vs_float_sign": t_dsign / t_sign_f,
        "dithered_sign_vs_library_sign": t_dsign / t_lsign,
        "copy_s": t_copy,
        "dithered_sign_vs_copy": t_dsign / t_copy,
        "dithered_sign_backward_s": t_back,
        "dithered_sign_backward_vs_copy": t_back / t_copy,
        "folded_vs_library_sign": t_fold / t_lsign,
        "folded_vs_sign": t_fold / t_sign,
        "channels_last_mixed_layout_vs_matched": t_mixed / t_matched,
        "folded_vs_float_sign": t_fold / t_sign_f,
        "authors_tconv_vs_sign": t_auth / t_sign,
        "ordered_dither_rgb_side": side,
        "ordered_dither_vs_compare": t_od / t_cmp,
        "error_diffusion_512_s": t_ed,
    }
    for n, (secs, ratio) in vc.items():
        res[f"void_and_cluster_{n}_s"] = secs
        res[f"void_and_cluster_{n}_low_high_ratio"] = ratio
    res["machine"] = {"platform": platform.platform(), "processor": platform.machine(),
                      "torch": torch.__version__, "numpy": np.__version__, "threads": torch.get_num_threads()}
    return res
