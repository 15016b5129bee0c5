"""Evaluation speed: 1,000 Fashion-MNIST images (target < 1 s) and 1,000 CIFAR-10-sized images (target < 3 s).

The shipped models, and where the training recipe's architecture differs from theirs (``SHIPPED_MODELS``), that
architecture untrained too, so the next shipped models are known to meet the target.

Inference mode, batches of 500, batch norm + dithered Sign folded into one comparison; the ratio is against
the same network with batch norm and threshold kept apart, measured in the same run.

    python benchmarks/bench_eval.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from dither_lab.bench import median_time, write_results
from dither_lab.data import Dataset
from dither_lab.nn.evaluate import evaluate
from dither_lab.nn.models import available_pretrained, binary_layers, build_model, load_pretrained
from dither_lab.nn.train import SHIPPED_MODELS

TARGETS = {"fashion-mnist": 1.0, "cifar10": 3.0}


def _models(dataset: str, activation: str):
    """``(model, label, result key)``: the shipped model, and the training recipe's architecture (untrained) where
    the shipped one differs."""
    name = f"{dataset}-{activation}"
    recipe = {**SHIPPED_MODELS[dataset], "activation": activation}
    torch.manual_seed(0)
    untrained = build_model(**recipe).eval()
    out = []
    if name in available_pretrained():
        model = load_pretrained(name)[0]
        out.append((model, name, f"{dataset}-{activation}"))
        if model.config == untrained.config:
            return out
    unit = f", {recipe['unit']} units" if "unit" in recipe else ""
    out.append((untrained, f"{recipe['arch']}{unit} (untrained: the training recipe's architecture)",
                f"{dataset}-{activation}-recipe-untrained"))
    return out


def main() -> int:
    rng = np.random.default_rng(0)
    res, ok = {}, True
    for dataset, target in TARGETS.items():
        cin, size = SHIPPED_MODELS[dataset]["in_channels"], SHIPPED_MODELS[dataset]["image_size"]
        data = Dataset(dataset, "bench", rng.integers(0, 256, (1000, cin, size, size), dtype=np.uint8),
                       rng.integers(0, 10, 1000), [str(i) for i in range(10)], "random")
        for activation, (model, label, key) in [(a, m) for a in ("sign", "design") for m in _models(dataset, a)]:
            model = model.to(memory_format=torch.channels_last)
            t_fold = median_time(lambda m=model, d=data: evaluate(m, d), repeats=7, warmup=2)
            for layer in binary_layers(model).values():
                layer.fold = False
            t_plain = median_time(lambda m=model, d=data: evaluate(m, d), repeats=7, warmup=2)
            for layer in binary_layers(model).values():
                layer.fold = True
            met = t_fold < target
            ok &= met
            res[key] = {"model": label, "seconds_1000": t_fold, "unfolded_seconds_1000": t_plain,
                        "folded_vs_unfolded": t_fold / t_plain, "target_s": target}
            print(f"{dataset:<14} {activation:<7} 1,000 images {t_fold:6.3f} s (target < {target} s, "
                  f"{'met' if met else 'MISSED'}); unfolded {t_plain:6.3f} s; folded/unfolded {t_fold / t_plain:.2f}"
                  f"  [{label}]")
    res["threads"] = torch.get_num_threads()
    write_results(Path(__file__).parent / "results" / "eval.json", res)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
