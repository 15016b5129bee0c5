import numpy as np
import pytest

from dither_lab import error_diffusion, make_kernel, ordered_dither, tile
from dither_lab.imaging.dither import DIFFUSION_KERNELS


@pytest.mark.parametrize("n", [2, 4, 8])
@pytest.mark.parametrize("g", [0.0, 0.1, 0.37, 0.5, 0.8, 1.0])
def test_flat_gray_density_within_one_level(n, g):
    img = np.full((8 * n, 8 * n), g, dtype=np.float32)
    out = ordered_dither(img, f"bayer:{n}")
    assert abs(out.mean() - g) <= 1 / n**2 + 1e-9


@pytest.mark.parametrize("spec", ["blue-noise:16", "cluster-dot:4"])
def test_flat_gray_density_other_rank_kernels(spec):
    k = make_kernel(spec, domain="unit")
    m = k.shape[0]
    for g in np.linspace(0, 1, 11):
        out = ordered_dither(np.full((2 * m, 2 * m), g, dtype=np.float32), k)
        assert abs(out.mean() - g) <= 1 / m**2 + 1e-9


@pytest.mark.parametrize("shape", [(5, 7), (3, 9, 10), (1, 1), (3, 1, 13), (17, 4)])
@pytest.mark.parametrize("spec", ["bayer:4", "random:3x3", "random:2x3x3", "sign", "blue-noise:8"])
@pytest.mark.parametrize("phase", ["origin", "center", (1, 2)])
def test_ordered_dither_equals_tiled_compare(shape, spec, phase, rng):
    img = rng.random(shape).astype(np.float32)
    k = make_kernel(spec, domain="unit")
    out = ordered_dither(img, k, phase=phase)
    c = 1 if img.ndim == 2 else img.shape[0]
    t = tile(k, shape[-2], shape[-1], channels=c if k.is_3d else None, phase=phase)
    if img.ndim == 2 and t.ndim == 3:
        t = t[0]  # a gray image is channel 0 of a 3-D kernel
    assert out.dtype == np.uint8 and out.shape == img.shape
    np.testing.assert_array_equal(out, (img >= t).astype(np.uint8))


def test_sign_dither_is_half_threshold(rng):
    img = rng.random((6, 6)).astype(np.float32)
    np.testing.assert_array_equal(ordered_dither(img, "sign"), img >= 0.5)


def test_ordered_dither_input_checks():
    with pytest.raises(ValueError, match="float in \\[0, 1\\]"):
        ordered_dither(np.zeros((4, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match="\\(H, W\\) or \\(C, H, W\\)"):
        ordered_dither(np.zeros(4, dtype=np.float32))
    with pytest.raises(TypeError, match="numpy array"):
        ordered_dither([[0.5]])


@pytest.mark.parametrize("method", list(DIFFUSION_KERNELS))
@pytest.mark.parametrize("serpentine", [False, True])
def test_error_diffusion_keeps_tone(method, serpentine):
    for g in (0.2, 0.5, 0.73):
        out = error_diffusion(np.full((64, 64), g, dtype=np.float32), method=method, serpentine=serpentine)
        tol = 0.02 if method != "atkinson" else 0.08  # Atkinson diffuses only 6/8 of the error
        assert abs(out.mean() - g) < tol


def test_floyd_steinberg_golden_small():
    # Hand-computed: 0.5 fires (>= 0.5), pushes -0.5*7/16 right, -0.5*3/16, -0.5*5/16, -0.5*1/16 below.
    img = np.array([[0.5, 0.5], [0.5, 0.5]], dtype=np.float32)
    out = error_diffusion(img)
    # (0,1): 0.5 - 0.21875 = 0.28125 -> 0, error +0.28125 -> (1,0) += .0527, (1,1) += .0879
    # (1,0): 0.5 - 0.09375 + 0.052734 = 0.458984 -> 0; (1,1): 0.5 - 0.15625 + 0.087891 + 0.200806 -> 1
    assert out.tolist() == [[1, 0], [0, 1]]


def test_error_diffusion_rgb_and_errors(rng):
    img = rng.random((3, 10, 12)).astype(np.float32)
    out = error_diffusion(img, method="stucki")
    assert out.shape == img.shape
    np.testing.assert_array_equal(out[1], error_diffusion(img[1], method="stucki"))
    with pytest.raises(ValueError, match="method must be one of"):
        error_diffusion(img, method="nope")
