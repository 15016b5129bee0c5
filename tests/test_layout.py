"""The package's layout holds: no import cycle between its modules (imports inside functions count too), the core
never imports Streamlit, and the commands that run no network import no PyTorch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "dither_lab"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py") if "assets" not in p.parts}


def _imports(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """The dither_lab modules a module imports anywhere in its code (module level or inside functions)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        found |= {t for t in targets if t in modules and t != name}
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, name, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_modules():
    assert _cycles(_graph()) == []


def test_the_graph_sees_imports_inside_functions():
    graph = _graph()
    assert "dither_lab.nn.learned" in graph["dither_lab.cli.network"]  # imported inside a command's handler


def test_kernels_read_no_file_and_the_core_never_imports_streamlit():
    modules, graph = _modules(), _graph()
    io = {m for m in modules if m.startswith("dither_lab.io")}
    for name, path in modules.items():
        text = path.read_text()
        if not name.startswith("dither_lab.ui") and name != "dither_lab.streamlit_app":
            assert "import streamlit" not in text, name
        if name.startswith("dither_lab.kernels"):
            assert not graph[name] & io, name
            assert "open(" not in text and "read_bytes" not in text, name


@pytest.mark.parametrize("argv", [["--help"], ["kernel", "--help"], ["evaluate", "--help"],
                                  ["kernel", "make", "bayer:4", "--out", "{tmp}/k.json"],
                                  ["dither", "{img}", "--kernel", "bayer:4", "--out", "{tmp}/o.png"],
                                  ["metrics", "{img}", "{img}"],
                                  ["design", "--size", "2x2", "--count", "20"]])
def test_commands_that_run_no_network_import_no_pytorch(argv, tmp_path):
    import numpy as np
    from PIL import Image

    img = tmp_path / "in.png"
    Image.fromarray((np.arange(64 * 64).reshape(64, 64) % 256).astype(np.uint8)).save(img)
    args = [a.format(tmp=tmp_path, img=img) for a in argv]
    code = ("import sys, runpy; sys.argv = ['dither-lab', *sys.argv[1:]]\n"
            "try:\n    runpy.run_module('dither_lab', run_name='__main__')\n"
            "except SystemExit as e:\n    code = e.code\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\nsys.exit(code)")
    res = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
