import numpy as np
import pytest

from dither_lab import kernels as K


@pytest.mark.parametrize("n", [1, 2, 4, 8, 16, 64])
def test_bayer_is_permutation(n):
    b = K.bayer(n)
    assert b.shape == (n, n)
    assert sorted(b.ravel().tolist()) == list(range(n * n))


def test_bayer_golden_4_and_8():
    # Bayer's (1973) index matrices: the 4x4 as printed in Ulichney's "Digital Halftoning" (1987); the 2x2, 4x4 and
    # 8x8 as printed in the Wikipedia article "Ordered dithering" (some revisions print the transpose, which
    # dithers as well).
    assert K.bayer(2).tolist() == [[0, 2], [3, 1]]
    assert K.bayer(4).tolist() == [[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]]
    assert K.bayer(8).tolist() == [
        [0, 32, 8, 40, 2, 34, 10, 42],
        [48, 16, 56, 24, 50, 18, 58, 26],
        [12, 44, 4, 36, 14, 46, 6, 38],
        [60, 28, 52, 20, 62, 30, 54, 22],
        [3, 35, 11, 43, 1, 33, 9, 41],
        [51, 19, 59, 27, 49, 17, 57, 25],
        [15, 47, 7, 39, 13, 45, 5, 37],
        [63, 31, 55, 23, 61, 29, 53, 21],
    ]


@pytest.mark.parametrize("n", [2, 4, 8, 16, 32])
def test_bayer_equals_the_bit_interleaving_closed_form(n):
    # The index matrix without recursion: for row i and column j, the base-4 digits of the rank, most significant
    # first, are 2 * (bit k of (i XOR j)) + (bit k of i) for bit k = 0, 1, ... (lowest bits first), so the
    # coarsest 2x2 pattern [[0, 2], [3, 1]] decides the top digit.
    levels = n.bit_length() - 1
    expected = np.zeros((n, n), dtype=np.int64)
    for i in range(n):
        for j in range(n):
            rank = 0
            for k in range(levels):
                digit = 2 * (((i ^ j) >> k) & 1) + ((i >> k) & 1)
                rank += digit * 4 ** (levels - 1 - k)
            expected[i, j] = rank
    np.testing.assert_array_equal(K.bayer(n), expected)


@pytest.mark.parametrize("n", [4, 8, 16, 64])
def test_bayer_is_dispersed_at_every_scale(n):
    # The dispersed-dot property: for every power of two s <= n, each aligned s x s block holds exactly one rank
    # of each of the s^2 consecutive rank groups of size n^2 / s^2, so a flat gray at any multiple of s^2 / n^2
    # turns on the same number of pixels in every s x s block.
    b = K.bayer(n)
    s = 2
    while s <= n:
        group = b // (n * n // (s * s))
        for bi in range(0, n, s):
            for bj in range(0, n, s):
                assert sorted(group[bi : bi + s, bj : bj + s].ravel().tolist()) == list(range(s * s)), (s, bi, bj)
        s *= 2
    # each quadrant holds the ranks of one residue mod 4: 0 (top left), 2 (top right), 3 (bottom left), 1
    h = n // 2
    for (r0, c0), residue in {(0, 0): 0, (0, h): 2, (h, 0): 3, (h, h): 1}.items():
        assert np.all(b[r0 : r0 + h, c0 : c0 + h] % 4 == residue)


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
    for name, lv in K.PRESETS.items():  # the paper's level set: ReLU'd 3x3 binary correlations 0, 1, 3, 5, 7, 9
        assert set(np.unique(lv)).issubset({0, 1, 3, 5, 7, 9}), name


def test_rank_mapping_uniform_and_gaussian():
    # ranks [[0, 2], [3, 1]] of 4 -> quantiles (r + 0.5) / 4 = [[0.125, 0.625], [0.875, 0.375]] (image units)
    u = K.make_kernel("bayer:2", domain="unit").values
    np.testing.assert_allclose(u, [[0.125, 0.625], [0.875, 0.375]], rtol=1e-15)
    # standard-normal quantiles: Phi^-1(0.875) = 1.1503494, Phi^-1(0.625) = 0.3186394 (normal tables), times 0.5
    g = K.make_kernel("bayer:2:strength=0.5").values
    np.testing.assert_allclose(g, [[-0.5751747, 0.1593197], [0.5751747, -0.1593197]], atol=1e-7)
    # a strength scales image-unit thresholds about 0.5: 0.5 + 0.5 (u - 0.5)
    np.testing.assert_allclose(K.make_kernel("bayer:2:strength=0.5", domain="unit").values,
                               [[0.3125, 0.5625], [0.6875, 0.4375]], rtol=1e-15)
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


def test_menus_come_from_the_registry_and_their_specs_read_back():
    from dither_lab.kernels.spec import GENERATORS, params_from_spec, spec_from_params

    offered = [g for g in GENERATORS.values() if g.params]
    assert {g.name for g in offered} >= {"bayer", "blue-noise", "cluster-dot", "random", "preset", "constant"}
    for g in offered:
        for p in g.params:
            values = [*(p.choices or ()), *(v for v in (p.low, p.high) if v is not None)]
            for v in values:
                spec = spec_from_params(g.name, {p.name: v})
                back = params_from_spec(spec)
                assert back is not None and back[0] == g.name and back[1][p.name] == pytest.approx(v), spec
                K.make_kernel(spec)  # every spec a menu can make is a valid kernel
    assert spec_from_params("bayer", {"size": 8}) == "bayer:8"  # defaults are left out
    assert spec_from_params("random", {"rows": 2, "cols": 5, "seed": 7}) == "random:2x5:seed=7"
    assert params_from_spec("custom:1,2;3,4") is None and params_from_spec("bayer:32") is None
    assert params_from_spec("blue-noise:16:sigma=9") is None  # outside the menu's range
    assert params_from_spec("not a spec") is None


def test_settings_whose_effect_is_not_plain_say_it():
    from dither_lab.kernels import GENERATORS

    tips = {p.name: p.help for g in GENERATORS.values() for p in g.params if p.name in ("sigma", "strength")}
    assert set(tips) == {"sigma", "strength"} and all(tips.values())
    assert "0 gives plain Sign" in tips["strength"] and "Gaussian" in tips["sigma"]
