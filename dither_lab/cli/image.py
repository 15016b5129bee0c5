"""``dither-lab dither`` and ``metrics``: images binarized, and measured against their source."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from dither_lab.cli.common import CliError, print_json, print_table, refuse_overwrite

#: The viewing conditions of dither_lab.imaging.metrics.VIEWING, said here so that help imports no NumPy.
VIEWING_HELP = ("viewing condition of the eye-weighted metric: print (the default: 300 dpi seen from 30 cm, 61.8 "
                "pixels/degree), screen (1:1 at 96 pixels per inch from 50 cm, 33.0), or a number of pixels/degree")


def _cmd_dither(a: argparse.Namespace) -> None:
    from dither_lab.imaging.compare import compare
    from dither_lab.imaging.metrics import viewing_ppd
    from dither_lab.io import load_image, save_image

    ppd = viewing_ppd(a.viewing)
    refuse_overwrite(a.out, a.force)
    img = load_image(a.image, mode=a.mode)
    outputs = compare(img, [a.kernel], pixels_per_degree=ppd, allow_files=True)  # Sign first, then the kernel
    save_image(outputs[-1].binary, a.out, force=a.force)
    rows = {"sign": outputs[0].metrics, outputs[-1].spec: outputs[-1].metrics}
    if a.json:
        print_json({"image": str(a.image), "out": str(a.out), "shape": list(img.shape),
                    "viewing": rows["sign"]["viewing"], "metrics": rows})
    else:
        print(f"wrote {a.out}")
        print_table(rows)


def _cmd_metrics(a: argparse.Namespace) -> None:
    from dither_lab.imaging.metrics import detail_metrics, viewing_ppd
    from dither_lab.io import load_image

    ppd = viewing_ppd(a.viewing)
    ref = load_image(a.ref, mode=a.mode)
    test = load_image(a.test, mode=a.mode)
    if ref.shape != test.shape:
        raise CliError(f"{a.ref} and {a.test} differ in size: {list(ref.shape)} and {list(test.shape)}")
    m = detail_metrics(ref, test, pixels_per_degree=ppd)
    if a.json:
        print_json(m)
    else:
        print_table({Path(a.test).name: m})


def add_dither(sub: Any) -> None:
    """The ``dither`` command."""
    dp = sub.add_parser("dither", help="dither an image with a kernel and print metrics against Sign")
    dp.add_argument("image")
    dp.add_argument("--kernel", required=True, help="kernel spec in image units, or diffusion:METHOD")
    dp.add_argument("--out", required=True, help="output PNG")
    dp.add_argument("--mode", choices=["gray", "rgb"], default="gray")
    dp.add_argument("--viewing", default="print", help=VIEWING_HELP)
    dp.add_argument("--json", action="store_true")
    dp.add_argument("--force", action="store_true")
    dp.set_defaults(func=_cmd_dither)


def add_metrics(sub: Any) -> None:
    """The ``metrics`` command."""
    mp = sub.add_parser("metrics", help="detail metrics of TEST against REF (images)")
    mp.add_argument("ref")
    mp.add_argument("test")
    mp.add_argument("--mode", choices=["gray", "rgb"], default="gray")
    mp.add_argument("--viewing", default="print", help=VIEWING_HELP)
    mp.add_argument("--json", action="store_true")
    mp.set_defaults(func=_cmd_metrics)
