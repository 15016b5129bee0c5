"""Learned kernels in the app's setting: the last kernel of the straight-through walk against the best one kept.

    python scripts/learn_drift.py [--steps 100] [--keep-best 20]

For each shipped Fashion-MNIST model and start kernel, :func:`dither_lab.nn.learned.learn_and_compare` learns on the
even-indexed half of the embedded 2,000-image subset and measures on the other half, once returning the last
kernel and once the kernel with the lowest loss on the learning half (checked every ``--keep-best`` steps), as
the Accuracy page does. Prints held-out accuracy before and after, the images put right and wrong against the
start kernel, the chance band and the seconds taken; no time limit, seed 0.
"""

from __future__ import annotations

import argparse
import time

from dither_lab.data import embedded_subset
from dither_lab.nn.learned import learn_and_compare
from dither_lab.nn.models import load_pretrained

CASES = [("fashion-mnist-design", "preset:design-2x2-a"), ("fashion-mnist-sign", "preset:design-2x2-a"),
         ("fashion-mnist-design", "bayer:4")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--keep-best", type=int, default=20)
    a = ap.parse_args()
    data = embedded_subset()
    print(f"{'model':<22}{'start':<22}{'kept':<8}{'before':>8}{'after':>8}{'right':>7}{'wrong':>7}{'chance':>8}"
          f"{'seconds':>9}")
    for name, init in CASES:
        model, _ = load_pretrained(name)
        for keep in (None, a.keep_best):
            t0 = time.perf_counter()
            r = learn_and_compare(model, data, init=init, steps=a.steps, time_limit=None, keep_best=keep)
            print(f"{name:<22}{init:<22}{'last' if keep is None else 'best':<8}{r['before']:>8.1%}{r['after']:>8.1%}"
                  f"{r['fixed']:>7}{r['broken']:>7}{r['chance']:>8.1%}{time.perf_counter() - t0:>9.1f}")


if __name__ == "__main__":
    main()
