"""Core speed figures (dithered Sign, folded compare, dithering, error diffusion, blue noise), each measured in one run.

Run: ``python benchmarks/bench_core.py`` (or ``make bench``). Writes benchmarks/results/core.json with the
commit, versions and machine, and prints one line per figure with its target.
"""

from __future__ import annotations

import sys
from pathlib import Path

from dither_lab.bench import run, write_results

TARGETS = {
    "dithered_sign_vs_sign": ("<=", 1.15),
    "dithered_sign_vs_copy": ("<=", 2.0),
    "dithered_sign_backward_vs_copy": ("<=", 2.0),
    "folded_vs_sign": ("<=", 1.05),
    "ordered_dither_vs_compare": ("<=", 3.0),
    "error_diffusion_512_s": ("<", 0.5),
    "void_and_cluster_64_s": ("<", 0.2),
    "void_and_cluster_128_s": ("<", 2.0),
    "void_and_cluster_64_low_high_ratio": ("<", 0.05),
    "void_and_cluster_128_low_high_ratio": ("<", 0.05),
}


def main() -> int:
    res = run(quick="--quick" in sys.argv)
    ok = True
    for key, value in res.items():
        if not isinstance(value, float):
            continue
        line = f"{key:<40} {value:10.4f}"
        if key in TARGETS:
            op, target = TARGETS[key]
            met = value <= target if op == "<=" else value < target
            ok &= met
            line += f"   target {op} {target}  {'met' if met else 'MISSED'}"
        print(line)
    out = write_results(Path(__file__).parent / "results" / "core.json", res)
    print(f"wrote {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
