"""Property-based tests of the core (hypothesis): random shapes, dtypes, kernels and values, including exact
zeros, NaN and inf. Documented behaviour: NaN compares false (-1 / 0), +inf fires, -inf never does."""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dither_lab import dithered_sign, make_kernel, ordered_dither

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

kernels = hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 4)),
                     elements=st.floats(-3, 3, allow_nan=False, width=32))
kernels3 = hnp.arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
                      elements=st.floats(-3, 3, allow_nan=False, width=32))
values = st.one_of(st.floats(-5, 5, width=32), st.just(0.0), st.just(float("nan")), st.just(float("inf")),
                   st.just(float("-inf")))


def _threshold(k, c, i, j, height, width, phase):
    """Kernel entry of pixel (c, i, j), from the definition: slice c mod F of a 3-D kernel, entry
    ((i + pi) mod m, (j + pj) mod n); "center" is the authors' tiling to ceil(H/m) x ceil(W/n) whole copies cropped
    in the middle, so its offset is half the overhang, rounded down."""
    k3 = k if k.ndim == 3 else k[None]
    f, m, n = k3.shape
    if phase == "origin":
        pi, pj = 0, 0
    elif phase == "center":
        pi, pj = (math.ceil(height / m) * m - height) // 2, (math.ceil(width / n) * n - width) // 2
    else:
        pi, pj = phase
    return k3[c % f, (i + pi) % m, (j + pj) % n]


@SETTINGS
@given(x=hnp.arrays(st.sampled_from([np.float32, np.float64]),
                    st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 9), st.integers(1, 9)),
                    elements=values),
       k=st.one_of(kernels, kernels3), phase=st.sampled_from(["origin", "center", (1, 2)]))
# always tried: a centred 4x4 kernel that overhangs a 5x7 map by 3 and 1 (offsets 1 and 0), all cells distinct
@example(x=np.linspace(-2, 2, 70, dtype=np.float32).reshape(1, 2, 5, 7), k=(np.arange(16.0).reshape(4, 4) - 7.5) / 4,
         phase="center")
def test_dithered_sign_matches_reference_everywhere(x, k, phase):
    out = dithered_sign(x, k, phase=phase)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert set(np.unique(out)).issubset({-1.0, 1.0})
    n, c, h, w = x.shape
    expected = np.empty(x.shape, dtype=x.dtype)
    for ci in range(c):
        for i in range(h):
            for j in range(w):
                t = _threshold(k, ci, i, j, h, w, phase)
                for b in range(n):
                    expected[b, ci, i, j] = 1.0 if x[b, ci, i, j] >= t else -1.0  # NaN >= t is False -> -1
    np.testing.assert_array_equal(out, expected)
    assert np.all(out[np.isnan(x)] == -1) and np.all(out[np.isposinf(x)] == 1) and np.all(out[np.isneginf(x)] == -1)


@SETTINGS
@given(img=hnp.arrays(np.float32, st.one_of(st.tuples(st.integers(1, 20), st.integers(1, 20)),
                                            st.tuples(st.integers(1, 3), st.integers(1, 12), st.integers(1, 12))),
                      elements=st.floats(0, 1, width=32)),
       spec=st.sampled_from(["sign", "bayer:2", "bayer:4", "cluster-dot:3", "random:2x3:seed=5", "random:2x2x2"]))
def test_ordered_dither_is_binary_and_monotone(img, spec):
    k = make_kernel(spec, domain="unit")
    out = ordered_dither(img, k)
    assert out.shape == img.shape and out.dtype == np.uint8 and set(np.unique(out)) <= {0, 1}
    brighter = ordered_dither(np.minimum(img + 0.25, 1.0).astype(np.float32), k)
    assert np.all(brighter >= out)  # more light never turns a pixel off


@SETTINGS
@given(x=hnp.arrays(np.float32, (2, 3, 5, 6), elements=st.floats(-4, 4, width=32)), c=st.floats(-2, 2, width=32))
def test_constant_kernel_is_shifted_sign(x, c):
    np.testing.assert_array_equal(dithered_sign(x, [[c]]), np.where(x >= np.float32(c), 1.0, -1.0))


@SETTINGS
@given(x=hnp.arrays(np.float32, (2, 2, 4, 4), elements=st.floats(-3, 3, width=32)), k=kernels)
def test_torch_and_numpy_paths_agree(x, k):
    np.testing.assert_array_equal(dithered_sign(torch.from_numpy(x), k).numpy(), dithered_sign(x, k))
