"""The packed engine against the float model (PyTorch, oneDNN, channels-last), ratios measured in one run.

    python benchmarks/bench_engine.py [--threads 1 2] [--quick] [--clock wall|cpu]

Figures, each with 1 and 2 threads (PyTorch's intra-op threads for the float model, the program's threads for
the packed one), medians of repeats after a warm-up:

* layer: one binary convolution with its binary activation (VGG-small's layers, and one of 64 channels):
  float = the model's convolution (+ max-pool) + folded threshold; packed = bits in, bits out.
* network: whole forward passes, packed ``predict`` against the float model, for VGG-small (untrained, random
  statistics), the shipped ResNet-20 (cifar10-design) and fmnist-net (fashion-mnist-design); and the time of
  1,000 CIFAR-10-sized images through the packed ResNet-20.
* kernels: packed with DeSign 2x2, 3x3, the 3-D kernel and Bayer 8x8 against packed with Sign, timed alternately
  (a slower spell of the machine falls on both).

Float and packed are timed in blocks, one engine after the other, not alternately: after each call PyTorch's
OpenMP threads keep spinning for a while, and interleaved they took the packed engine's second core (a 2-thread
packed layer measured 3.8 ms interleaved with PyTorch, 2.0 ms with ``OMP_WAIT_POLICY=PASSIVE``).
* memory: bytes of each packed program (threshold tables included) against the float32 model.

Wall-clock time by default. ``--clock cpu`` times the process's CPU time instead: steadier on a busy machine,
and meaningful with one thread only (with more it adds the threads' times up).

Writes benchmarks/results/engine.json with the commit, versions and machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dither_lab.bench import write_results  # noqa: E402
from dither_lab.engine import compile_conv, compile_model  # noqa: E402
from dither_lab.nn.models import BinaryActivation, BinaryConv2d, build_model, load_pretrained, model_nbytes  # noqa: E402

TARGETS = {"layer_128plus": 4.0, "layer_64": 2.0, "vgg-small": 2.5, "resnet-20": 1.5, "fmnist-net": 1.5}
KERNELS = ["preset:design-2x2-a", "preset:design-3x3-a", "preset:design3d-2x2x4", "bayer:8"]
# (name, cin, cout, size, pool, batch): VGG-small's binary layers on 32x32 inputs, and a 64-channel one
LAYERS = [("vgg 128-128 32x32 +pool", 128, 128, 32, 2, 32), ("vgg 128-256 16x16", 128, 256, 16, 1, 32),
          ("vgg 256-256 16x16 +pool", 256, 256, 16, 2, 32), ("vgg 256-512 8x8", 256, 512, 8, 1, 64),
          ("vgg 512-512 8x8 +pool", 512, 512, 8, 2, 64), ("64-64 32x32", 64, 64, 32, 1, 32)]


CLOCK = {"wall": time.perf_counter, "cpu": time.process_time}
clock = time.perf_counter


def alternate(fns: list, *, repeats: int, warmup: int = 2, best: list | None = None) -> list[float]:
    """Median seconds of each function, timed in alternation (a slow spell of the machine falls on all); the
    fastest of each run goes into ``best`` when given (steadier than the median on a busy machine)."""
    for f in fns:
        for _ in range(warmup):
            f()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for t, f in zip(times, fns, strict=True):
            t0 = clock()
            f()
            t.append(clock() - t0)
    if best is not None:
        best.extend(float(min(t)) for t in times)
    return [float(np.median(t)) for t in times]


def blocks(fns: list, *, repeats: int) -> list[float]:
    """Median seconds of each function, timed in a block of its own (see the module's note on PyTorch's
    spinning threads), after :func:`alternate`'s warm-up."""
    return [alternate([f], repeats=repeats)[0] for f in fns]


def _with_stats(model: torch.nn.Module, shape: tuple[int, ...], seed: int = 0) -> torch.nn.Module:
    """Batch-norm statistics from a few training-mode passes of random inputs, then eval mode."""
    g = torch.Generator().manual_seed(seed)
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(shape, generator=g))
    return model.eval().to(memory_format=torch.channels_last)


def _float_layer(conv, act, xt, pool):
    with torch.inference_mode():
        y = conv(xt)
        if pool == 2:
            y = F.max_pool2d(y, 2)
        return act(y)


def _float_net(model, xt):
    with torch.inference_mode():
        return model(xt)


def bench_layers(threads: int, repeats: int) -> dict:
    out = {}
    for name, cin, cout, size, pool, batch in LAYERS:
        torch.manual_seed(0)
        conv = BinaryConv2d(cin, cout, 3, padding=1, bias=False).eval().to(memory_format=torch.channels_last)
        act = BinaryActivation(cout, "design").eval()
        with torch.no_grad():
            act.bn.running_mean.normal_(0, 10)
            act.bn.running_var.uniform_(100, 1000)
        x = np.where(np.random.default_rng(0).random((batch, cin, size, size)) < 0.5, -1.0, 1.0).astype(np.float32)
        xt = torch.from_numpy(x).contiguous(memory_format=torch.channels_last)
        packed = compile_conv(conv, act, height=size, width=size, pool=pool)
        bits = packed.pack(x)

        t_float, t_packed = blocks([partial(_float_layer, conv, act, xt, pool),
                                    partial(packed, bits, threads=threads)], repeats=repeats)
        out[name] = {"float_s": t_float, "packed_s": t_packed, "speedup": t_float / t_packed, "batch": batch}
        target = TARGETS["layer_64" if cin == 64 else "layer_128plus"]
        print(f"layer    {name:28s} threads {threads}  float {t_float * 1e3:8.2f} ms  packed {t_packed * 1e3:7.2f} ms"
              f"  speedup {t_float / t_packed:5.2f}x  (target >= {target}x: {'met' if t_float / t_packed >= target else 'MISSED'})",
              flush=True)
    return out


def _networks():
    torch.manual_seed(0)
    vgg = _with_stats(build_model("vgg-small", in_channels=3, image_size=32, activation="design"), (16, 3, 32, 32))
    yield "vgg-small", vgg, (3, 32, 32), 64
    yield "resnet-20", load_pretrained("cifar10-design")[0], (3, 32, 32), 250
    yield "fmnist-net", load_pretrained("fashion-mnist-design")[0], (1, 28, 28), 250


def bench_networks(threads: int, repeats: int, quick: bool) -> dict:
    out = {}
    for name, model, shape, batch in _networks():
        model = model.eval().to(memory_format=torch.channels_last)
        x = np.random.default_rng(1).standard_normal((batch, *shape)).astype(np.float32)
        xt = torch.from_numpy(x).contiguous(memory_format=torch.channels_last)
        program = compile_model(model, threads=threads)

        t_float, t_packed = blocks([partial(_float_net, model, xt), partial(program.predict, x)], repeats=repeats)
        row = {"float_s": t_float, "packed_s": t_packed, "speedup": t_float / t_packed, "batch": batch}
        print(f"network  {name:28s} threads {threads}  float {t_float * 1e3:8.1f} ms  packed {t_packed * 1e3:7.1f} ms"
              f"  speedup {t_float / t_packed:5.2f}x  (target >= {TARGETS[name]}x: "
              f"{'met' if t_float / t_packed >= TARGETS[name] else 'MISSED'})", flush=True)
        if name == "resnet-20":
            x1000 = np.random.default_rng(2).standard_normal((1000, *shape)).astype(np.float32)
            program.predict(x1000[:10])
            t0 = clock()
            program.predict(x1000)
            row["seconds_1000_images"] = clock() - t0
            print(f"network  resnet-20 1,000 images        threads {threads}  packed {row['seconds_1000_images']:.3f} s"
                  f"  (target < 1 s: {'met' if row['seconds_1000_images'] < 1 else 'MISSED'})", flush=True)
        kernels = {}
        sign = compile_model(model, kernel="sign", threads=threads)
        for spec in KERNELS[: 2 if quick else None]:
            p = compile_model(model, kernel=spec, threads=threads)
            fastest: list[float] = []
            t_k, t_s = alternate([partial(p.predict, x), partial(sign.predict, x)], repeats=repeats, best=fastest)
            kernels[spec] = {"seconds": t_k, "sign_seconds": t_s, "ratio": t_k / t_s,
                             "ratio_of_fastest": fastest[0] / fastest[1]}
            print(f"kernel   {name:12s} {spec:24s} threads {threads}  packed / packed Sign {t_k / t_s:5.3f}x"
                  f"  (target <= 1.03x: {'met' if t_k / t_s <= 1.03 else 'MISSED'}; fastest runs "
                  f"{fastest[0] / fastest[1]:5.3f}x)", flush=True)
        row["kernels"] = kernels
        out[name] = row
    return out


def memory() -> dict:
    out = {}
    for name, model, _, _ in _networks():
        float_bytes = model_nbytes(model, packed=False)["total"]
        for spec in ("sign", None, "bayer:8"):
            nb = compile_model(model, kernel=spec).nbytes()
            key = f"{name} {spec or 'trained'}"
            out[key] = {**nb, "float32_model": float_bytes, "ratio": nb["total"] / float_bytes}
            print(f"memory   {key:36s} packed {nb['total']:>10,} B (weights {nb['packed_weights']:,}, tables "
                  f"{nb['threshold_tables']:,}, float {nb['float_parts']:,})  float32 model {float_bytes:>10,} B  "
                  f"= {nb['total'] / float_bytes:.3f}", flush=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--quick", action="store_true", help="fewer repeats and kernels")
    ap.add_argument("--clock", choices=sorted(CLOCK), default="wall")
    args = ap.parse_args()
    global clock
    clock = CLOCK[args.clock]
    repeats = 3 if args.quick else 9
    res: dict = {"layers": {}, "networks": {}}
    for t in args.threads:
        torch.set_num_threads(t)
        res["layers"][t] = bench_layers(t, repeats)
        res["networks"][t] = bench_networks(t, repeats, args.quick)
    res["memory"] = memory()
    out = write_results(Path(__file__).parent / "results" / "engine.json", res, quick=args.quick, repeats=repeats,
                        clock=args.clock)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
