"""Cached wrappers of core calls: ``st.cache_data`` for arrays and tables (copied per session, so no session
can change another's), ``st.cache_resource`` for models and evaluation sets only (shared, so never run: running a model
changes it, and every session and every overlapping rerun reads the same one: the library runs copies, see
:func:`dither_lab.nn.evaluate.with_kernel`; datasets are read-only memory maps)."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from dither_lab.data import Dataset, balanced_subset, embedded_subset, load_dataset
from dither_lab.imaging.compare import Output, compare
from dither_lab.imaging.metrics import DEFAULT_PPD
from dither_lab.imaging.samples import sample_image
from dither_lab.io import decode_image
from dither_lab.nn.evaluate import evaluate, with_kernel
from dither_lab.nn.feature_maps import compare_activation, layer_maps, layer_mosaic, layer_summary
from dither_lab.nn.models import load_pretrained

#: Uploads are computed at most this large (longer side, pixels); the notice says so.
MAX_SIDE = 1024


@st.cache_data(max_entries=16, show_spinner=False)
def sample(name: str, mode: str) -> np.ndarray:
    return sample_image(name, mode=mode)


@st.cache_data(max_entries=4, show_spinner=False)
def small(name: str, side: int = 128) -> np.ndarray:
    """A gray sample resized to ``side`` x ``side`` pixels, in [0, 1] (float32). Small, so that a page draws it
    larger than its pixels and a kernel's period stays visible (drawn smaller than its pixels, a 2x2 pattern
    aliases into large blocks that are not in the image)."""
    from skimage.transform import resize

    return resize(sample_image(name, mode="gray"), (side, side), anti_aliasing=True).astype(np.float32)


@st.cache_data(max_entries=4, show_spinner=False)
def standardized(name: str, side: int = 128) -> np.ndarray:
    """:func:`small`, standardized to mean 0 and variance 1 like a batch-normalized map (float32)."""
    img = small(name, side)
    return (img - img.mean()) / img.std()


@st.cache_data(max_entries=8, show_spinner=False)
def decode_upload(data: bytes, mode: str, name: str) -> tuple[np.ndarray, dict[str, Any]]:
    return decode_image(data, mode=mode, max_side=MAX_SIDE, source=name)


@st.cache_data(max_entries=64, show_spinner=False)
def _binarize(image: np.ndarray, spec: str, pixels_per_degree: float = DEFAULT_PPD, name: str | None = None) -> Output:
    return compare(image, [spec], include_sign=False, pixels_per_degree=pixels_per_degree,
                   names={spec: name} if name else None)[0]


def compare_image(image: np.ndarray, specs: tuple[str, ...], *, pixels_per_degree: float = DEFAULT_PPD,
                  names: dict[str, str] | None = None) -> list[Output]:
    """Sign and each spec, each cached on its own so changing one kernel recomputes only that output.

    ``pixels_per_degree`` is the viewing condition of the eye-weighted metric; ``names`` labels specs (spec -> name,
    the session library's names), so every panel, table and download calls a kernel by one name.
    """
    names = names or {}
    return [_binarize(image, s, pixels_per_degree, names.get(s)) for s in ("sign", *[s for s in specs if s != "sign"])]


@st.cache_data(max_entries=64, show_spinner=False)
def png_uri(image: np.ndarray) -> str:
    """PNG data URI of an image, cached: the input and Sign panels do not change when the kernel does."""
    from dither_lab.ui.plots import data_uri

    return data_uri(image)


@st.cache_resource(max_entries=4, show_spinner="Loading the model...")
def model(name: str) -> tuple[Any, dict[str, Any]]:
    return load_pretrained(name)


@st.cache_resource(max_entries=2, show_spinner="Loading the test images...")
def eval_set(dataset: str) -> Dataset:
    """Held-out images of a dataset: the embedded Fashion-MNIST subset, or a balanced, shuffled 2,000 of the
    CIFAR-10 test images in the data folder (ValueError saying how to get them when absent). Read-only, shared."""
    if dataset == "fashion-mnist":
        return embedded_subset()
    return balanced_subset(load_dataset(dataset, "test"), 2000)


@st.cache_data(max_entries=256, show_spinner=False)
def accuracy(model_name: str, kernel: str | None, layers: tuple[int, ...] | None, count: int,
             engine: str = "float") -> dict[str, Any]:
    """:func:`dither_lab.nn.evaluate.evaluate` with per-image results (the page compares kernels image by image), on
    the float engine or the packed 1-bit one (its compiled program cached, see :func:`program`)."""
    data = eval_set(model(model_name)[1]["dataset"])
    layer_list = None if layers is None else list(layers)
    if engine == "packed":
        return evaluate(model(model_name)[0], data, kernel=kernel, layers=layer_list, count=count, per_image=True,
                        engine="packed", program=program(model_name, kernel, layers))
    return evaluate(model(model_name)[0], data, kernel=kernel, layers=layer_list, count=count, per_image=True)


@st.cache_resource(max_entries=32, show_spinner=False)
def program(model_name: str, kernel: str | None, layers: tuple[int, ...] | None) -> Any:
    """The model compiled for the packed 1-bit engine with ``kernel`` in ``layers`` (shared: a program is read-only
    and safe for concurrent callers; compiling works on its own copy of the model)."""
    import torch

    from dither_lab.engine import compile_model

    prog = compile_model(model(model_name)[0], kernel=kernel, layers=None if kernel is None or layers is None
                         else list(layers), threads=torch.get_num_threads())
    c, h, w = prog.input_shape
    prog.predict(np.zeros((1, c, h, w), dtype=np.float32))  # its one-time setup now, not inside a timed run
    return prog


@st.cache_data(max_entries=16, show_spinner=False)
def engine_times(model_name: str, kernel: str | None, layers: tuple[int, ...] | None = None) -> dict[str, Any]:
    """Inference time per image of the model with ``kernel`` in ``layers`` against Sign there, on the float and the
    packed engine (:func:`dither_lab.nn.cost.inference_time`, a batch of 256, the two timed alternately, the
    fastest of :data:`~dither_lab.nn.cost.SHARED_REPEATS` runs each: the app's other work disturbs it least)."""
    from dither_lab.nn.cost import SHARED_REPEATS, inference_time
    from dither_lab.nn.evaluate import ENGINES

    m = model(model_name)[0]
    return {e: inference_time(m, kernel, layers=None if layers is None else list(layers), batch=256,
                              repeats=SHARED_REPEATS, engine=e, statistic="min") for e in ENGINES}


@st.cache_data(max_entries=32, show_spinner=False)
def sweep(model_name: str, kernel: str, layers: tuple[int, ...] | None, count: int) -> list[dict[str, Any]]:
    from dither_lab.nn.evaluate import strength_sweep

    m, meta = model(model_name)
    return strength_sweep(m, eval_set(meta["dataset"]), kernel, layers=None if layers is None else list(layers),
                          count=count)


@st.cache_data(max_entries=256, show_spinner=False)
def cost(model_name: str, kernel: str | None, layers: tuple[int, ...] | None) -> dict[str, Any]:
    from dither_lab.nn.cost import kernel_cost

    return kernel_cost(model(model_name)[0], kernel, layers=None if layers is None else list(layers))


@st.cache_data(max_entries=64, show_spinner=False)
def maps(model_name: str, image: np.ndarray, kernel: str | None) -> dict[str, dict[str, np.ndarray]]:
    """Every binary layer's maps on ``image`` (the library records them on a copy of the shared model)."""
    shared, meta = model(model_name)
    return layer_maps(shared if kernel is None else with_kernel(shared, kernel)[0], image, meta["dataset"])


@st.cache_data(max_entries=64, show_spinner=False)
def activation_compare(real: np.ndarray, kernel: str, channel: int) -> dict[str, Any]:
    return compare_activation(real, kernel, channel=channel)


@st.cache_data(max_entries=32, show_spinner=False)
def mosaic(bn: np.ndarray, kernel: str) -> dict[str, Any]:
    return layer_mosaic(bn, kernel)


@st.cache_data(max_entries=32, show_spinner=False)
def summary(model_name: str, image: np.ndarray, kernel: str) -> list[dict[str, Any]]:
    """:func:`dither_lab.nn.feature_maps.layer_summary` of the model's batch-norm outputs (trained kernels) on ``image``."""
    return layer_summary({n: m["bn"][0] for n, m in maps(model_name, image, None).items()}, kernel)


@st.cache_data(max_entries=16, show_spinner=False)
def detail_gained(model_name: str, image: np.ndarray, kernel: str) -> dict[str, Any]:
    """:func:`dither_lab.nn.feature_maps.most_detail_gained` on the model's batch-norm outputs for ``image``."""
    from dither_lab.nn.feature_maps import most_detail_gained

    return most_detail_gained({n: m["bn"][0] for n, m in maps(model_name, image, None).items()}, kernel)


@st.cache_data(max_entries=8, show_spinner=False)
def layer_descriptions(model_name: str) -> dict[str, str]:
    """:func:`dither_lab.nn.models.describe_layers` of a shipped model, in forward order."""
    from dither_lab.nn.cost import layer_shapes
    from dither_lab.nn.models import describe_layers

    m = model(model_name)[0]  # layer_shapes runs a copy
    return describe_layers(m, layer_shapes(m))


@st.cache_data(max_entries=8, show_spinner=False)
def layer_places(model_name: str) -> dict[str, str]:
    """:func:`dither_lab.nn.models.layer_places` of a shipped model."""
    from dither_lab.nn.models import layer_places as places

    return places(model(model_name)[0])


@st.cache_data(max_entries=32, show_spinner=False)
def design_search(size: int, objective: str, count: int, seed: int) -> tuple[dict[str, Any], np.ndarray]:
    """Exhaustive search on the embedded subset; returns the ranking and the first response map (for display)."""
    from dither_lab.design import gray_images, search, simulate_responses

    levels = simulate_responses(gray_images(eval_set("fashion-mnist").images[:count]), seed=seed)
    return search(levels, size, size, objective=objective), np.asarray(levels[0])


@st.cache_data(max_entries=16, show_spinner=False)
def design_beyond(size: int, slices: int, objective: str, count: int, seed: int) -> dict[str, Any]:
    """Kernels past the exhaustive range on the embedded subset (:func:`dither_lab.design.design_kernel`: a local
    search past 3x3, or with ``slices`` > 1 a channel-cycled 3-D kernel); the response map of channel 0 is
    returned under ``response``."""
    from dither_lab.design import design_kernel, gray_images, simulate_responses

    images = gray_images(eval_set("fashion-mnist").images[:count])
    res = design_kernel(images, size, size, objective=objective, slices=slices, seed=seed)
    return {**res, "response": np.asarray(simulate_responses(images[:1], seed=seed)[0])}
