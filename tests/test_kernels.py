import numpy as np
import pytest
from scipy.special import ndtri

from dither_lab import kernels as K


@pytest.mark.parametrize("n", [1, 2, 4, 8, 16, 64])
def test_bayer_is_permutation(n):
    b = K.bayer(n)
    assert b.shape == (n, n)
    assert sorted(b.ravel().tolist()) == list(range(n * n))


@pytest.mark.parametrize("n", [4, 8, 16])
def test_bayer_recursive_structure(n):
    b, half = K.bayer(n), K.bayer(n // 2)
    h = n // 2
    np.testing.assert_array_equal(b[:h, :h], 4 * half)
    np.testing.assert_array_equal(b[:h, h:], 4 * half + 2)
    np.testing.assert_array_equal(b[h:, :h], 4 * half + 3)
    np.testing.assert_array_equal(b[h:, h:], 4 * half + 1)


def test_bayer_golden_4():
    # Bayer (1973) 4x4 index matrix, as printed in Ulichney's "Digital Halftoning" (1987).
    expected = [[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]]
    assert K.bayer(4).tolist() == expected


@pytest.mark.parametrize("bad", [3, 6, 0, 512])
def test_bayer_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="bayer size"):
        K.bayer(bad)


@pytest.mark.parametrize("n", [2, 3, 5, 8])
def test_cluster_dot_permutation_and_centre_first(n):
    c = K.cluster_dot(n)
    assert sorted(c.ravel().tolist()) == list(range(n * n))
    centre = (n - 1) / 2
    first = np.argwhere(c == 0)[0]
    assert np.all(np.abs(first - centre) <= 0.5 + 1e-9)
    corner_rank = c[0, 0]
    assert corner_rank >= n * n - 4  # corners come last


@pytest.mark.parametrize("n", [8, 32])
def test_blue_noise_permutation_seeded_and_blue(n):
    from dither_lab.imaging.metrics import low_high_ratio

    a, b, c = K.blue_noise(n, seed=1), K.blue_noise(n, seed=1), K.blue_noise(n, seed=2)
    assert sorted(a.ravel().tolist()) == list(range(n * n))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    if n >= 32:
        assert low_high_ratio(K.ranks_to_quantiles(a)) < 0.05
        white = np.random.default_rng(0).random((n, n))
        assert low_high_ratio(white) > 0.5


def test_blue_noise_tiles_without_seam():
    # Toroidal: the wrap-around neighbour difference looks like any interior neighbour difference.
    u = K.ranks_to_quantiles(K.blue_noise(32, seed=0))
    interior = np.abs(np.diff(u, axis=1)).mean()
    seam = np.abs(u[:, 0] - u[:, -1]).mean()
    assert abs(seam - interior) < 0.1


def test_presets_in_bn_units():
    k = K.make_kernel("preset:design-2x2-a")
    np.testing.assert_allclose(k.values, [[0.6310, 0.6310], [0.3118, 0.9671]])
    k3 = K.make_kernel("preset:design3d-2x2x4")
    assert k3.shape == (4, 2, 2)
    np.testing.assert_array_equal(k3.levels[1], [[3, 3], [1, 5]])
    np.testing.assert_allclose(k3.values[3], [[1.7656, 1.7656], [1.3352, 2.3419]])
    for name, lv in K.PRESETS.items():
        assert set(np.unique(lv)).issubset(K.LEVELS), name


def test_rank_mapping_uniform_and_gaussian():
    u = K.make_kernel("bayer:2", domain="unit").values
    np.testing.assert_allclose(u, (K.bayer(2) + 0.5) / 4)
    g = K.make_kernel("bayer:2:strength=0.5").values
    np.testing.assert_allclose(g, 0.5 * ndtri((K.bayer(2) + 0.5) / 4))
    # Gaussian quantiles are symmetric, so a standard normal keeps density 1/2 on average.
    assert abs(K.make_kernel("bayer:8").values.mean()) < 1e-12


def test_sign_and_constant():
    assert K.make_kernel("sign").values.tolist() == [[0.0]]
    assert K.make_kernel("sign", domain="unit").values.tolist() == [[0.5]]
    assert K.make_kernel("constant:-0.25").values.tolist() == [[-0.25]]


def test_random_is_seeded():
    a = K.make_kernel("random:3x3:seed=1").values
    b = K.make_kernel("random:3x3:seed=1").values
    c = K.make_kernel("random:3x3:seed=2").values
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert K.make_kernel("random:2x3x3").shape == (2, 3, 3)


def test_levels_and_custom_specs_round_trip():
    k = K.make_kernel("levels:1,1;0,3")
    np.testing.assert_allclose(k.values, K.make_kernel("preset:design-2x2-a").values)
    c = K.make_kernel("custom:0.1,-0.2;0.3,0|1,2;3,4")
    assert c.shape == (2, 2, 2)
    again = K.make_kernel(c.spec)
    np.testing.assert_array_equal(again.values, c.values)


@pytest.mark.parametrize(
    "spec, match",
    [
        ("bogus", "unknown kernel generator"),
        ("bayer", "needs an argument"),
        ("bayer:3", "power of two"),
        ("bayer:x", "size must be an integer"),
        ("bayer:4:seed=1", "unknown option 'seed'"),
        ("preset:nope", "valid presets"),
        ("random:3x0", "random shape"),
        ("custom:1,2;3", "rows of different lengths"),
        ("custom:1,a", "numbers separated"),
        ("custom:1,nan", "finite"),
        ("levels:2,4", "levels must be in"),
        ("constant:inf", "finite"),
        ("", "must not be empty"),
        ("sign:3", "sign takes no argument"),
    ],
)
def test_bad_specs_raise_clear_errors(spec, match):
    with pytest.raises(ValueError, match=match):
        K.make_kernel(spec)


def test_file_spec_can_be_refused():
    with pytest.raises(ValueError, match="not accepted here"):
        K.make_kernel("file:/etc/passwd", allow_files=False)


@pytest.mark.parametrize(
    "values, match",
    [
        ([1.0, 2.0], "2-D"),
        (np.zeros((0, 2)), "empty"),
        (np.zeros((257, 1)), "sides"),
        ([[1.0, np.inf]], "finite"),
        ([[1, 2], [3]], "rectangular"),
    ],
)
def test_custom_kernel_validation(values, match):
    with pytest.raises(ValueError, match=match):
        K.as_kernel(values)


def test_shipped_blue_noise_masks_load_and_match_generator():
    k256 = K.make_kernel("blue-noise:256", domain="unit")
    assert k256.shape == (256, 256)
    assert K.make_kernel("blue-noise:512").shape == (512, 512)  # generated kernels may exceed 256
    np.testing.assert_array_equal(K.blue_noise_mask(256), K.blue_noise(256, seed=0))


def test_kernel_is_read_only_and_hashable():
    k = K.make_kernel("bayer:4")
    with pytest.raises(ValueError):
        k.values[0, 0] = 3
    assert hash(k) == hash(K.make_kernel("bayer:4"))
    assert k == K.make_kernel("bayer:4")


def test_tile_phase_and_channels():
    k = np.arange(6).reshape(2, 3)
    t = K.tile(k, 4, 5)
    assert t[3, 4] == k[1, 1]
    t2 = K.tile(k, 4, 5, phase=(1, 2))
    assert t2[0, 0] == k[1, 2]
    k3 = np.stack([k, k + 10, k + 20])
    t3 = K.tile(k3, 2, 3, channels=5)
    np.testing.assert_array_equal(t3[4], k3[1])
    np.testing.assert_array_equal(t3[3], k3[0])


def test_center_phase_matches_centre_crop():
    k = np.arange(9).reshape(3, 3)
    h, w = 7, 5
    full = np.tile(k, (3, 2))  # 9 x 6 covers ceil(7/3)*3 x ceil(5/3)*3
    oh, ow = (9 - h) // 2, (6 - w) // 2
    np.testing.assert_array_equal(K.tile(k, h, w, phase="center"), full[oh : oh + h, ow : ow + w])


def test_3d_slices_must_match():
    with pytest.raises(ValueError, match="3-D slices of different shapes"):
        K.make_kernel("custom:1,2;3,4|1,2,3;4,5,6")
