"""CPU pilot: ResNet-20's ``plain`` and ``bn-prelu`` units, each with Sign and with DeSign, on a CIFAR-10 subset.

    python scripts/unit_pilot.py --data PATH/cifar10-jpg.tar.gz [--train 15000] [--test 2000] [--epochs 6]

Every run is the shipped CIFAR-10 recipe (``dither_lab.train.shipped_run``) with the unit as the only change, on
a balanced training subset (seed 0), tested on a balanced test subset after each epoch; two runs at a time, one
torch thread each. Runs resume from their folders under ``--out``. Writes
benchmarks/results/unit_pilot_cifar10.json. A short pilot says which unit learns faster, not where a long
schedule ends.
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

RESULTS = ROOT / "benchmarks" / "results" / "unit_pilot_cifar10.json"
RUNS = [(unit, act) for unit in ("plain", "bn-prelu") for act in ("sign", "design")]


def one_run(unit: str, activation: str, a: argparse.Namespace) -> dict:
    import torch

    from dither_lab.data import balanced_subset, load_dataset
    from dither_lab.train import shipped_run, train

    torch.set_num_threads(1)
    tr = balanced_subset(load_dataset("cifar10", "train", path=a.data), a.train, seed=0)
    te = balanced_subset(load_dataset("cifar10", "test", path=a.data), a.test, seed=0)
    run = shipped_run("cifar10", activation, epochs=a.epochs)
    if unit != "plain":
        run.model["unit"] = unit
    t0 = time.perf_counter()
    card = train(run, tr, te, Path(a.out) / f"{unit}-{activation}-{a.train}-{a.epochs}", resume=True,
                 device="cpu", progress=False)
    return {"unit": unit, "activation": activation, "seconds": round(time.perf_counter() - t0, 1),
            "test_accuracy": card["test_accuracy"], "wall_time_s": card["wall_time_s"],
            "history": [{k: h[k] for k in ("epoch", "train_acc", "test_acc")} for h in card["history"]]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="CIFAR-10 (pickle folder, image tree or .tar.gz)")
    p.add_argument("--train", type=int, default=15_000)
    p.add_argument("--test", type=int, default=2_000)
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--out", default="runs/unit_pilot")
    a = p.parse_args()
    from dither_lab.data import load_dataset

    for split in ("train", "test"):  # decode once, before the workers read the cache
        load_dataset("cifar10", split, path=a.data)
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(one_run, [u for u, _ in RUNS], [act for _, act in RUNS], [a] * len(RUNS)))
    for r in results:
        print(f"{r['unit']:<9} {r['activation']:<7} test {r['test_accuracy']:.4f} "
              f"(train {r['history'][-1]['train_acc']:.4f}), wall {r['wall_time_s']:.0f} s")
    command = f"python scripts/unit_pilot.py --data PATH --train {a.train} --test {a.test} --epochs {a.epochs}"
    RESULTS.write_text(json.dumps({"command": command,
                                   "train_images": a.train, "test_images": a.test, "epochs": a.epochs,
                                   "threads_per_run": 1, "runs": results}, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
