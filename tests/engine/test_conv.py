"""Packed binary convolution against the float model's layer, on random +-1 inputs."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dither_lab.engine import compile_conv, integer_thresholds
from dither_lab.nn.models import BinaryActivation, BinaryConv2d

KERNELS = ["sign", "preset:design-3x3-a", "preset:design3d-2x2x4", "bayer:4"]
# (kernel size, stride, padding): every combination the tests ask for
GEOMETRIES = [(k, s, p) for k in (1, 3) for s in (1, 2) for p in (0, 1)]


def _layer(cin, cout, k, stride, pad, seed, *, kernel="sign"):
    g = torch.Generator().manual_seed(seed)
    conv = BinaryConv2d(cin, cout, k, stride=stride, padding=pad, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=g))
        conv.weight.view(-1)[::7] = 0.0  # sign(0) = +1
    act = BinaryActivation(cout, "design", kernel=kernel)
    with torch.no_grad():
        bn = act.bn
        bn.running_mean.copy_(torch.randn(cout, generator=g) * cin * k)
        bn.running_var.copy_(torch.rand(cout, generator=g) * cin * k * k + 0.5)
        gamma = torch.randn(cout, generator=g)
        gamma[::3] = -gamma[::3].abs()  # negative gammas
        gamma[1::5] = 0.0  # and zero ones
        bn.weight.copy_(gamma)
        bn.bias.copy_(torch.randn(cout, generator=g))
    return conv.eval(), act.eval()


def _pm1(shape, seed):
    return np.where(np.random.default_rng(seed).random(shape) < 0.5, -1.0, 1.0).astype(np.float32)


@pytest.mark.parametrize("cin", [1, 3, 17, 63, 64, 65, 130])
@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_packed_conv_with_folded_activation_is_bit_exact(cin, geometry):
    k, stride, pad = geometry
    cout = [9, 64, 70][cin % 3]
    seed = cin * 100 + k * 10 + stride + pad
    conv, act = _layer(cin, cout, k, stride, pad, seed, kernel=KERNELS[seed % len(KERNELS)])
    h, w = 9, 7
    packed = compile_conv(conv, act, height=h, width=w)
    for batch in (1, 6):
        x = _pm1((batch, cin, h, w), seed + batch)
        with torch.inference_mode():
            ref = (act(conv(torch.from_numpy(x))) > 0).numpy()
        got = packed.unpack(packed(packed.pack(x)))
        assert got.shape == ref.shape
        np.testing.assert_array_equal(got, ref)
    assert packed(packed.pack(x), threads=3).tobytes() == packed(packed.pack(x)).tobytes()


@pytest.mark.parametrize("cin", [3, 64, 65])
@pytest.mark.parametrize("pool", [1, 2])
def test_packed_conv_real_output_and_pool_are_exact(cin, pool):
    conv, act = _layer(cin, 24, 3, 1, 1, cin)
    x = _pm1((4, cin, 10, 9), cin)
    with torch.inference_mode():
        y = conv(torch.from_numpy(x))
        if pool == 2:
            y = F.max_pool2d(y, 2)
        bits = act(y) > 0
    real = compile_conv(conv, height=10, width=9, pool=pool)
    np.testing.assert_array_equal(real(real.pack(x)), y.numpy().transpose(0, 2, 3, 1))  # bit for bit
    folded = compile_conv(conv, act, height=10, width=9, pool=pool)
    np.testing.assert_array_equal(folded.unpack(folded(folded.pack(x))), bits.numpy())


def test_integer_thresholds_agree_with_the_float_compare_at_every_accumulator():
    rng = np.random.default_rng(3)
    count = 200
    alpha = np.array([0.0, 1.0, 0.37, 3.1e-3, 7.7], dtype=np.float32)
    theta = rng.normal(0, 60, (3, 2, alpha.size)).astype(np.float32) * np.maximum(alpha, 0.01)
    theta[0, 0] = [np.inf, -np.inf, np.nan, 0.0, -0.0]
    theta[0, 1] = np.float32(7) * alpha  # exactly on an accumulator value
    k = integer_thresholds(theta, alpha, count)
    acc = np.arange(-count, count + 1)
    for o in range(alpha.size):
        float_compare = (acc.astype(np.float32)[:, None, None] * alpha[o]) >= theta[None, ..., o]
        np.testing.assert_array_equal(acc[:, None, None] >= k[None, ..., o], float_compare)
    assert k.dtype == np.int16 and k[0, 0, 0] == count + 1 and k[0, 0, 1] == -count and k[0, 0, 2] == count + 1
    with pytest.raises(ValueError, match="alpha must be finite"):
        integer_thresholds(theta, -alpha - 1, count)


def test_compile_conv_rejects_what_it_cannot_run():
    conv, act = _layer(8, 8, 3, 1, 1, 0)
    with pytest.raises(ValueError, match="pool must be 1 or 2"):
        compile_conv(conv, act, height=8, width=8, pool=3)
    with pytest.raises(TypeError, match="BinaryConv2d"):
        compile_conv(torch.nn.Conv2d(8, 8, 3), height=8, width=8)
    dilated = BinaryConv2d(8, 8, 3, padding=2, dilation=2, bias=False).eval()
    with pytest.raises(ValueError, match="dilation 1"):
        compile_conv(dilated, height=8, width=8)
    packed = compile_conv(conv, act, height=8, width=8)
    with pytest.raises(ValueError, match=r"x must be \(N, 8, 8, 8\)"):
        packed.pack(np.zeros((1, 3, 8, 8), np.float32))
    with pytest.raises(ValueError, match="bits must be uint64"):
        packed(np.zeros((1, 8, 8, 1), np.int64))
