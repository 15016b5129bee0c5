"""dither_lab installs as a real wheel and works from any folder: the library, its shipped models and masks, the
command line and the app, with nothing of the checkout in reach."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tracked(root: Path) -> list[str]:
    try:
        out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=root, capture_output=True,
                             text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("needs a git checkout to know the project's files")
    return [f for f in out.splitlines() if (root / f).is_file()]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The project's files copied aside, built into a wheel, and the wheel installed into a folder of its own."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    for f in _tracked(ROOT):
        (src / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, src / f)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(src), "-w",
                    str(base / "dist")], check=True, capture_output=True, timeout=600)
    wheel = next((base / "dist").glob("dither_lab-*.whl"))
    target = base / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=600)
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    return {"target": target, "cwd": elsewhere, "env": env, "wheel": wheel}


def _run(inst, *args, timeout=300):
    return subprocess.run([sys.executable, *args], cwd=inst["cwd"], env=inst["env"], capture_output=True, text=True,
                          timeout=timeout)


def test_the_wheel_carries_the_package_its_assets_and_the_app(installed):
    import zipfile

    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    manifest = json.loads((ROOT / "dither_lab" / "assets" / "MANIFEST.json").read_text())
    for rel in manifest["files"]:
        assert f"dither_lab/assets/{rel}" in names, rel
    assert {"dither_lab/streamlit_app.py", "dither_lab/app_pages/image_lab.py", "dither_lab/assets/MANIFEST.json"} <= names
    assert not any(n.startswith(("tests/", "scripts/", "benchmarks/", "app_pages/")) for n in names)


def test_import_and_shipped_assets_from_another_folder(installed):
    code = ("import dither_lab, json\n"
            "from dither_lab.nn.models import load_pretrained\n"
            "from dither_lab import make_kernel\n"
            "m, meta = load_pretrained('fashion-mnist-design')\n"
            "k = make_kernel('blue-noise:256')\n"  # read from the shipped mask (computing it takes seconds)
            "print(json.dumps({'file': dither_lab.__file__, 'dataset': meta['dataset'], 'shape': list(k.shape)}))")
    res = _run(installed, "-c", code)
    assert res.returncode == 0, res.stderr[-2000:]
    out = json.loads(res.stdout)
    assert out["file"].startswith(str(installed["target"])), out
    assert out["dataset"] == "fashion-mnist" and out["shape"] == [256, 256]


def test_the_command_evaluates_a_shipped_model_from_another_folder(installed):
    res = subprocess.run([str(installed["target"] / "bin" / "dither-lab"), "evaluate", "--model",
                          "fashion-mnist-design", "--count", "200", "--json"], cwd=installed["cwd"],
                         env=installed["env"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    installed_acc = json.loads(res.stdout)["accuracy"]
    from dither_lab.data import embedded_subset
    from dither_lab.nn.evaluate import evaluate
    from dither_lab.nn.models import load_pretrained

    here = evaluate(load_pretrained("fashion-mnist-design")[0], embedded_subset(), count=200)["accuracy"]
    assert installed_acc == here  # the same model and images, installed or in the checkout


def test_the_app_runs_from_the_installed_package(installed):
    code = ("from streamlit.testing.v1 import AppTest\n"
            "import dither_lab.ui.router as r\n"
            "script = r.main_script()\n"
            "assert str(script).startswith({!r}), script\n"
            "at = AppTest.from_file(str(script), default_timeout=120).run()\n"
            "assert not at.exception, [e.value for e in at.exception]\n"
            "at.switch_page('app_pages/accuracy.py').run()\n"
            "assert not at.exception, [e.value for e in at.exception]\n"
            "print(at.title[0].value)").format(str(installed["target"]))
    res = _run(installed, "-c", code, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip().splitlines()[-1] == "Accuracy"


def test_dither_lab_app_serves_from_another_folder(installed):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(installed["target"] / "bin" / "dither-lab"), "app", "--port", str(port),
                             "--address", "127.0.0.1", "--headless"], cwd=installed["cwd"], env=installed["env"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("dither-lab app did not answer within 90 s")
    finally:
        proc.terminate()
        proc.wait(10)
    with pytest.raises(OSError):  # stopping the command stops the server: no server is left behind
        urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
