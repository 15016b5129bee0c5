"""``dither-lab design``: threshold-kernel search."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from dither_lab.cli.common import CliError, load_eval_model, print_json
from dither_lab.design import DEFAULT_OBJECTIVE, METHODS, OBJECTIVES


def _design_images(source: str, count: int, data_path: str | None) -> Any:
    import numpy as np

    from dither_lab.data import balanced_subset, embedded_subset, load_dataset
    from dither_lab.design import gray_images
    from dither_lab.io import load_image

    if source == "subset":
        return gray_images(embedded_subset().images[:count])
    if source in ("fashion-mnist", "cifar10"):
        # files may be sorted by class: take each class alike
        return gray_images(balanced_subset(load_dataset(source, "test", path=data_path), count).images)
    folder = Path(source)
    if not folder.is_dir():
        raise CliError(f"dither-lab design: --images must be subset, fashion-mnist, cifar10 or a folder, got {source!r}")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"))[:count]
    if not files:
        raise CliError(f"dither-lab design: no images in {folder}")
    imgs = [load_image(f) for f in files]
    h = min(i.shape[0] for i in imgs)
    w = min(i.shape[1] for i in imgs)
    return np.stack([i[:h, :w] for i in imgs])


def _cmd_design(a: argparse.Namespace) -> None:
    from dither_lab.design import design_kernel, resolve_method, simulate_responses

    try:
        m, n = (int(v) for v in a.size.lower().split("x"))
    except ValueError:
        raise CliError(f"dither-lab design: --size must be like 2x2 or 3x3, got {a.size!r}") from None
    try:
        resolve_method(m, n, a.method)
    except ValueError as exc:
        raise CliError(f"dither-lab design: {exc}") from None
    images = _design_images(a.images, a.count, a.data)
    res = design_kernel(images, m, n, objective=a.objective, slices=max(1, a.slices), method=a.method, restarts=a.restarts,
                        seed=a.seed, top=a.top)
    if a.scale_from:
        from dither_lab.data import embedded_subset
        from dither_lab.kernels import LEVEL_TO_BN
        from dither_lab.study import measured_levels

        model, dataset = load_eval_model(a.scale_from, "design")
        if dataset != "fashion-mnist":
            raise CliError("dither-lab design: --scale-from measures on the embedded Fashion-MNIST subset; "
                           "give a Fashion-MNIST model")
        levels = simulate_responses(images, seed=a.seed)
        table = measured_levels(model, embedded_subset().images[:500], dataset, levels=levels)
        res["levels_to_bn_from_data"] = {str(k): v for k, v in table.items()}
        res["levels_to_bn_authors"] = {str(k): v for k, v in LEVEL_TO_BN.items()}
    if a.json:
        print_json(res)
        return
    if a.slices > 1:
        print(f"3-D kernel, {a.slices} slices over {res['channels']} channels, objective {a.objective}, "
              f"{res['seconds']:.2f} s")
        for sl in res["slices"]:
            print(f"  slice {sl['slice']} (channels {sl['channels']}): {sl['levels']}  {sl['score']:.5f}")
    elif res["method"] == "local":
        print(f"local search {m}x{n}, {len(res['starts'])} starts, {res['evaluations']} evaluations, objective "
              f"{a.objective} ({'max' if res['maximize'] else 'min'}), {res['seconds']:.2f} s")
        print(f"  best {res['best'][0]['levels']}  {res['best'][0]['score']:.5f}")
    else:
        print(f"{res['count']} candidates, {res['images']} images, objective {a.objective} "
              f"({'max' if res['maximize'] else 'min'}), {res['seconds']:.2f} s")
        for e in res["best"]:
            print(f"  rank {e['rank']:>8}  {e['levels']}  {e['score']:.5f}")
        for name, e in res["presets"].items():
            print(f"  {name}: rank {e['rank']} of {res['count']}, score {e['score']:.5f}")
    if "levels_to_bn_from_data" in res:
        print("levels -> batch-norm units, from data:", res["levels_to_bn_from_data"])


def add_design(sub: Any) -> None:
    """The ``design`` command."""
    gp = sub.add_parser("design", help="threshold-kernel search (the DeSign procedure, exact tables, local search, 3-D)")
    gp.add_argument("--size", default="2x2", help="2x2 (1,296 candidates) up to 3x3 (10,077,696) exhaustively; "
                                                  "up to 16x16 with --method local")
    gp.add_argument("--objective", default=DEFAULT_OBJECTIVE, choices=list(OBJECTIVES),
                    help="what the search optimizes (default tone: 2x2 local means against the response, won by a "
                         "dither; the paper's tv alone is won by a checkerboard whatever the image)")
    gp.add_argument("--images", default="subset", help="subset (embedded), fashion-mnist, cifar10, or a folder")
    gp.add_argument("--count", type=int, default=1000, help="number of images")
    gp.add_argument("--data", default=None, help="dataset path for fashion-mnist or cifar10")
    gp.add_argument("--seed", type=int, default=0, help="seed of the random binary 3x3 convolution")
    gp.add_argument("--method", choices=list(METHODS), default="auto",
                    help="auto: table up to 3x3, local past it; table: exhaustive, exact; simulate: exhaustive, the "
                         "reference path (2x2); local: coordinate descent on the tables (any size)")
    gp.add_argument("--restarts", type=int, default=8, help="random starts of the local search")
    gp.add_argument("--slices", type=int, default=1, help="F > 1: a 3-D kernel of F channel-cycled slices")
    gp.add_argument("--top", type=int, default=10)
    gp.add_argument("--scale-from", default=None, metavar="MODEL",
                    help="also map levels to batch-norm units by matching this model's measured pre-activations")
    gp.add_argument("--json", action="store_true")
    gp.set_defaults(func=_cmd_design)
