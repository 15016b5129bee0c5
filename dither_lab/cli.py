"""Command-line interface: ``python -m dither_lab`` or ``dither-lab``.

Errors print one line on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np


class CliError(Exception):
    """A user mistake reported as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        raise CliError(f"{self.prog}: {message}")


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _print_json(obj: Any) -> None:
    print(json.dumps(_jsonable(obj), indent=2))


def _print_table(rows: dict[str, dict[str, Any]]) -> None:
    keys = ["psnr", "ssim", "csf_psnr", "tv_ratio", "density", "tone_error"]
    print(f"{'output':<28}" + "".join(f"{k:>11}" for k in keys))
    for name, m in rows.items():
        print(f"{name[:27]:<28}" + "".join(f"{m[k]:>11.4f}" for k in keys))


# ------------------------------------------------------------------------------------------------- commands


def _cmd_kernel_make(a: argparse.Namespace) -> None:
    from dither_lab.io import save_kernel
    from dither_lab.kernels import make_kernel

    k = make_kernel(a.spec, domain=a.domain)
    path = save_kernel(k, a.out, force=a.force)
    print(f"wrote {path} ({k.name}, shape {list(k.shape)}, {a.domain} units)")


def _cmd_kernel_convert(a: argparse.Namespace) -> None:
    from dither_lab.io import load_kernel, save_kernel

    path = save_kernel(load_kernel(a.input, domain=a.domain), a.out, force=a.force)
    print(f"wrote {path}")


def _cmd_kernel_show(a: argparse.Namespace) -> None:
    from dither_lab.io import load_kernel

    _print_json(load_kernel(a.file, domain=a.domain).summary())


def _cmd_dither(a: argparse.Namespace) -> None:
    from dither_lab.dither import error_diffusion, ordered_dither
    from dither_lab.io import load_image, save_image
    from dither_lab.kernels import make_kernel
    from dither_lab.metrics import detail_metrics

    if Path(a.out).exists() and not a.force:
        raise CliError(f"{a.out} already exists; pass --force to overwrite it")
    img = load_image(a.image, mode=a.mode)
    if a.kernel.startswith("diffusion:"):
        out = error_diffusion(img, method=a.kernel.partition(":")[2], serpentine=True)
        label = a.kernel
    else:
        k = make_kernel(a.kernel, domain="unit")
        out = ordered_dither(img, k)
        label = k.spec
    sign = ordered_dither(img, make_kernel("sign", domain="unit"))
    save_image(out, a.out, force=a.force)
    rows = {"sign": detail_metrics(img, sign), label: detail_metrics(img, out)}
    if a.json:
        _print_json({"image": str(a.image), "out": str(a.out), "shape": list(img.shape), "metrics": rows})
    else:
        print(f"wrote {a.out}")
        _print_table(rows)


def _cmd_metrics(a: argparse.Namespace) -> None:
    from dither_lab.io import load_image
    from dither_lab.metrics import detail_metrics

    ref = load_image(a.ref, mode=a.mode)
    test = load_image(a.test, mode=a.mode)
    if ref.shape != test.shape:
        raise CliError(f"{a.ref} and {a.test} differ in size: {list(ref.shape)} and {list(test.shape)}")
    m = detail_metrics(ref, test)
    if a.json:
        _print_json(m)
    else:
        _print_table({Path(a.test).name: m})


def _cmd_bench(a: argparse.Namespace) -> None:
    from dither_lab.bench import run

    res = run(quick=a.quick)
    if a.json:
        _print_json(res)
    else:
        for k, v in res.items():
            if k != "machine":
                print(f"{k:<40} {v if not isinstance(v, float) else f'{v:.4g}'}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    p = _Parser(prog="dither-lab", description="See, design and measure dithered binary activations.")
    sub = p.add_subparsers(dest="command", parser_class=_Parser, required=True)

    kp = sub.add_parser("kernel", help="make, convert and show threshold-kernel files")
    ks = kp.add_subparsers(dest="kernel_command", parser_class=_Parser, required=True)
    km = ks.add_parser("make", help="write a kernel from a spec (e.g. bayer:4, preset:design-2x2-a)")
    km.add_argument("spec")
    km.add_argument("--out", required=True, help="output file: .json, .npy or .mat")
    km.add_argument("--domain", choices=["bn", "unit"], default="bn", help="batch-norm (default) or image units")
    km.add_argument("--force", action="store_true", help="overwrite an existing file")
    km.set_defaults(func=_cmd_kernel_make)
    kc = ks.add_parser("convert", help="convert a kernel file between JSON, .npy and .mat")
    kc.add_argument("input")
    kc.add_argument("--out", required=True)
    kc.add_argument("--domain", choices=["bn", "unit"], default="bn")
    kc.add_argument("--force", action="store_true")
    kc.set_defaults(func=_cmd_kernel_convert)
    kv = ks.add_parser("show", help="print a JSON summary of a kernel file")
    kv.add_argument("file")
    kv.add_argument("--domain", choices=["bn", "unit"], default="bn")
    kv.set_defaults(func=_cmd_kernel_show)

    dp = sub.add_parser("dither", help="dither an image with a kernel and print metrics against Sign")
    dp.add_argument("image")
    dp.add_argument("--kernel", required=True, help="kernel spec in image units, or diffusion:METHOD")
    dp.add_argument("--out", required=True, help="output PNG")
    dp.add_argument("--mode", choices=["gray", "rgb"], default="gray")
    dp.add_argument("--json", action="store_true")
    dp.add_argument("--force", action="store_true")
    dp.set_defaults(func=_cmd_dither)

    mp = sub.add_parser("metrics", help="detail metrics of TEST against REF (images)")
    mp.add_argument("ref")
    mp.add_argument("test")
    mp.add_argument("--mode", choices=["gray", "rgb"], default="gray")
    mp.add_argument("--json", action="store_true")
    mp.set_defaults(func=_cmd_metrics)

    bp = sub.add_parser("bench", help="measure the core's speed figures")
    bp.add_argument("--json", action="store_true")
    bp.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    bp.set_defaults(func=_cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 user error)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        args.func(args)
    except CliError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except (ValueError, TypeError, OSError) as exc:
        print(f"dither-lab: error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", file=sys.stderr)
        return 2
    return 0


def main_exit() -> None:
    """Console-script entry point (``dither-lab``)."""
    sys.exit(main())
