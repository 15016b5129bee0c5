"""CPU pilot: ResNet-20's ``plain`` and ``bn-prelu`` units, each with Sign and with DeSign, on a CIFAR-10 subset.

    python scripts/unit_pilot.py --data PATH/cifar10-jpg.tar.gz [--train 15000] [--test 2000] [--epochs 6]
    python scripts/unit_pilot.py --data PATH --units bn-prelu --ste approxsign   # another surrogate gradient
    python scripts/unit_pilot.py --data PATH --units bn-prelu --batch-size 256   # half the optimizer steps

Every run is the shipped CIFAR-10 recipe (``dither_lab.nn.train.shipped_run``) with the unit (and, where given, the
STE, batch size and learning rate) as the only change, on a balanced training subset (seed 0), tested on a
balanced test subset after each epoch; two runs at a time, one torch thread each. Runs resume from their folders
under ``--out``. Writes benchmarks/results/unit_pilot_cifar10.json, with ``_<ste>``, ``_b<batch>`` and
``_lr<lr>`` added to the name for options off the recipe. A short pilot says which setting learns faster, not
where a long schedule ends.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results" / "unit_pilot_cifar10{}.json"


def pilot_run(unit: str, activation: str, *, epochs: int, ste: str = "hardtanh", batch_size: int | None = None,
              lr: float | None = None):
    """The shipped CIFAR-10 recipe with ``unit``, ``ste``, ``batch_size`` and ``lr`` (None: the recipe's) as the
    only changes."""
    from dataclasses import replace

    from dither_lab.nn.train import shipped_run

    run = shipped_run("cifar10", activation, epochs=epochs)
    run.recipe = replace(run.recipe, batch_size=run.recipe.batch_size if batch_size is None else batch_size,
                         lr=run.recipe.lr if lr is None else lr)
    run.model["unit"] = unit  # the recipe's own unit is bn-prelu: set it either way
    if unit == "plain":
        del run.model["unit"]  # as build_model records plain models
    if ste != "hardtanh":
        run.model["ste"] = ste
    return run


def one_run(unit: str, activation: str, a: argparse.Namespace) -> dict:
    import torch

    from dither_lab.data import balanced_subset, load_dataset
    from dither_lab.nn.train import train

    torch.set_num_threads(1)
    tr = balanced_subset(load_dataset("cifar10", "train", path=a.data), a.train, seed=0)
    te = balanced_subset(load_dataset("cifar10", "test", path=a.data), a.test, seed=0)
    run = pilot_run(unit, activation, epochs=a.epochs, ste=a.ste, batch_size=a.batch_size, lr=a.lr)
    t0 = time.perf_counter()
    card = train(run, tr, te, Path(a.out) / f"{unit}-{activation}{suffix(a, '-')}-{a.train}-{a.epochs}", resume=True,
                 device="cpu", progress=False)
    return {"unit": unit, "activation": activation, "ste": a.ste, "batch_size": run.recipe.batch_size,
            "lr": run.recipe.lr, "seconds": round(time.perf_counter() - t0, 1),
            "test_accuracy": card["test_accuracy"], "wall_time_s": card["wall_time_s"],
            "history": [{k: h[k] for k in ("epoch", "train_acc", "test_acc")} for h in card["history"]]}


def suffix(a: argparse.Namespace, sep: str) -> str:
    """What sets a pilot apart from the recipe, for file and folder names: ``""`` for the recipe itself."""
    parts = [a.ste] if a.ste != "hardtanh" else []
    parts += [f"b{a.batch_size}"] if a.batch_size else []
    parts += [f"lr{a.lr:g}"] if a.lr else []
    return "".join(sep + x for x in parts)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="CIFAR-10 (pickle folder, image tree or .tar.gz)")
    p.add_argument("--train", type=int, default=15_000)
    p.add_argument("--test", type=int, default=2_000)
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--out", default="runs/unit_pilot")
    p.add_argument("--units", nargs="+", choices=["plain", "bn-prelu"], default=["plain", "bn-prelu"])
    p.add_argument("--ste", choices=["hardtanh", "approxsign", "identity"], default="hardtanh",
                   help="the activations' straight-through estimator")
    p.add_argument("--batch-size", type=int, default=None, help="instead of the recipe's (128)")
    p.add_argument("--lr", type=float, default=None, help="instead of the recipe's (2e-3)")
    a = p.parse_args()
    runs = [(unit, act) for unit in a.units for act in ("sign", "design")]
    from dither_lab.data import load_dataset

    for split in ("train", "test"):  # decode once, before the workers read the cache
        load_dataset("cifar10", split, path=a.data)
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(one_run, [u for u, _ in runs], [act for _, act in runs], [a] * len(runs)))
    for r in results:
        print(f"{r['unit']:<9} {r['activation']:<7} test {r['test_accuracy']:.4f} "
              f"(train {r['history'][-1]['train_acc']:.4f}), wall {r['wall_time_s']:.0f} s")
    command = (f"python scripts/unit_pilot.py --data PATH --train {a.train} --test {a.test} --epochs {a.epochs} "
               f"--units {' '.join(a.units)} --ste {a.ste}"
               + (f" --batch-size {a.batch_size}" if a.batch_size else "") + (f" --lr {a.lr:g}" if a.lr else ""))
    path = Path(str(RESULTS).format(suffix(a, "_")))
    path.write_text(json.dumps({"command": command,
                                   "train_images": a.train, "test_images": a.test, "epochs": a.epochs,
                                   "threads_per_run": 1, "runs": results}, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
