"""Where the project's scripts write: by default the package's assets in the checkout they belong to (what the
app and the library ship) and its benchmark results; ``--assets DIR`` sends what they publish elsewhere. They never
write into an installed copy of the package."""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The shipped assets of the checkout (package data of dither_lab); scripts publish here unless told otherwise.
ASSETS = ROOT / "dither_lab" / "assets"
#: The study results the app's Kernel study page shows (shipped with the assets).
STUDY = ASSETS / "study"
#: Benchmark and pilot results (not shipped).
RESULTS = ROOT / "benchmarks" / "results"


def add_assets_option(parser: argparse.ArgumentParser) -> None:
    """``--assets DIR``: the assets folder a script publishes into (default: this checkout's)."""
    parser.add_argument("--assets", type=Path, default=ASSETS,
                        help="assets folder to publish into, with its MANIFEST.json (default: this checkout's "
                             "dither_lab/assets)")


def use_assets(folder: Path) -> None:
    """Publish into ``folder`` (and its ``study/``) for the rest of this run."""
    global ASSETS, STUDY
    ASSETS, STUDY = Path(folder), Path(folder) / "study"
