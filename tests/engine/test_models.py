"""Whole networks: the packed program's binary activations and predictions equal the float model's."""

import numpy as np
import pytest
import torch

from dither_lab.engine import compile_model, float_reference
from dither_lab.nn.models import binary_layers, build_model, load_pretrained

SHAPES = {"fmnist-net": (1, 28), "vgg-small": (3, 32), "resnet-20": (3, 32)}


def _model(arch, *, unit="plain", width=0.25, seed=0, **kw):
    cin, size = SHAPES[arch]
    torch.manual_seed(seed)
    m = build_model(arch, in_channels=cin, image_size=size, width=width, unit=unit, **kw)
    m.train()
    with torch.no_grad():
        for _ in range(2):  # running statistics away from their start
            m(torch.randn(16, cin, size, size))
        g = torch.Generator().manual_seed(seed)
        for layer in binary_layers(m).values():  # some negative and zero gammas
            gamma = layer.bn.weight
            flip = torch.rand(gamma.shape, generator=g)
            gamma[flip < 0.2] *= -1
            gamma[flip > 0.9] = 0.0
    return m.eval()


def _images(arch, n, seed):
    cin, size = SHAPES[arch]
    return np.random.default_rng(seed).standard_normal((n, cin, size, size)).astype(np.float32)


def _assert_same(model, x, **kw):
    program = compile_model(model, **kw)
    logits, acts = program.predict(x), program.binary_activations(x)
    ref_logits, ref_acts = float_reference(model, x, **kw)
    assert list(acts) == list(ref_acts) == program.layers
    for name, ref in ref_acts.items():
        assert acts[name].shape == ref.shape
        assert np.array_equal(acts[name], ref), f"{name}: {np.count_nonzero(acts[name] != ref)} bits differ"
    np.testing.assert_array_equal(logits.argmax(1), ref_logits.argmax(1))
    np.testing.assert_allclose(logits, ref_logits, rtol=1e-5, atol=1e-5)  # the classifier's sum order may differ
    return program


CASES = [
    ("fmnist-net", "plain", {"activation": "design"}),
    ("fmnist-net", "plain", {"activation": "design3d"}),
    ("vgg-small", "plain", {"activation": "design", "width": 0.125}),
    ("resnet-20", "plain", {"activation": "sign"}),
    ("resnet-20", "bn-prelu", {"activation": "design"}),
    ("resnet-20", "bn-prelu", {"activation": "rsign"}),
    ("fmnist-net", "plain", {"activation": "design", "scale_by_gamma": True}),
]
KERNELS = [None, "preset:design-2x2-b", "preset:design-3x3-a", "preset:design3d-2x2x4", "bayer:8", "blue-noise:16"]


@pytest.mark.parametrize("index", range(len(CASES)), ids=[f"{a}-{u}-{kw['activation']}" for a, u, kw in CASES])
def test_random_models_bit_exact(index):
    arch, unit, kw = CASES[index]
    m = _model(arch, unit=unit, **kw)
    x = _images(arch, 6, 1)
    # the model's own kernels, and two of the others: each kernel meets several architectures across the cases
    for kernel in (None, KERNELS[1 + index % 5], KERNELS[1 + (index + 2) % 5]):
        _assert_same(m, x, kernel=kernel)


@pytest.mark.parametrize("arch,unit", [("fmnist-net", "plain"), ("resnet-20", "bn-prelu"), ("resnet-20", "plain")])
def test_kernel_in_some_layers_only(arch, unit):
    m = _model(arch, unit=unit, activation="design")
    x = _images(arch, 4, 2)
    p = _assert_same(m, x, kernel="bayer:4", layers=[0, 2])
    kernels = list(p.metadata["kernels"].values())
    assert kernels[0] == kernels[2] == "bayer:4" and kernels[1] != "bayer:4"


@pytest.mark.parametrize("arch,unit", [("vgg-small", "plain"), ("resnet-20", "bn-prelu"), ("fmnist-net", "plain")])
def test_nan_in_the_real_valued_stream(arch, unit):
    m = _model(arch, unit=unit, activation="design", width=0.125)
    x = _images(arch, 3, 3)
    x[0, :, 5, 7] = np.nan  # NaN compares false (-1, or +1 where gamma < 0) and spreads through the real stream
    x[1] = np.nan
    program = compile_model(m)
    acts = program.binary_activations(x)
    _, ref = float_reference(m, x)
    for name in ref:
        np.testing.assert_array_equal(acts[name], ref[name])


def test_batch_sizes_and_threads_agree():
    m = _model("resnet-20", unit="bn-prelu", activation="design")
    x = _images("resnet-20", 7, 4)
    p = compile_model(m)
    base = p.predict(x)
    assert p.predict(x, threads=3).tobytes() == base.tobytes()
    assert p.predict(x, batch_size=2).tobytes() == base.tobytes()
    assert p.predict(x[0]).tobytes() == base[:1].tobytes()


def test_shipped_fashion_models_on_the_embedded_subset():
    from dither_lab.data import embedded_subset, normalize

    d = embedded_subset()
    x = normalize(np.asarray(d.images), "fashion-mnist").numpy()
    # all 2,000 images with each model's own kernel; a share of them with the 3-D kernel and Bayer 8x8
    for name, kernel, count in [("fashion-mnist-design", None, 2000), ("fashion-mnist-sign", None, 2000),
                                ("fashion-mnist-design", "preset:design3d-2x2x4", 300),
                                ("fashion-mnist-sign", "bayer:8", 300)]:
        m, _ = load_pretrained(name)
        p = compile_model(m, kernel=kernel, threads=2)
        logits, acts = p.predict(x[:count]), p.binary_activations(x[:count])
        ref_logits, ref_acts = float_reference(m, x[:count], kernel=kernel)
        for n in ref_acts:
            assert np.array_equal(acts[n], ref_acts[n]), f"{name} {kernel} {n}"
        np.testing.assert_array_equal(logits.argmax(1), ref_logits.argmax(1))
        if kernel is None:
            assert (logits.argmax(1) == d.labels).mean() > 0.85


@pytest.mark.parametrize("name", ["cifar10-design", "cifar10-sign"])
def test_shipped_cifar_models(name):
    from dither_lab.data import normalize

    m, _ = load_pretrained(name)
    images = np.random.default_rng(5).integers(0, 256, (24, 3, 32, 32), dtype=np.uint8)
    x = normalize(images, "cifar10").numpy()
    for kernel in (None, "preset:design-3x3-a"):
        _assert_same(m, x, kernel=kernel)


def test_compile_model_errors():
    m = _model("fmnist-net", activation="design")
    with pytest.raises(ValueError, match="give kernel too"):
        compile_model(m, layers=[0])
    with pytest.raises(ValueError, match="unknown layer"):
        compile_model(m, kernel="sign", layers=["nope"])
    with pytest.raises(ValueError, match="built by dither_lab.nn.models.build_model"):
        compile_model(torch.nn.Conv2d(1, 1, 3))
    with pytest.raises(TypeError, match="torch.nn.Module"):
        compile_model("model")
    bad = _model("fmnist-net", activation="design")
    with torch.no_grad():
        bad.stem.weight[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN or infinite"):
        compile_model(bad)
    p = compile_model(m)
    with pytest.raises(ValueError, match=r"images must be \(N, 1, 28, 28\)"):
        p.predict(np.zeros((2, 3, 28, 28), np.float32))
    with pytest.raises(ValueError, match="images must be float"):
        p.predict(np.zeros((2, 1, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="unknown layer"):
        p.binary_activations(np.zeros((1, 1, 28, 28), np.float32), layers=["x"])


def test_nbytes_breakdown():
    m = _model("vgg-small", activation="design", width=0.25)
    p = compile_model(m, kernel="bayer:8")
    s = compile_model(m, kernel="sign")
    nb, ns = p.nbytes(), s.nbytes()
    assert nb["total"] == nb["packed_weights"] + nb["threshold_tables"] + nb["float_parts"]
    assert nb["packed_weights"] == ns["packed_weights"] and nb["float_parts"] == ns["float_parts"]
    assert nb["threshold_tables"] > ns["threshold_tables"]  # 64 cells per channel instead of 1
    binary_params = sum(mod.weight.numel() for mod in m.modules() if type(mod).__name__ == "BinaryConv2d")
    assert binary_params / 8 <= nb["packed_weights"] <= binary_params / 8 * 1.2
