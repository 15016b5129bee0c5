"""Sessions and shared caches: cached models never mutated by a session; memory bounded over a long session.

(Eight concurrent sessions are driven in real browser contexts: tests/browser/test_browser_load.py.)
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")
KERNEL_NAMES = ["Bayer 4x4", "Blue noise 64", "Cluster-dot 4x4", "DeSign 2x2 (paper)", "DeSign 3x3 (paper)", "Sign"]


def _image(i: int, size: int = 48) -> np.ndarray:
    rng = np.random.default_rng(i)
    return rng.integers(0, 256, (size, size + i), dtype=np.uint8)


def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def test_cached_models_are_never_mutated_by_sessions():
    from dither_lab.nn.models import available_pretrained, binary_layers
    from dither_lab.ui import cached

    name = available_pretrained()[0]
    ats = []
    for spec in ("preset:design-2x2-a", "bayer:4"):
        at = AppTest.from_file(APP, default_timeout=180)
        at.query_params["kernel"] = spec
        at.query_params["model"] = name
        at.run()
        at.switch_page("app_pages/accuracy.py")
        at.run()
        at.select_slider(key="acc_count").set_value(200).run()
        assert not at.exception
        ats.append(at)
    model, meta = cached.model(name)
    trained = meta["config"]["activation"]
    for layer in binary_layers(model).values():
        expected = (1, 1) if trained == "sign" else (2, 2)
        assert layer.kernel.shape == expected


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20


def test_memory_stays_bounded_over_200_reruns():
    """200 reruns, each with a new uploaded image and a kernel change: once the caches have filled to their
    bounds (64 entries at most), resident memory stops growing."""
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()

    def rerun(i: int) -> None:
        img = np.random.default_rng(1000 + i).integers(0, 256, (96, 96), dtype=np.uint8)
        at.file_uploader(key="lab_upload").upload(f"r{i}.png", _png(img), "image/png")
        at.multiselect(key="lab_kernels").set_value([KERNEL_NAMES[i % 6]]).run()

    for i in range(70):  # warm-up past the largest cache bound
        rerun(i)
    start = _rss_mb()
    for i in range(70, 200):
        rerun(i)
    assert not at.exception
    growth = _rss_mb() - start
    print(f"resident memory after warm-up {start:.0f} MB, growth over the next 130 reruns {growth:.1f} MB")
    assert growth < 100


def test_server_watches_no_source_files():
    # A source watcher over the project folder (.venv included) took about 3,800 inotify watches once a session
    # opened; on hosts with a low limit Streamlit then stops with "inotify watch limit reached".
    import tomllib

    config = tomllib.loads((Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none"
