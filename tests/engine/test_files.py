"""Program files: round trip, clear errors for bad or foreign files, and running with NumPy and numba alone."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from dither_lab.engine import compile_model, load_program, save_program
from dither_lab.nn.models import build_model, save_model

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    m = build_model("resnet-20", in_channels=3, image_size=32, width=0.25, activation="design", unit="bn-prelu")
    m.train()
    with torch.no_grad():
        m(torch.randn(8, 3, 32, 32))
    return m.eval()


@pytest.fixture(scope="module")
def program(model):
    return compile_model(model, kernel="preset:design3d-2x2x4")


def _x(n=5):
    return np.random.default_rng(0).standard_normal((n, 3, 32, 32)).astype(np.float32)


def test_round_trip(tmp_path, program):
    path = save_program(program, tmp_path / "p.safetensors")
    loaded = load_program(path, threads=2)
    assert loaded.threads == 2 and loaded.layers == program.layers and loaded.nbytes() == program.nbytes()
    assert loaded.predict(_x()).tobytes() == program.predict(_x()).tobytes()
    a, b = loaded.binary_activations(_x(2)), program.binary_activations(_x(2))
    assert all(np.array_equal(a[n], b[n]) for n in b)
    with pytest.raises(FileExistsError):
        save_program(program, path)
    save_program(program, path, force=True)
    with pytest.raises(TypeError, match="PackedProgram"):
        save_program("program", tmp_path / "q")


def test_a_program_owns_its_arrays_and_graph(program):
    from dither_lab.engine import PackedProgram

    arrays = {k: v.copy() for k, v in program.arrays.items()}
    graph = json.loads(json.dumps(program.graph))
    p = PackedProgram(graph, arrays)
    assert all(a.flags.writeable for a in arrays.values())  # the caller's arrays are left as they were
    graph["ops"].clear()
    assert p.predict(_x(2)).tobytes() == program.predict(_x(2)).tobytes()
    with pytest.raises(ValueError, match="not plain JSON"):
        PackedProgram({**program.graph, "meta": {"x": object()}}, arrays)


def _rewrite(src: Path, dst: Path, edit) -> Path:
    """Copy a program file with its graph changed by ``edit(graph)``."""
    from safetensors.numpy import load, save

    data = src.read_bytes()
    n = int.from_bytes(data[:8], "little")
    graph = json.loads(json.loads(data[8 : 8 + n])["__metadata__"]["dither_lab.packed"])
    arrays = load(data)
    edit(graph, arrays)
    dst.write_bytes(save(arrays, metadata={"dither_lab.packed": json.dumps(graph)}))
    return dst


def _set(key, value):
    def edit(graph, arrays):
        graph[key] = value

    return edit


def _op_field(kind, key, value):
    def edit(graph, arrays):
        next(op for op in graph["ops"] if op["op"] == kind)[key] = value

    return edit


def _array_shape(kind, field):
    def edit(graph, arrays):
        name = next(op for op in graph["ops"] if op["op"] == kind)[field]
        arrays[name] = np.ascontiguousarray(arrays[name][..., :-1])

    return edit


def test_bad_and_foreign_files(tmp_path, program, model):
    good = save_program(program, tmp_path / "good.safetensors")
    with pytest.raises(ValueError, match="does not exist"):
        load_program(tmp_path / "missing.safetensors")
    cases = {
        "empty": (b"", "too short"),
        "text": (b"hello, this is not a program at all", "not a safetensors file"),
        "truncated": (good.read_bytes()[:-100], "could not be read"),
        "header garbage": (len(b"{nope").to_bytes(8, "little") + b"{nope", "could not be read"),
    }
    for name, (data, match) in cases.items():
        p = tmp_path / f"{name.replace(' ', '_')}.bin"
        p.write_bytes(data)
        with pytest.raises(ValueError, match=match):
            load_program(p)
    # a model file from save_model: safetensors too, but no graph
    model_file = save_model(model, tmp_path / "model.safetensors")
    with pytest.raises(ValueError, match="holds no packed-program graph"):
        load_program(model_file)
    edits = {
        "format": (_set("format", "something.else"), "format is 'something.else'"),
        "version": (_set("version", 99), "version 99 is not supported"),
        "ops": (_set("ops", "none"), "no ops"),
        "op kind": (_op_field("threshold", "op", "explode"), "is not one of"),
        "stride": (_op_field("binary_conv", "stride", -1), "stride"),
        "kernel": (_op_field("binary_conv", "kernel", [3, "x"]), "kernel must be"),
        "missing array": (_op_field("conv", "weight", "nope"), "names array 'nope'"),
        "input": (_op_field("conv", "in", "later"), "reads 'later'"),
        "theta shape": (_array_shape("threshold", "theta"), "must be"),
        "weights shape": (_array_shape("binary_conv", "weights"), "weights"),
        "order": (_op_field("conv", "order", "xyz"), "order"),
        "output": (_set("output", "v1"), "output"),
        "graph type": (lambda g, a: g.clear(), "format is None"),
    }
    for name, (edit, match) in edits.items():
        p = _rewrite(good, tmp_path / f"{name.replace(' ', '_')}.safetensors", edit)
        with pytest.raises(ValueError, match=match):
            load_program(p)


def test_runs_with_numpy_and_numba_alone(tmp_path, program):
    """A subprocess where importing torch fails loads the file and predicts the same logits."""
    path = save_program(program, tmp_path / "p.safetensors")
    x = _x(3)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "expected.npy", program.predict(x))
    script = textwrap.dedent(f"""
        import sys
        class NoTorch:
            def find_spec(self, name, path=None, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ImportError("torch is blocked in this test")
        sys.meta_path.insert(0, NoTorch())
        import numpy as np
        import dither_lab
        from dither_lab.engine import load_program
        p = load_program({str(path)!r}, threads=2)
        got = p.predict(np.load({str(tmp_path / 'x.npy')!r}))
        assert got.tobytes() == np.load({str(tmp_path / 'expected.npy')!r}).tobytes(), "logits differ"
        acts = p.binary_activations(np.load({str(tmp_path / 'x.npy')!r}))
        assert len(acts) == len(p.layers)
        assert "torch" not in sys.modules
        try:
            dither_lab.engine.compile_model(None)
        except ImportError as exc:
            print("compile needs torch:", exc)
        print("ok")
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().endswith("ok") and "compile needs torch" in r.stdout


def test_import_does_not_load_torch():
    r = subprocess.run([sys.executable, "-c", "import sys, dither_lab.engine; print('torch' in sys.modules)"],
                       capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
                       timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "False"
