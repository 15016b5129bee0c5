import numpy as np
import pytest

from dither_lab import error_diffusion, make_kernel, ordered_dither
from dither_lab.imaging.dither import DIFFUSION_KERNELS

# Pixels fire where gray >= (r + 0.5) / N for ranks r = 0..N-1 (N = n^2), so a flat gray g turns on
# floor(g N + 0.5) of every N: the gray level quantized to the kernel's N + 1 levels. Counted by hand per (n, g):
# n = 2: 0.1 -> floor(0.9) = 0, 0.37 -> floor(1.98) = 1, 0.5 -> floor(2.5) = 2, 0.8 -> floor(3.7) = 3 (of 4)
# n = 4: 0.1 -> floor(2.1) = 2, 0.37 -> floor(6.42) = 6, 0.5 -> 8, 0.8 -> floor(13.3) = 13 (of 16)
# n = 8: 0.1 -> floor(6.9) = 6, 0.37 -> floor(24.18) = 24, 0.5 -> 32, 0.8 -> floor(51.7) = 51 (of 64)
FLAT_GRAY_ON = {
    2: {0.0: 0, 0.1: 0, 0.37: 1, 0.5: 2, 0.8: 3, 1.0: 4},
    4: {0.0: 0, 0.1: 2, 0.37: 6, 0.5: 8, 0.8: 13, 1.0: 16},
    8: {0.0: 0, 0.1: 6, 0.37: 24, 0.5: 32, 0.8: 51, 1.0: 64},
}


@pytest.mark.parametrize("n", [2, 4, 8])
@pytest.mark.parametrize("g", [0.0, 0.1, 0.37, 0.5, 0.8, 1.0])
def test_flat_gray_density_is_exact(n, g):
    img = np.full((3 * n, 5 * n), g, dtype=np.float32)
    out = ordered_dither(img, f"bayer:{n}")
    on = FLAT_GRAY_ON[n][g]
    assert out.mean() == on / n**2
    # and the same count in every n x n tile of the image, not only on average
    tiles = out.reshape(3, n, 5, n).sum(axis=(1, 3))
    assert np.all(tiles == on), tiles


@pytest.mark.parametrize("spec", ["blue-noise:16", "cluster-dot:4"])
def test_flat_gray_density_other_rank_kernels(spec):
    # any rank kernel fires floor(g N + 0.5) of its N cells at gray g (see FLAT_GRAY_ON); g N + 0.5 is never an
    # integer here (N = 16 or 256, g = k / 10), so float rounding cannot move a pixel across its threshold
    k = make_kernel(spec, domain="unit")
    m = k.shape[0]
    for g in np.linspace(0, 1, 11):
        out = ordered_dither(np.full((2 * m, 2 * m), g, dtype=np.float32), k)
        assert out.mean() == np.floor(g * m * m + 0.5) / (m * m), (spec, g)


def _reference_thresholds(values, channels, height, width, phase):
    """The threshold of each pixel from the definition, by explicit loops: pixel (c, i, j) takes kernel entry
    (c mod F, (i + pi) mod m, (j + pj) mod n). "center" is the DeSign authors' construction: tile the kernel
    over ceil(H/m) x ceil(W/n) whole copies, then crop the middle H x W."""
    k = values if values.ndim == 3 else values[None]
    f, m, n = k.shape
    if phase == "center":
        big_h, big_w = -(-height // m) * m, -(-width // n) * n
        oi, oj = (big_h - height) // 2, (big_w - width) // 2
        big = np.empty((f, big_h, big_w))
        for c in range(f):
            for i in range(big_h):
                for j in range(big_w):
                    big[c, i, j] = k[c, i % m, j % n]
        out = np.empty((channels, height, width))
        for c in range(channels):
            for i in range(height):
                for j in range(width):
                    out[c, i, j] = big[c % f, oi + i, oj + j]
        return out
    pi, pj = (0, 0) if phase == "origin" else phase
    out = np.empty((channels, height, width))
    for c in range(channels):
        for i in range(height):
            for j in range(width):
                out[c, i, j] = k[c % f, (i + pi) % m, (j + pj) % n]
    return out


@pytest.mark.parametrize("shape", [(5, 7), (3, 9, 10), (1, 1), (3, 1, 13), (17, 4)])
@pytest.mark.parametrize("spec", ["bayer:4", "random:3x3", "random:2x3x3", "sign", "blue-noise:8"])
@pytest.mark.parametrize("phase", ["origin", "center", (1, 2)])
def test_ordered_dither_equals_the_definition(shape, spec, phase, rng):
    img = rng.random(shape).astype(np.float32)
    k = make_kernel(spec, domain="unit")
    out = ordered_dither(img, k, phase=phase)
    c = 1 if img.ndim == 2 else img.shape[0]  # a gray image is channel 0 of a 3-D kernel
    t = _reference_thresholds(k.values.astype(np.float32), c, shape[-2], shape[-1], phase)
    expected = np.zeros(shape, dtype=np.uint8).reshape(c, *shape[-2:])
    planes = img.reshape(c, *shape[-2:])
    for ci in range(c):
        for i in range(shape[-2]):
            for j in range(shape[-1]):
                expected[ci, i, j] = 1 if planes[ci, i, j] >= t[ci, i, j] else 0
    assert out.dtype == np.uint8 and out.shape == img.shape
    np.testing.assert_array_equal(out, expected.reshape(shape))


def test_center_phase_by_hand():
    # A 4x4 kernel of thresholds (r + 0.5) / 16, r = 4a + b in reading order, on a 5x5 image: the authors tile
    # 2x2 copies (8x8) and crop the middle, from row and column (8 - 5) // 2 = 1, so image row i uses kernel row
    # (i + 1) mod 4 and likewise for columns. A gray of 0.55 fires where r + 0.5 <= 8.8, i.e. r <= 8:
    # kernel row 1 (r = 5, 6, 7, 4, 5) all; row 2 (9, 10, 11, 8, 9) only r = 8; row 3 none; row 0 all.
    k = (np.arange(16).reshape(4, 4) + 0.5) / 16
    out = ordered_dither(np.full((5, 5), 0.55, dtype=np.float32), k, phase="center")
    assert out.tolist() == [[1, 1, 1, 1, 1], [0, 0, 0, 1, 0], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]]


def test_a_pixel_equal_to_its_threshold_fires():
    # bayer:2 in image units is [[0.125, 0.625], [0.875, 0.375]]; a flat 0.625 fires where T <= 0.625, the tie
    # included, in every row (5 rows: two whole periods and one left over)
    out = ordered_dither(np.full((5, 3), 0.625, dtype=np.float32), "bayer:2")
    assert out.tolist() == [[1, 1, 1], [0, 1, 0], [1, 1, 1], [0, 1, 0], [1, 1, 1]]


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
    # Derived by hand with Floyd and Steinberg's (1976) weights: 7/16 right, 3/16 below-left, 5/16 below,
    # 1/16 below-right; a pixel is 1 where its value (with the errors it received) is >= 1/2; error = value - output.
    # (0,0) = 3/8 -> 0, error +3/8: (0,1) += 21/128 -> 85/128; (1,0) += 15/128 -> 79/128; (1,1) += 3/128 -> 67/128
    # (0,1) = 85/128 -> 1, error -43/128: (1,0) += -129/2048 -> 1135/2048; (1,1) += -215/2048 -> 857/2048
    # (1,0) = 1135/2048 = 0.554 -> 1, error -913/2048: (1,1) += -6391/32768 -> 7321/32768
    # (1,1) = 7321/32768 = 0.223 -> 0
    # With 3/16 and 5/16 swapped, (1,0) would get 9/128 and then -215/2048: 953/2048 = 0.465 -> 0 instead of 1.
    img = np.array([[0.375, 0.5], [0.5, 0.5]], dtype=np.float32)
    assert error_diffusion(img).tolist() == [[0, 1], [1, 0]]


# The published weights as (row offset, column offset, weight) from the current pixel, for a left-to-right scan:
# Floyd-Steinberg 1976; Jarvis, Judice and Ninke 1976; Stucki 1981; Atkinson (MacPaint, 1984); Sierra (1989).
PUBLISHED_WEIGHTS = {
    "floyd-steinberg": [(0, 1, 7 / 16), (1, -1, 3 / 16), (1, 0, 5 / 16), (1, 1, 1 / 16)],
    "jarvis-judice-ninke": [(0, 1, 7 / 48), (0, 2, 5 / 48),
                            (1, -2, 3 / 48), (1, -1, 5 / 48), (1, 0, 7 / 48), (1, 1, 5 / 48), (1, 2, 3 / 48),
                            (2, -2, 1 / 48), (2, -1, 3 / 48), (2, 0, 5 / 48), (2, 1, 3 / 48), (2, 2, 1 / 48)],
    "stucki": [(0, 1, 8 / 42), (0, 2, 4 / 42),
               (1, -2, 2 / 42), (1, -1, 4 / 42), (1, 0, 8 / 42), (1, 1, 4 / 42), (1, 2, 2 / 42),
               (2, -2, 1 / 42), (2, -1, 2 / 42), (2, 0, 4 / 42), (2, 1, 2 / 42), (2, 2, 1 / 42)],
    "atkinson": [(0, 1, 1 / 8), (0, 2, 1 / 8), (1, -1, 1 / 8), (1, 0, 1 / 8), (1, 1, 1 / 8), (2, 0, 1 / 8)],
    "sierra": [(0, 1, 5 / 32), (0, 2, 3 / 32),
               (1, -2, 2 / 32), (1, -1, 4 / 32), (1, 0, 5 / 32), (1, 1, 4 / 32), (1, 2, 2 / 32),
               (2, -1, 2 / 32), (2, 0, 3 / 32), (2, 1, 2 / 32)],
}


def _reference_diffusion(img, weights, serpentine):
    """Error diffusion written from the definition: raster scan (odd rows right to left when serpentine, with the
    weights mirrored), threshold 1/2, each error pushed to the neighbours inside the image."""
    buf = img.astype(np.float64).copy()
    h, w = buf.shape
    out = np.zeros((h, w), dtype=np.uint8)
    for i in range(h):
        backwards = serpentine and i % 2 == 1
        for j in (range(w - 1, -1, -1) if backwards else range(w)):
            out[i, j] = 1 if buf[i, j] >= 0.5 else 0
            err = buf[i, j] - out[i, j]
            for di, dj, wt in weights:
                ii, jj = i + di, j - dj if backwards else j + dj
                if ii < h and 0 <= jj < w:
                    buf[ii, jj] += err * wt
    return out


@pytest.mark.parametrize("method", list(PUBLISHED_WEIGHTS))
@pytest.mark.parametrize("serpentine", [False, True])
def test_error_diffusion_equals_the_published_weights(method, serpentine, rng):
    assert set(PUBLISHED_WEIGHTS) == set(DIFFUSION_KERNELS)  # every method the library offers is checked
    img = rng.random((9, 13)).astype(np.float32)
    np.testing.assert_array_equal(error_diffusion(img, method=method, serpentine=serpentine),
                                  _reference_diffusion(img, PUBLISHED_WEIGHTS[method], serpentine))


def test_error_diffusion_rgb_and_errors(rng):
    img = rng.random((3, 10, 12)).astype(np.float32)
    out = error_diffusion(img, method="stucki")
    assert out.shape == img.shape
    np.testing.assert_array_equal(out[1], error_diffusion(img[1], method="stucki"))
    with pytest.raises(ValueError, match="method must be one of"):
        error_diffusion(img, method="nope")
