"""The first study: Sign against DeSign, trained with the same recipe, over seeds, with and without learnable
batch-norm scale and shift.

    python scripts/study.py --dataset fashion-mnist --seeds 0 1 2 --epochs 3 --width 0.25 --train-count 20000

Writes benchmarks/results/study_<dataset>.json (every run's card) and prints a Markdown table of mean and spread
of test accuracy (full test set) per configuration. Runs are resumable: each has its folder under runs/study/.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import torch

from dither_lab.data import load_dataset
from dither_lab.train import Recipe, RunConfig, train

ARCH = {"fashion-mnist": ("fmnist-net", 1, 28), "cifar10": ("resnet-20", 3, 32)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=list(ARCH), default="fashion-mnist")
    p.add_argument("--data", default=None)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--width", type=float, default=0.25)
    p.add_argument("--train-count", type=int, default=0, help="first N training images (0: all)")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--device", default="auto")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    arch, cin, size = ARCH[a.dataset]
    tr, te = load_dataset(a.dataset, "train", path=a.data), load_dataset(a.dataset, "test", path=a.data)
    if a.train_count:
        tr = tr.subset(range(min(a.train_count, len(tr))))
    runs = []
    for affine in (True, False):
        for activation in ("sign", "design"):
            for seed in a.seeds:
                name = (f"{a.dataset}-{arch}-w{a.width:g}-e{a.epochs}-n{a.train_count}-{activation}-"
                        f"{'affine' if affine else 'noaffine'}-s{seed}")
                run = RunConfig(model={"arch": arch, "in_channels": cin, "image_size": size, "width": a.width,
                                       "activation": activation, "affine": affine}, dataset=a.dataset,
                                recipe=Recipe(epochs=a.epochs, seed=seed, crop_padding=2 if cin == 1 else 4))
                card = train(run, tr, te, Path("runs/study") / name, resume=True, device=a.device, progress=False)
                print(f"{name}: {card['test_accuracy']:.4f}", flush=True)
                runs.append({"activation": activation, "affine": affine, "seed": seed, "card": card})
    rows = []
    for affine in (True, False):
        for activation in ("sign", "design"):
            accs = [r["card"]["test_accuracy"] for r in runs if r["affine"] == affine and r["activation"] == activation]
            rows.append({"activation": activation, "affine": affine, "n": len(accs), "mean": statistics.mean(accs),
                         "stdev": statistics.stdev(accs) if len(accs) > 1 else 0.0, "runs": accs})
    out = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / f"study_{a.dataset}.json"
    out.write_text(json.dumps({"settings": vars(a), "summary": rows, "runs": runs}, indent=2) + "\n")
    print("\n| activation | BN scale/shift | seeds | test accuracy (mean ± sd) |\n| --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['activation']} | {'learnable' if r['affine'] else 'off'} | {r['n']} | "
              f"{100 * r['mean']:.2f} ± {100 * r['stdev']:.2f} |")


if __name__ == "__main__":
    main()
