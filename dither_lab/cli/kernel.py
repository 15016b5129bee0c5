"""``dither-lab kernel``: make, convert and show threshold-kernel files."""

from __future__ import annotations

import argparse
from typing import Any

from dither_lab.cli.common import Parser, print_json


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

    print_json(load_kernel(a.file, domain=a.domain).summary())


def add_kernel(sub: Any) -> None:
    """The ``kernel`` command."""
    kp = sub.add_parser("kernel", help="make, convert and show threshold-kernel files")
    ks = kp.add_subparsers(dest="kernel_command", parser_class=Parser, required=True)
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
