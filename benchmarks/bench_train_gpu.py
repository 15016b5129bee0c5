"""GPU training speed: the training step of ``dither_lab.nn.train`` (``TrainStep``) replayed from a CUDA graph with
the fused Adam, against the same step run eagerly with the default (for-each) Adam, in one run; and a check that
the two compute the same training.

    python benchmarks/bench_train_gpu.py [--steps 100] [--only cifar10] [--compile]

Writes benchmarks/results/train_gpu.json. Batch 128 of random images, the shipped architectures with the Sign and
the DeSign activation. Agreement: two copies of one model train on the same batches, one graphed, one eager, with
deterministic cuDNN; their losses must agree step by step (a BNN amplifies any difference: one flipped sign
changes the next layer's input). ``--compile`` also times full batches through ``torch.compile`` inside the graph
(the ``--compile`` of training) and checks that graphing the compiled step changes nothing; compiling takes a
while per model, so ``--only cifar10`` keeps to the CIFAR-10 ResNet-20. Without a GPU it says so and exits.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # GPU machines may run it from a bare checkout

from dither_lab.nn.models import build_model  # noqa: E402
from dither_lab.nn.train import SHIPPED_MODELS, TrainStep, param_groups  # noqa: E402

BATCH = 128


def make(config: dict, activation: str, *, fused: bool) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = build_model(**config, activation=activation).cuda()
    opt = torch.optim.Adam(param_groups(model, 5e-4), lr=2e-3, fused=fused)
    return model, opt


def batches(config: dict, count: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    gen = torch.Generator(device="cuda").manual_seed(0)
    size, cin = config["image_size"], config["in_channels"]
    return [(torch.randn(BATCH, cin, size, size, device="cuda", generator=gen),
             torch.randint(0, 10, (BATCH,), device="cuda", generator=gen)) for _ in range(count)]


def steps_per_s(config: dict, activation: str, *, graph: bool, steps: int, compile: bool = False) -> float:
    model, opt = make(config, activation, fused=graph)
    fast = torch.compile(model) if compile else None
    step = TrainStep(model, opt, batch_size=BATCH, label_smoothing=0.1, graph=graph, fast=fast)
    data = batches(config, 8)
    for i in range(10):  # warm-up (and, graphed, the capture)
        step(*data[i % 8])
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for i in range(steps):
        step(*data[i % 8])
    torch.cuda.synchronize()
    if graph and not step.graphed:
        raise SystemExit(f"the graph was not captured: {step.failure}")
    return steps / (time.perf_counter() - t0)


def agreement(config: dict, activation: str, steps: int = 40, compile: bool = False) -> float:
    """Largest |loss difference| over ``steps`` steps, graphed against eager (both fused Adam, both compiled or
    neither), deterministic cuDNN; every fifth batch is a partial one (the eager path of the graphed step)."""
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    data = batches(config, steps)
    data = [(x[:80], y[:80]) if i % 5 == 4 else (x, y) for i, (x, y) in enumerate(data)]
    losses = []
    for graph in (True, False):
        model, opt = make(config, activation, fused=True)
        fast = torch.compile(model) if compile else None
        step = TrainStep(model, opt, batch_size=BATCH, label_smoothing=0.1, graph=graph, fast=fast)
        losses.append(torch.stack([step(x, y)[2] / len(y) for x, y in data]).cpu())
        if graph and not step.graphed:
            raise SystemExit(f"the graph was not captured: {step.failure}")
    torch.backends.cudnn.deterministic = False
    return float((losses[0] - losses[1]).abs().max())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100, help="timed steps per measurement")
    ap.add_argument("--only", choices=list(SHIPPED_MODELS), default=None, help="one dataset's model only")
    ap.add_argument("--compile", action="store_true", help="also time and check the compiled step")
    a = ap.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device: this benchmark needs a GPU (the CPU training speed is benchmarks/bench_train.py)")
        return 0
    res: dict = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "batch": BATCH}
    for ds, config in SHIPPED_MODELS.items():
        if a.only and ds != a.only:
            continue
        for activation in ("sign", "design"):
            name = f"{ds}-{config['arch']}-{activation}"
            fast = steps_per_s(config, activation, graph=True, steps=a.steps)
            base = steps_per_s(config, activation, graph=False, steps=a.steps)
            diff = agreement(config, activation)
            res[name] = {"graphed_steps_per_s": fast, "eager_steps_per_s": base, "speedup": fast / base,
                         "max_loss_difference": diff}
            print(f"{name:<34} graphed {fast:7.1f} steps/s, eager {base:7.1f} steps/s: {fast / base:5.2f}x; "
                  f"largest loss difference over 40 steps {diff:.2e}", flush=True)
            if a.compile:
                t0 = time.perf_counter()
                comp = steps_per_s(config, activation, graph=True, steps=a.steps, compile=True)
                first = time.perf_counter() - t0 - a.steps / comp  # mostly compiling
                cdiff = agreement(config, activation, compile=True)
                res[name] |= {"compiled_graphed_steps_per_s": comp, "compiled_speedup_over_graphed": comp / fast,
                              "compile_and_warmup_s": first, "compiled_max_loss_difference": cdiff}
                print(f"{name:<34} compiled+graphed {comp:7.1f} steps/s: {comp / fast:5.2f}x the graphed step, "
                      f"{comp / base:5.2f}x eager; compiling and warm-up {first:.0f} s; graphed against eager, "
                      f"both compiled: largest loss difference {cdiff:.2e}", flush=True)
    out = Path(__file__).parent / "results" / "train_gpu.json"
    out.write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
