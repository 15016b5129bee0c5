"""Produce the shipped assets with the project's own code and record them in dither_lab/assets/MANIFEST.json.

    python scripts/make_assets.py blue-noise [--sizes 256 512] [--seed 0]
    python scripts/make_assets.py subset [--per-class 200] [--seed 0]

Every asset is written atomically and listed with its sha256 and the command that made it.
"""

from __future__ import annotations

import argparse
import time

import checkout
import numpy as np

from dither_lab.io import atomic_write, record_asset
from dither_lab.kernels import blue_noise


def make_blue_noise(sizes: list[int], seed: int, sigma: float) -> None:
    out_dir = checkout.ASSETS / "blue_noise"
    out_dir.mkdir(parents=True, exist_ok=True)
    for n in sizes:
        t0 = time.perf_counter()
        ranks = blue_noise(n, seed=seed, sigma=sigma).astype(np.uint32)
        secs = time.perf_counter() - t0
        rel = f"blue_noise/void_and_cluster_{n}_seed{seed}_sigma{sigma:g}.npy"
        atomic_write(checkout.ASSETS / rel, lambda fh, r=ranks: np.save(fh, r, allow_pickle=False), force=True)
        record_asset(rel, made_by=f"python scripts/make_assets.py blue-noise --sizes {n} --seed {seed} --sigma {sigma:g}",
                     seed=seed, sigma=sigma, size=n, seconds=round(secs, 1), assets_dir=checkout.ASSETS)
        print(f"{rel}: {secs:.1f} s")


def make_subset(per_class: int, seed: int) -> None:
    from dither_lab.data import SUBSET_ASSET, balanced_indices, load_fashion_mnist

    test = load_fashion_mnist("test")
    idx = balanced_indices(test.labels, per_class, seed=seed)
    (checkout.ASSETS / SUBSET_ASSET).parent.mkdir(parents=True, exist_ok=True)
    images, labels = np.ascontiguousarray(test.images[idx]), test.labels[idx].astype(np.uint8)
    atomic_write(checkout.ASSETS / SUBSET_ASSET,
                 lambda fh: np.savez_compressed(fh, images=images, labels=labels, indices=idx.astype(np.int32)), force=True)
    record_asset(SUBSET_ASSET, made_by=f"python scripts/make_assets.py subset --per-class {per_class} --seed {seed}",
                 source="Fashion-MNIST test set (t10k), MIT licence, Zalando SE", count=int(idx.size), seed=seed, assets_dir=checkout.ASSETS)
    print(f"{SUBSET_ASSET}: {idx.size} images")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    b = sub.add_parser("blue-noise", help="void-and-cluster masks")
    b.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--sigma", type=float, default=1.5)
    s = sub.add_parser("subset", help="balanced held-out Fashion-MNIST test subset")
    s.add_argument("--per-class", type=int, default=200)
    s.add_argument("--seed", type=int, default=0)
    for sp in (b, s):
        checkout.add_assets_option(sp)
    a = p.parse_args()
    checkout.use_assets(a.assets)
    if a.what == "blue-noise":
        make_blue_noise(a.sizes, a.seed, a.sigma)
    else:
        make_subset(a.per_class, a.seed)


if __name__ == "__main__":
    main()
