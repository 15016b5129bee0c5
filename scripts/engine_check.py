"""Check the packed engine against the float model on whole test sets: every binary activation bit for bit and
every prediction, for the shipped models under each kernel (their own, Sign, the DeSign presets, the 3-D kernel,
Bayer, blue noise, and one kernel in the first binary layer only).

    python scripts/engine_check.py --cifar10 PATH [--fashion-mnist PATH] [--count N] [--threads 2]

PATH is what :func:`dither_lab.data.load_dataset` reads (CIFAR-10 as a folder, a .tar.gz or the python batches;
Fashion-MNIST's IDX files, by default from where Debian's package installs them). Models whose data is not given
or found are skipped, and say so. Exits 1 if anything differs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

KERNELS = [None, "sign", "preset:design-2x2-a", "preset:design-3x3-a", "preset:design3d-2x2x4", "bayer:8",
           "blue-noise:16", ("bayer:4", [0])]
MODELS = {"cifar10-design": "cifar10", "cifar10-sign": "cifar10", "fashion-mnist-design": "fashion-mnist",
          "fashion-mnist-sign": "fashion-mnist"}


def check(name: str, model, images: np.ndarray, labels: np.ndarray, kernel, *, threads: int, batch: int) -> bool:
    from dither_lab.engine import compile_model, float_reference

    spec, layers = kernel if isinstance(kernel, tuple) else (kernel, None)
    program = compile_model(model, kernel=spec, layers=layers, threads=threads)
    flips = total = 0
    same_pred = right = 0
    t_engine = t_float = 0.0
    for i in range(0, len(images), batch):
        x = images[i : i + batch]
        t0 = time.perf_counter()
        logits = program.predict(x)
        acts = program.binary_activations(x)
        t_engine += time.perf_counter() - t0
        t0 = time.perf_counter()
        ref_logits, ref_acts = float_reference(model, x, kernel=spec, layers=layers)
        t_float += time.perf_counter() - t0
        for n, a in ref_acts.items():
            flips += int(np.count_nonzero(acts[n] != a))
            total += a.size
        same_pred += int(np.count_nonzero(logits.argmax(1) == ref_logits.argmax(1)))
        right += int(np.count_nonzero(logits.argmax(1) == labels[i : i + batch]))
    label = spec if layers is None else f"{spec} in layers {layers}"
    ok = flips == 0 and same_pred == len(images)
    print(f"{name:22s} {str(label or 'trained'):32s} {len(images):6d} images  activations differing "
          f"{flips}/{total:,}  predictions equal {same_pred}/{len(images)}  accuracy {right / len(images):.4f}  "
          f"{'OK' if ok else 'DIFFERENT'}", flush=True)
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cifar10", help="CIFAR-10 location (folder, .tar.gz or python batches)")
    ap.add_argument("--fashion-mnist", help="Fashion-MNIST IDX folder (default: the usual places)")
    ap.add_argument("--count", type=int, default=None, help="first N test images of each set (default: all)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=1000)
    args = ap.parse_args(argv)

    from dither_lab.data import load_dataset
    from dither_lab.nn.models import load_pretrained

    data = {}
    for ds, path in (("cifar10", args.cifar10), ("fashion-mnist", args.fashion_mnist)):
        if ds == "cifar10" and path is None:
            print("cifar10: no --cifar10 path given; its models are skipped")
            continue
        try:
            data[ds] = load_dataset(ds, "test", path=path)
        except ValueError as exc:
            print(f"{ds}: skipped ({exc})")
    ok = True
    import torch

    from dither_lab.data import normalize

    torch.set_num_threads(args.threads)
    for name, ds in MODELS.items():
        if ds not in data:
            continue
        d = data[ds]
        n = len(d) if args.count is None else min(args.count, len(d))
        images = normalize(np.asarray(d.images[:n]), ds).numpy()
        labels = np.asarray(d.labels[:n])
        model, _ = load_pretrained(name)
        for kernel in KERNELS:
            ok &= check(name, model, images, labels, kernel, threads=args.threads, batch=args.batch)
    print("all equal" if ok else "DIFFERENCES FOUND")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
