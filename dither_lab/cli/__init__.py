"""Command-line interface: ``dither-lab`` or ``python -m dither_lab``.

Each command group is a module (:mod:`.kernel`, :mod:`.image`, :mod:`.data`, :mod:`.network`, :mod:`.train`,
:mod:`.design`, :mod:`.bench`, :mod:`.app`) that adds its parsers; handlers import what they need when they run,
so ``dither-lab --help`` and the commands that run no network do not import PyTorch. Errors print one line on
stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys

from dither_lab.cli import app, bench, data, design, image, kernel, network, train
from dither_lab.cli.common import CliError, Parser

#: The commands in the order ``dither-lab --help`` lists them.
COMMANDS = (kernel.add_kernel, image.add_dither, image.add_metrics, data.add_data, network.add_evaluate,
            network.add_maps, network.add_cost, network.add_export, train.add_train, design.add_design, network.add_learn_kernel,
            bench.add_bench, app.add_app)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    p = Parser(prog="dither-lab", description="See, design and measure dithered binary activations.")
    sub = p.add_subparsers(dest="command", parser_class=Parser, required=True, metavar="COMMAND",
                           title="commands (dither-lab COMMAND --help for each)")
    for add in COMMANDS:
        add(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 user error)."""
    parser = build_parser()
    if not (sys.argv[1:] if argv is None else argv):  # bare `dither-lab`: what it can do, not an error
        parser.print_help()
        return 0
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
