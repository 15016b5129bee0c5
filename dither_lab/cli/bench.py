"""``dither-lab bench``: the core's speed figures."""

from __future__ import annotations

import argparse
from typing import Any

from dither_lab.cli.common import print_json


def _cmd_bench(a: argparse.Namespace) -> None:
    from dither_lab.bench import run

    res = run(quick=a.quick)
    if a.json:
        print_json(res)
    else:
        for k, v in res.items():
            if k != "machine":
                print(f"{k:<40} {v if not isinstance(v, float) else f'{v:.4g}'}")


def add_bench(sub: Any) -> None:
    """The ``bench`` command."""
    bp = sub.add_parser("bench", help="measure the core's speed figures")
    bp.add_argument("--json", action="store_true")
    bp.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    bp.set_defaults(func=_cmd_bench)
