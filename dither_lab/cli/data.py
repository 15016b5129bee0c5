"""``dither-lab data``: get datasets."""

from __future__ import annotations

import argparse
from typing import Any

from dither_lab.cli.common import Parser


def _cmd_data_download(a: argparse.Namespace) -> None:
    from dither_lab.data import CIFAR10_MD5, CIFAR10_URL, download_cifar10

    out = download_cifar10(a.dest, url=a.url or CIFAR10_URL, md5=a.md5 or CIFAR10_MD5)
    print(f"CIFAR-10 is ready in {out}")


def add_data(sub: Any) -> None:
    """The ``data`` command."""
    dap = sub.add_parser("data", help="get datasets")
    das = dap.add_subparsers(dest="data_command", parser_class=Parser, required=True)
    dd = das.add_parser("download", help="download the official CIFAR-10 archive (MD5-checked, resumable)")
    dd.add_argument("dataset", choices=["cifar10"])
    dd.add_argument("--dest", default=None, help="data folder (default: $DITHER_LAB_DATA or ~/.cache/dither_lab)")
    dd.add_argument("--url", default=None, help="a mirror of the official archive")
    dd.add_argument("--md5", default=None, help="expected MD5 (default: the official archive's)")
    dd.set_defaults(func=_cmd_data_download)
