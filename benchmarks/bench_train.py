"""CPU training speed: images/s of one training step (forward, backward, Adam) of the shipped architectures,
channels-last (what ``dither_lab.nn.train`` uses on the CPU) against the default contiguous layout, and the
channels-last step through ``torch.compile`` (``train --compile``) against the eager one, in one run.

    python benchmarks/bench_train.py

Writes benchmarks/results/train.json. Batch 128 of random images, DeSign activation, torch's default threads.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from dither_lab.bench import median_time, write_results
from dither_lab.nn.models import build_model
from dither_lab.nn.train import SHIPPED_MODELS

BATCH = 128


def images_per_s(config: dict, layout: torch.memory_format, *, compiled: bool = False) -> float:
    torch.manual_seed(0)
    model = build_model(**config, activation="design").to(memory_format=layout)
    net = torch.compile(model) if compiled else model
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    size, cin = config["image_size"], config["in_channels"]
    x = torch.randn(BATCH, cin, size, size).contiguous(memory_format=layout)
    y = torch.randint(0, 10, (BATCH,))

    def step() -> None:
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return BATCH / median_time(step, repeats=7, warmup=2)


def main() -> int:
    configs = {f"{ds}-{c['arch']}" + (f"-{c['unit']}" if "unit" in c else ""): c for ds, c in SHIPPED_MODELS.items()}
    configs["cifar10-resnet-20-plain"] = {**SHIPPED_MODELS["cifar10"], "unit": "plain"}
    res = {}
    for name, config in configs.items():
        fast = images_per_s(config, torch.channels_last)
        base = images_per_s(config, torch.contiguous_format)
        comp = images_per_s(config, torch.channels_last, compiled=True)  # the warm-up compiles
        res[name] = {"channels_last_images_per_s": fast, "contiguous_images_per_s": base, "speedup": fast / base,
                     "compiled_images_per_s": comp, "compiled_speedup": comp / fast}
        print(f"{name:<30} channels-last {fast:6.0f} img/s, contiguous {base:6.0f} img/s: {fast / base:.2f}x; "
              f"compiled {comp:6.0f} img/s: {comp / fast:.2f}x eager", flush=True)
    res["threads"] = torch.get_num_threads()
    write_results(Path(__file__).parent / "results" / "train.json", res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
