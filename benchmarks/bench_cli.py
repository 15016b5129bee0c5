"""How long the command line takes to answer without running a network, against importing PyTorch.

Each figure is the median wall time of a fresh Python process, the commands and ``import torch`` timed alternately
in one run, so the ratios share the machine's state. ``dither-lab --help`` and the commands that run no network
(kernel, dither, metrics, design) import no PyTorch; the target is help in at most a quarter of ``import torch``.

    python benchmarks/bench_cli.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from dither_lab.bench import write_results

ROOT = Path(__file__).resolve().parents[1]
TARGET = 0.25


def _wall(args: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - t0


def main(repeats: int = 9) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        img = Path(tmp) / "in.png"
        Image.fromarray((np.arange(128 * 128).reshape(128, 128) % 256).astype(np.uint8)).save(img)
        cases = {
            "import torch": ["-c", "import torch"],
            "dither-lab --help": ["-m", "dither_lab", "--help"],
            "dither-lab kernel make bayer:4": ["-m", "dither_lab", "kernel", "make", "bayer:4", "--out",
                                               str(Path(tmp) / "k.json"), "--force"],
            "dither-lab dither (128x128, bayer:4)": ["-m", "dither_lab", "dither", str(img), "--kernel", "bayer:4",
                                                     "--out", str(Path(tmp) / "o.png"), "--force"],
        }
        times: dict[str, list[float]] = {k: [] for k in cases}
        for args in cases.values():  # warm the file cache once
            _wall(args)
        for _ in range(repeats):
            for name, args in cases.items():
                times[name].append(_wall(args))
    med = {k: statistics.median(v) for k, v in times.items()}
    torch_s = med["import torch"]
    res = {"repeats": repeats, "python": sys.version.split()[0], "target_help_ratio": TARGET, "seconds": med,
           "ratio_to_import_torch": {k: v / torch_s for k, v in med.items() if k != "import torch"}}
    print(f"import torch: {torch_s:.3f} s (median of {repeats})")
    for name, r in res["ratio_to_import_torch"].items():
        print(f"{name:<40} {med[name]:.3f} s  {r:.2f}x import torch")
    ok = res["ratio_to_import_torch"]["dither-lab --help"] <= TARGET
    print(f"help within {TARGET:.2f}x of import torch: {'yes' if ok else 'NO'}")
    write_results(Path(__file__).parent / "results" / "cli.json", res)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
