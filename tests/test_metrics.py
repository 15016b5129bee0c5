import numpy as np
import pytest
from skimage import metrics as skm

from dither_lab.imaging import metrics as M


def test_psnr_ssim_mse_match_scikit_image(rng):
    a = rng.random((32, 40))
    b = np.clip(a + rng.normal(0, 0.1, a.shape), 0, 1)
    assert M.psnr(a, b, data_range=1.0) == pytest.approx(skm.peak_signal_noise_ratio(a, b, data_range=1.0))
    assert M.ssim(a, b, data_range=1.0) == pytest.approx(skm.structural_similarity(a, b, data_range=1.0))
    assert M.mse(a, b) == pytest.approx(np.mean((a - b) ** 2))
    assert M.psnr(a, a, data_range=1.0) == float("inf")


def test_ssim_small_maps_and_channels(rng):
    for shape in [(2, 2), (3, 3), (4, 6), (1, 9)]:
        a = rng.random(shape)
        v = M.ssim(a, a, data_range=1.0)
        assert v == pytest.approx(1.0)
        assert M.ssim(a, 1 - a, data_range=1.0) < 1.0
    a = rng.random((3, 16, 16))
    b = rng.random((3, 16, 16))
    assert M.ssim(a, b, data_range=1.0) == pytest.approx(skm.structural_similarity(a, b, data_range=1.0, channel_axis=0))


def test_data_range_must_be_explicit(rng):
    a = rng.random((8, 8))
    with pytest.raises(ValueError, match="data_range must be given"):
        M.psnr(a, a, data_range=None)
    with pytest.raises(ValueError, match="same shape"):
        M.mse(a, a[:4])


def test_total_variation_hand_computed():
    x = np.array([[0.0, 1.0], [0.0, 1.0]])
    assert M.total_variation(x) == pytest.approx(1.0)  # one interior pixel: dx=1, dy=0
    assert M.total_variation(x, kind="anisotropic") == pytest.approx(1.0)
    assert M.total_variation(x, kind="paper") == pytest.approx(0.5)  # (1 + 0 + 1 + 0) / 4 with zero border
    checker = np.indices((8, 8)).sum(0) % 2
    assert M.total_variation(checker) == pytest.approx(np.sqrt(2))
    with pytest.raises(ValueError, match="kind must be one of"):
        M.total_variation(x, kind="nope")


def test_residual_correlation():
    a = np.linspace(0, 1, 64).reshape(8, 8)
    assert M.residual_correlation(a, a * 0.5) == pytest.approx(-1.0)
    assert M.residual_correlation(a, a) == 0.0


def test_csf_weighting_discounts_high_frequencies():
    n = 64
    ref = np.full((n, n), 0.5)
    hi = ref + 0.2 * (np.indices((n, n)).sum(0) % 2 * 2 - 1)  # Nyquist checkerboard error
    lo = ref + 0.2 * np.sin(2 * np.pi * np.arange(n) / n)[None, :]  # 1 cycle per image error
    assert M.mse(ref, hi) > M.mse(ref, lo)
    assert M.csf_weighted_mse(ref, hi) < 0.5 * M.csf_weighted_mse(ref, lo)  # A(22.6 cpd) ~ 0.41 of peak
    assert M.csf_psnr(ref, hi, data_range=1.0) > M.csf_psnr(ref, lo, data_range=1.0)
    assert M.csf_mannos_sakrison(np.array([0.0]))[0] == 1.0


def test_radial_spectrum_and_ratio(rng):
    white = rng.random((64, 64))
    f, p = M.radial_power_spectrum(white)
    assert f.min() > 0 and f.max() <= 0.5
    assert p.mean() == pytest.approx(white.var(), rel=0.2)
    assert 0.7 < M.low_high_ratio(white) < 1.3
    smooth = np.add.outer(np.linspace(0, 1, 64), np.linspace(0, 1, 64))
    assert M.low_high_ratio(smooth) > 10
    with pytest.raises(ValueError, match="cutoff"):
        M.low_high_ratio(white, cutoff=0.6)


def test_density_and_tone_error():
    assert M.density(np.array([[-1, 1], [1, 1]])) == 0.75
    assert M.density(np.array([[0, 1], [0, 0]])) == 0.25
    g = np.full((16, 16), 0.5)
    checker = (np.indices((16, 16)).sum(0) % 2).astype(float)
    assert M.tone_error(g, checker) < 0.01
    assert M.tone_error(g, np.zeros((16, 16))) == pytest.approx(0.5)


def test_detail_metrics_states_ranges(rng):
    y = rng.standard_normal((16, 16))
    b = np.where(y >= 0, 1.0, -1.0)
    m = M.detail_metrics(y, b, value_range=(-3, 3), binary_values=(-1, 1))
    assert m["value_range"] == [-3.0, 3.0] and m["binary_values"] == [-1.0, 1.0]
    assert 0.4 < m["density"] < 0.6
    ref = M.to_unit_range(y, value_range=(-3, 3))
    assert m["psnr"] == pytest.approx(M.psnr(ref, (b + 1) / 2, data_range=1.0))
    with pytest.raises(ValueError, match="lo < hi"):
        M.to_unit_range(y, value_range=(1, 1))


def test_compare_activation_shows_maps_on_the_metrics_scale(rng):
    # What the feature-map and Learn pages draw is what the metrics compare: the real map from [-3, 3] and the
    # binary maps from {-1, +1}, each to [0, 1]; the density of 1s is the share of +1s.
    from dither_lab.nn.feature_maps import compare_activation

    real = rng.normal(0, 2, (12, 10))
    res = compare_activation(real, "preset:design-2x2-a")
    shown = res["shown"]
    assert np.allclose(shown["real"], np.clip((real + 3) / 6, 0, 1))
    assert np.array_equal(shown["Sign"], (res["sign"] + 1) / 2) and np.array_equal(shown["dithered"], (res["dithered"] + 1) / 2)
    assert res["metrics"]["dithered"]["density"] == pytest.approx((res["dithered"] > 0).mean())


def test_layer_mosaic_places_every_channel_as_compare_activation_shows_it(rng):
    # Each channel's tile in the montage is exactly what compare_activation shows for that channel, a 3-D kernel
    # taking the channel's own slice; one mid-gray pixel separates the tiles, and unused cells stay mid-gray.
    from dither_lab.nn.feature_maps import compare_activation, layer_mosaic

    bn = rng.normal(0, 1.5, (10, 5, 6)).astype(np.float32)
    res = layer_mosaic(bn, "preset:design3d-2x2x4")
    assert res["grid"] == (3, 4) and res["channels"] == 10
    for key in ("real", "Sign", "dithered"):
        assert res["shown"][key].shape == (3 * 5 + 2, 4 * 6 + 3)
    for c in range(10):
        i, j = divmod(c, 4)
        one = compare_activation(bn[c], "preset:design3d-2x2x4", channel=c)["shown"]
        for key in ("real", "Sign", "dithered"):
            assert np.array_equal(res["shown"][key][i * 6 : i * 6 + 5, j * 7 : j * 7 + 6], one[key]), (c, key)
    assert np.all(res["shown"]["Sign"][5, :] == 0.5) and np.all(res["shown"]["Sign"][:, 6] == 0.5)
    assert np.all(res["shown"]["Sign"][12:, 14:] == 0.5)  # cells 11 and 12 hold no channel
    assert res["density"]["Sign"] == pytest.approx((bn >= 0).mean())
    assert layer_mosaic(bn, "sign", max_channels=4)["grid"] == (2, 2)
    with pytest.raises(ValueError, match="C, H, W"):
        layer_mosaic(bn[0], "sign")


def test_layer_summary_counts_ones_and_flipped_bits_per_layer(rng):
    from dither_lab.nn.feature_maps import layer_summary

    bns = {"a": rng.normal(0, 1, (4, 6, 6)).astype(np.float32), "b": rng.normal(0.5, 1, (8, 3, 3)).astype(np.float32)}
    rows = layer_summary(bns, "preset:design-2x2-a")
    assert [r["layer"] for r in rows] == ["a", "b"] and (rows[1]["channels"], rows[1]["height"]) == (8, 3)
    for r, bn in zip(rows, bns.values(), strict=True):
        assert r["sign_ones"] == pytest.approx((bn >= 0).mean())
        # the paper's thresholds are all positive: a bit flips exactly where 0 <= x < its threshold
        assert r["differs"] == pytest.approx(r["sign_ones"] - r["dithered_ones"]) and r["differs"] > 0
    assert all(r["differs"] == 0 for r in layer_summary(bns, "sign"))
    with pytest.raises(ValueError, match="layer 'x'"):
        layer_summary({"x": bns["a"][0]}, "sign")
