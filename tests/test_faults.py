"""Faults: a training run killed with SIGKILL resumes to the same result; damaged or missing assets are reported
with how to restore them, and nothing good is overwritten."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from dither_lab.nn.models import load_model

ROOT = Path(__file__).resolve().parents[1]


def _train_cmd(out: Path, export: Path, data: Path) -> list[str]:
    return [sys.executable, "-m", "dither_lab", "train", "--dataset", "fashion-mnist", "--arch", "fmnist-net",
            "--width", "0.125", "--activation", "design", "--epochs", "3", "--batch-size", "25", "--limit", "600",
            "--threads", "1", "--data", str(data), "--out", str(out), "--export", str(export), "--json"]


def test_sigkill_mid_training_resumes_to_the_same_result(tmp_path, fashion_idx_dir):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ref = subprocess.run(_train_cmd(tmp_path / "ref", tmp_path / "ref.safetensors", fashion_idx_dir), env=env, capture_output=True,
                         text=True, timeout=600)
    assert ref.returncode == 0, ref.stderr[-2000:]

    run = tmp_path / "killed"
    proc = subprocess.Popen(_train_cmd(run, tmp_path / "k.safetensors", fashion_idx_dir), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (run / "checkpoint.pt").exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)  # at once: the first epoch is saved, the later ones are still to come
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "k.safetensors").exists()
    state = torch.load(run / "checkpoint.pt", weights_only=True)  # whole and readable after the kill
    assert 1 <= state["epoch"] <= 3
    resumed = subprocess.run(_train_cmd(run, tmp_path / "k.safetensors", fashion_idx_dir) + ["--resume"], env=env, capture_output=True,
                             text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    a = json.loads((tmp_path / "ref" / "card.json").read_text())
    b = json.loads((run / "card.json").read_text())
    assert [h["train_loss"] for h in a["history"]] == [h["train_loss"] for h in b["history"]]
    ma, _ = load_model(tmp_path / "ref.safetensors")
    mb, _ = load_model(tmp_path / "k.safetensors")
    for (ka, va), (_, vb) in zip(ma.state_dict().items(), mb.state_dict().items(), strict=True):
        assert torch.equal(va, vb), ka


def test_leftover_temporary_file_never_replaces_a_good_one(tmp_path):
    from dither_lab.io import atomic_write

    good = tmp_path / "card.json"
    good.write_text('{"ok": true}')

    def crash(fh):
        fh.write(b'{"half')
        raise KeyboardInterrupt  # a crash in the middle of writing

    with pytest.raises(KeyboardInterrupt):
        atomic_write(good, crash, force=True)
    assert good.read_text() == '{"ok": true}'
    assert [p.name for p in tmp_path.iterdir()] == ["card.json"]


@pytest.fixture
def damaged_assets(tmp_path, monkeypatch):
    import dither_lab.io.assets as dio

    copy = tmp_path / "assets"
    shutil.copytree(dio.ASSETS_DIR, copy)
    monkeypatch.setattr(dio, "ASSETS_DIR", copy)
    return copy


def test_damaged_model_file_is_reported_with_how_to_restore(damaged_assets):
    from dither_lab.nn.models import PRETRAINED, load_pretrained

    rel = PRETRAINED["fashion-mnist-design"][0]
    path = damaged_assets / rel
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ValueError, match="damaged.*git checkout -- dither_lab/assets"):
        load_pretrained("fashion-mnist-design")
    path.unlink()
    with pytest.raises(ValueError, match="missing.*restore"):
        load_pretrained("fashion-mnist-design")


def test_app_starts_and_says_what_is_missing(damaged_assets):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dither_lab.data import SUBSET_ASSET
    from dither_lab.nn.models import PRETRAINED

    for rel, _ in PRETRAINED.values():
        if (damaged_assets / rel).exists():
            (damaged_assets / rel).write_bytes(b"garbage")
    (damaged_assets / SUBSET_ASSET).unlink()
    st.cache_resource.clear()
    st.cache_data.clear()
    app = str(ROOT / "app.py")
    at = AppTest.from_file(app, default_timeout=120)
    at.run()
    assert not at.exception and len(at.dataframe) == 2  # the image lab (two metric tables) needs no asset and works
    for page, expected in [("app_pages/feature_maps.py", "damaged"), ("app_pages/accuracy.py", "damaged"),
                           ("app_pages/learn.py", None)]:
        at = AppTest.from_file(app, default_timeout=120)
        at.run()
        at.switch_page(page)
        at.run()
        assert not at.exception, page
        if expected is None:  # Learn teaches without the models: it says what it cannot show
            assert any("cannot be shown here" in c.value and "damaged" in c.value for c in at.main.caption), page
            continue
        assert any(expected in e.value and "git checkout -- dither_lab/assets" in e.value for e in at.error), page
    st.cache_resource.clear()
    st.cache_data.clear()


def test_accuracy_page_without_the_held_out_subset(damaged_assets):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dither_lab.data import SUBSET_ASSET

    (damaged_assets / SUBSET_ASSET).unlink()  # the models are fine; the held-out images are gone
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.run()
        at.switch_page("app_pages/accuracy.py")
        at.run()
        assert not at.exception
        assert any("missing" in e.value and "restore" in e.value for e in at.error), [e.value for e in at.error]
        assert not at.warning or "CIFAR-10" not in at.warning[0].value
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()


def test_security_settings_and_no_html_rendering():
    cfg = (ROOT / ".streamlit" / "config.toml").read_text()
    assert 'address = "localhost"' in cfg and "enableXsrfProtection = true" in cfg
    for f in [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py")), *sorted((ROOT / "dither_lab" / "ui").glob("*.py"))]:
        text = f.read_text()
        assert "unsafe_allow_html" not in text and "st.html" not in text, f
        assert "allow_pickle=True" not in text, f


def test_url_cannot_make_the_app_open_a_path():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["kernel"] = "file:/etc/passwd"
    at.run()
    assert not at.exception
    assert any("not accepted here" in w.value for w in at.warning)
    assert at.session_state["dl_kernel"] != "file:/etc/passwd"
