"""The packed engine where users meet it: evaluate(engine=...), dither-lab evaluate --engine, cost, export."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dither_lab.cli import main
from dither_lab.data import embedded_subset
from dither_lab.nn.evaluate import evaluate
from dither_lab.nn.models import load_pretrained

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("kernel, layers", [(None, None), ("preset:design-3x3-a", None), ("bayer:4", [0, 2])])
def test_evaluate_gives_the_same_predictions_on_both_engines(kernel, layers):
    model, _ = load_pretrained("fashion-mnist-design")
    data = embedded_subset()
    f = evaluate(model, data, kernel=kernel, layers=layers, count=600, per_image=True)
    p = evaluate(model, data, kernel=kernel, layers=layers, count=600, per_image=True, engine="packed")
    assert (f["engine"], p["engine"]) == ("float", "packed")
    np.testing.assert_array_equal(f["predictions"], p["predictions"])
    assert f["confusion"] == p["confusion"] and f["layers"] == p["layers"]
    with pytest.raises(ValueError, match="engine must be one of"):
        evaluate(model, data, count=10, engine="gpu")


def test_cli_evaluate_engine_says_which_ran(capsys):
    outs = {}
    for engine in ("float", "packed"):
        assert main(["evaluate", "--model", "fashion-mnist-sign", "--kernel", "bayer:2", "--count", "300",
                     "--engine", engine, "--json"]) == 0
        outs[engine] = json.loads(capsys.readouterr().out)
    assert outs["float"]["engine"] == "float" and outs["packed"]["engine"] == "packed"
    assert outs["float"]["accuracy"] == outs["packed"]["accuracy"] and outs["float"]["count"] == 300


def test_cli_cost_counts_the_packed_program_and_times_both_engines(capsys):
    assert main(["cost", "--model", "fashion-mnist-design", "--kernel", "trained", "bayer:8", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["kernels"]
    trained, bayer = rows
    # the packed weights do not change with the kernel; the thresholds do (Bayer 8x8: 64 cells per channel)
    assert trained["packed_bytes"]["packed_weights"] == bayer["packed_bytes"]["packed_weights"]
    assert bayer["packed_bytes"]["threshold_tables"] > 10 * trained["packed_bytes"]["threshold_tables"] / 4
    assert main(["cost", "--model", "fashion-mnist-design", "--time"]) == 0
    out = capsys.readouterr().out
    assert "float / packed" in out and "packed 1-bit program" in out


def test_export_writes_a_program_that_runs_where_importing_torch_fails(tmp_path, capsys):
    out = tmp_path / "fashion-bayer.safetensors"
    assert main(["export", "--model", "fashion-mnist-design", "--kernel", "bayer:4", "--out", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["bytes"]["total"] > 0 and info["kernel"] == "bayer:4" and Path(info["out"]) == out
    assert main(["export", "--model", "fashion-mnist-design", "--out", str(out)]) == 2  # never over a file
    assert "already exists" in capsys.readouterr().err
    model, _ = load_pretrained("fashion-mnist-design")
    expected = evaluate(model, embedded_subset(), kernel="bayer:4", count=200, per_image=True)["predictions"]
    code = (
        "import sys\n"
        "class NoTorch:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'torch' or name.startswith('torch.'):\n"
        "            raise ImportError('torch is not installed here')\n"
        "sys.meta_path.insert(0, NoTorch())\n"
        "import numpy as np\n"
        "from dither_lab.engine import load_program\n"
        "from dither_lab.data import embedded_subset\n"
        f"p = load_program({str(out)!r})\n"
        "x = p.standardize(embedded_subset().images[:200])\n"
        "print(' '.join(map(str, p.predict(x).argmax(1))))\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    np.testing.assert_array_equal(np.array(res.stdout.split(), dtype=np.int64), expected)
