"""The app's cached wrappers under the concurrency a Streamlit server gives them."""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from dither_lab.data import embedded_subset
from dither_lab.nn.feature_maps import layer_maps
from dither_lab.nn.models import binary_layers
from dither_lab.ui import cached


def test_layer_maps_of_overlapping_runs_stay_whole_and_their_own():
    # With runner.fastReruns (Streamlit's default) a rerun starts a new script thread while the interrupted one
    # still runs, and every session shares the cached model. Recording a layer's maps switched recording on and
    # off on that shared model, so two runs at once took each other's maps or none: a result cached without the
    # selected layer left Feature maps' "Binary layer" with no option and the page died with KeyError: None.
    name = "fashion-mnist-sign"
    model, meta = cached.model(name)
    images = embedded_subset().images[:24]
    private = copy.deepcopy(model)
    want = [layer_maps(private, images[i : i + 1], meta["dataset"]) for i in range(len(images))]
    layers = list(binary_layers(model))
    cached.maps.clear()
    try:
        with ThreadPoolExecutor(8) as pool:
            got = list(pool.map(lambda i: cached.maps(name, np.asarray(images[i : i + 1]), None), range(len(images))))
    finally:
        cached.maps.clear()
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert list(g) == layers, f"image {i}: layers {list(g)}"
        for layer in layers:
            np.testing.assert_array_equal(g[layer]["bn"], w[layer]["bn"], err_msg=f"image {i}, {layer}")
    assert not any(m.record or m.taps for m in binary_layers(model).values())  # the shared model is untouched


def test_runs_and_copies_of_the_shared_model_overlap_without_error():
    # Running a model fills its folded-threshold caches (and eval() empties them), and copying a model while
    # another thread runs it failed with "dictionary changed size during iteration": the accuracy with the trained
    # kernels ran the shared model itself while other runs copied it to swap a kernel in or record maps.
    name = "fashion-mnist-sign"
    images = embedded_subset().images[:40]
    cached.accuracy.clear()
    cached.maps.clear()

    def job(i: int) -> None:
        if i % 2:
            cached.accuracy(name, None, None, 10 + i)
        else:
            cached.maps(name, np.asarray(images[i : i + 1]), None)

    try:
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(job, range(len(images))))
    finally:
        cached.accuracy.clear()
        cached.maps.clear()


def test_sessions_evaluating_on_the_packed_engine_at_once_stay_correct():
    # Several sessions measure accuracy at once on the packed engine, each through the one shared compiled program
    # of its (model, kernel, layers): every result must equal the float model's, image by image.
    from dither_lab.nn.evaluate import evaluate
    from dither_lab.nn.models import load_pretrained

    jobs = [("fashion-mnist-design", k, c) for k in (None, "bayer:4", "preset:design-3x3-a") for c in (150, 300)]
    want = {}
    for name, kernel, count in jobs:
        model, _ = load_pretrained(name)
        want[(kernel, count)] = evaluate(model, embedded_subset(), kernel=kernel, count=count, per_image=True)
    cached.accuracy.clear()
    cached.program.clear()
    try:
        with ThreadPoolExecutor(6) as pool:
            got = list(pool.map(lambda j: cached.accuracy(j[0], j[1], None, j[2], engine="packed"), jobs * 2))
    finally:
        cached.accuracy.clear()
        cached.program.clear()
    for (_, kernel, count), g in zip(jobs * 2, got, strict=True):
        assert g["engine"] == "packed"
        np.testing.assert_array_equal(g["predictions"], want[(kernel, count)]["predictions"], err_msg=str(kernel))
