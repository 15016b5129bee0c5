"""What kernels cost the shipped models at inference, against Sign: thresholds stored after folding batch norm,
extra bytes, compares per image, and folded inference time with the kernel / with Sign, timed alternately in one
run. Sign against itself is timed too: its ratio is the run-to-run spread of the measurement. VGG-small, the
paper's CIFAR-10 network, is measured untrained (its counts and bytes are the architecture's; timed on smaller
batches: it is about ten times the work of ResNet-20).

    python benchmarks/bench_cost.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dither_lab.bench import write_results  # noqa: E402
from dither_lab.nn.cost import inference_time, kernel_cost  # noqa: E402
from dither_lab.nn.models import available_pretrained, build_model, load_pretrained  # noqa: E402

KERNELS = ["sign", "trained", "preset:design-3x3-a", "preset:design3d-2x2x4", "bayer:4", "bayer:8"]
MODELS = ["cifar10-design", "fashion-mnist-design"]


def _models():
    """(name, model, batch, repeats): the shipped DeSign models, then VGG-small untrained."""
    for name in MODELS:
        if name not in available_pretrained():
            print(f"{name}: not installed (git checkout -- assets)")
            continue
        yield name, load_pretrained(name)[0], 256, 7
    torch.manual_seed(0)
    yield "vgg-small (untrained)", build_model("vgg-small", in_channels=3, activation="design"), 64, 7


def main() -> int:
    res: dict = {"threads": torch.get_num_threads(), "models": {}}
    for name, model, batch, repeats in _models():
        rows = {"batch": batch, "repeats": repeats}
        print(f"{name} ({kernel_cost(model)['model_bytes']:,} bytes packed)")
        print(f"  {'kernel':<24}{'thresholds':>11}{'Sign':>7}{'compares':>10}{'extra bytes':>13}{'of model':>10}"
              f"{'time / Sign':>13}")
        for spec in KERNELS:
            kernel = None if spec == "trained" else spec
            c = kernel_cost(model, kernel)
            t = inference_time(model, kernel, batch=batch, repeats=repeats)
            rows[spec] = {k: v for k, v in c.items() if k != "rows"} | {"time": t}
            print(f"  {spec:<24}{c['thresholds']:>11,}{c['sign_thresholds']:>7,}{c['compares']:>10,}"
                  f"{c['extra_bytes']:>13,}{c['extra_share']:>10.1%}{t['ratio']:>12.2f}x")
        res["models"][name] = rows
    write_results(Path(__file__).parent / "results" / "cost.json", res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
