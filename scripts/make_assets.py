"""Produce the shipped assets with the project's own code and record them in assets/MANIFEST.json.

    python scripts/make_assets.py blue-noise [--sizes 256 512] [--seed 0]

Every asset is written atomically and listed with its sha256 and the command that made it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from dither_lab.io import ASSETS_DIR, atomic_write, record_asset
from dither_lab.kernels import blue_noise


def make_blue_noise(sizes: list[int], seed: int, sigma: float) -> None:
    out_dir = ASSETS_DIR / "blue_noise"
    out_dir.mkdir(parents=True, exist_ok=True)
    for n in sizes:
        t0 = time.perf_counter()
        ranks = blue_noise(n, seed=seed, sigma=sigma).astype(np.uint32)
        secs = time.perf_counter() - t0
        rel = f"blue_noise/void_and_cluster_{n}_seed{seed}_sigma{sigma:g}.npy"
        atomic_write(ASSETS_DIR / rel, lambda fh, r=ranks: np.save(fh, r, allow_pickle=False), force=True)
        record_asset(rel, made_by=f"python scripts/make_assets.py blue-noise --sizes {n} --seed {seed} --sigma {sigma:g}",
                     seed=seed, sigma=sigma, size=n, seconds=round(secs, 1))
        print(f"{rel}: {secs:.1f} s")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    b = sub.add_parser("blue-noise", help="void-and-cluster masks")
    b.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--sigma", type=float, default=1.5)
    a = p.parse_args()
    if a.what == "blue-noise":
        make_blue_noise(a.sizes, a.seed, a.sigma)


if __name__ == "__main__":
    main()
