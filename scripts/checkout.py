"""Where the project's scripts write in a checkout: the package's assets (what the app and the library ship) and
the benchmark results. Scripts write here, in the checkout they belong to, never into an installed copy."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The shipped assets of the checkout (package data of dither_lab).
ASSETS = ROOT / "dither_lab" / "assets"
#: The study results the app's Kernel study page shows (shipped with the assets).
STUDY = ASSETS / "study"
#: Benchmark and pilot results (not shipped).
RESULTS = ROOT / "benchmarks" / "results"
