import numpy as np
import pytest

from dither_lab.imaging import metrics as M


def test_mse_and_psnr_hand_computed():
    # One pixel of four off by 0.1: MSE = 0.1^2 / 4 = 0.0025, PSNR = 10 log10(R^2 / MSE) = 10 log10(400) for R = 1
    # and 10 log10(1600) for R = 2 (log10(400) = 2.6020599913, log10(1600) = 3.2041199827).
    a = np.zeros((2, 2))
    b = np.array([[0.1, 0.0], [0.0, 0.0]])
    assert M.mse(a, b) == pytest.approx(0.0025, rel=1e-12)
    assert M.psnr(a, b, data_range=1.0) == pytest.approx(26.020599913279625, rel=1e-12)
    assert M.psnr(a, b, data_range=2.0) == pytest.approx(32.04119982655924, rel=1e-12)
    # every pixel off by 0.5: MSE 0.25, PSNR = 10 log10(4) = 6.0206 dB; the order of the two maps does not matter
    half = np.full((3, 4), 0.5)
    assert M.mse(half, np.zeros((3, 4))) == pytest.approx(0.25, rel=1e-12)
    assert M.psnr(np.zeros((3, 4)), half, data_range=1.0) == pytest.approx(6.020599913279624, rel=1e-12)
    assert M.psnr(half, np.zeros((3, 4)), data_range=1.0) == pytest.approx(6.020599913279624, rel=1e-12)
    assert M.psnr(b, b, data_range=1.0) == float("inf")


@pytest.mark.parametrize("shape", [(2, 2), (3, 3), (4, 6), (1, 9), (16, 16), (3, 8, 8)])
def test_ssim_of_identical_maps_is_one(shape, rng):
    a = rng.random(shape)
    assert M.ssim(a, a, data_range=1.0) == pytest.approx(1.0, abs=1e-6)
    assert M.ssim(a, 1 - a, data_range=1.0) < 0.5


@pytest.mark.parametrize("shape", [(2, 2), (1, 9), (16, 16), (9, 12), (3, 8, 8)])
def test_ssim_of_a_constant_shift_has_its_closed_form(shape):
    # Wang et al. (2004), eq. 6-13 with C1 = (0.01 R)^2, C2 = (0.03 R)^2. Two flat maps at 0.4 and 0.6: every
    # window has zero variance and covariance, so the contrast-structure factor is C2 / C2 = 1 and SSIM is the
    # luminance factor (2 * 0.4 * 0.6 + C1) / (0.4^2 + 0.6^2 + C1) = 0.4801 / 0.5201 = 0.9230917131 for R = 1,
    # the same on a single global window (sides < 3) as on 7x7 (or smaller) sliding windows.
    a = np.full(shape, 0.4)
    assert M.ssim(a, a + 0.2, data_range=1.0) == pytest.approx(0.4801 / 0.5201, abs=1e-6)
    # R = 2: C1 = 0.0004, (0.48 + 0.0004) / (0.52 + 0.0004) = 0.9231360492
    assert M.ssim(a, a + 0.2, data_range=2.0) == pytest.approx(0.4804 / 0.5204, abs=1e-6)


def test_ssim_global_window_hand_computed():
    # Maps smaller than 3 pixels on a side use one global window (Wang et al. 2004, eq. 13, with the paper's
    # 1/(N-1) variances). A 2x2 ramp shifted by 0.2: means 0.4 and 0.6, equal variances and covariance, so again
    # 0.4801 / 0.5201. A column pattern against its inverse: means 0.5 and 0.5, variances 1/3 (ddof 1),
    # covariance -1/3: SSIM = (0.5 + C1) (-2/3 + C2) / ((0.5 + C1) (2/3 + C2)) = (-2/3 + 9e-4) / (2/3 + 9e-4).
    ramp = np.array([[0.1, 0.3], [0.5, 0.7]])
    assert M.ssim(ramp, ramp + 0.2, data_range=1.0) == pytest.approx(0.9230917131320900, rel=1e-9)
    cols = np.array([[0.0, 1.0], [0.0, 1.0]])
    assert M.ssim(cols, 1 - cols, data_range=1.0) == pytest.approx(-0.997303640085884, rel=1e-9)


def test_ssim_is_symmetric_and_falls_with_noise(rng):
    a = rng.random((32, 40))
    noise = rng.standard_normal(a.shape)
    values = [M.ssim(a, a + s * noise, data_range=1.0) for s in (0.0, 0.02, 0.05, 0.1, 0.3, 1.0)]
    assert values[0] == pytest.approx(1.0, abs=1e-6)
    assert all(x > y for x, y in zip(values, values[1:], strict=False)), values
    b = a + 0.1 * noise
    assert M.ssim(a, b, data_range=1.0) == pytest.approx(M.ssim(b, a, data_range=1.0), abs=1e-6)


@pytest.mark.parametrize("shape", [(3, 16, 16), (3, 2, 5)])  # sliding windows, and one global window a channel
def test_ssim_averages_the_channels(shape, rng):
    a = rng.random(shape)
    b = np.clip(a + rng.normal(0, 0.2, a.shape), 0, 1)
    per_channel = [M.ssim(a[c], b[c], data_range=1.0) for c in range(3)]
    assert len({round(v, 3) for v in per_channel}) == 3  # the channels do differ, so the mean is a real check
    assert M.ssim(a, b, data_range=1.0) == pytest.approx(np.mean(per_channel), abs=1e-6)


def test_data_range_must_be_explicit(rng):
    a = rng.random((8, 8))
    with pytest.raises(ValueError, match="data_range must be given"):
        M.psnr(a, a, data_range=None)
    with pytest.raises(ValueError, match="data_range must be a positive number"):
        M.ssim(a, a, data_range=0.0)
    with pytest.raises(ValueError, match="same shape"):
        M.mse(a, a[:4])


def test_total_variation_hand_computed():
    # x = [[0, 1, 3], [2, 2, 2], [1, 0, 4]]: forward differences
    #   dx = x[i, j+1] - x[i, j] = [[1, 2], [0, 0], [-1, 4]]     dy = x[i+1, j] - x[i, j] = [[2, 1, -1], [-1, -2, 2]]
    # isotropic, over the 2x2 pixels with both neighbours: sqrt(1+4), sqrt(4+1), sqrt(0+1), sqrt(0+4)
    #   -> (2 sqrt(5) + 3) / 4 = 1.8680339887
    # anisotropic: mean |dx| = 8/6, mean |dy| = 9/6 -> 17/6
    # paper, over all 3x3 pixels with zero difference past the last row and column:
    #   row 0: sqrt(1+4), sqrt(4+1), sqrt(0+1); row 1: 1, 2, 2; row 2: 1, 4, 0 -> (2 sqrt(5) + 11) / 9 = 1.7191262172
    x = np.array([[0.0, 1.0, 3.0], [2.0, 2.0, 2.0], [1.0, 0.0, 4.0]])
    assert M.total_variation(x) == pytest.approx(1.868033988749895, rel=1e-12)
    assert M.total_variation(x, kind="isotropic") == pytest.approx(1.868033988749895, rel=1e-12)
    assert M.total_variation(x, kind="anisotropic") == pytest.approx(17 / 6, rel=1e-12)
    assert M.total_variation(x, kind="paper") == pytest.approx(1.7191262172221755, rel=1e-12)
    # a (C, H, W) stack: differences within each channel only, averaged over channels (1 and 3 times x: 2 times)
    stack = np.stack([x, 3 * x])
    for kind, want in (("isotropic", 1.868033988749895), ("anisotropic", 17 / 6), ("paper", 1.7191262172221755)):
        assert M.total_variation(stack, kind=kind) == pytest.approx(2 * want, rel=1e-12), kind
    # the 2x2 step: one interior pixel with dx = 1, dy = 0; the paper's formula (1 + 0 + 1 + 0) / 4
    step = np.array([[0.0, 1.0], [0.0, 1.0]])
    assert M.total_variation(step) == pytest.approx(1.0)
    assert M.total_variation(step, kind="anisotropic") == pytest.approx(1.0)
    assert M.total_variation(step, kind="paper") == pytest.approx(0.5)
    checker = np.indices((8, 8)).sum(0) % 2  # |dx| = |dy| = 1 everywhere: sqrt(2), and 1 + 1
    assert M.total_variation(checker) == pytest.approx(np.sqrt(2))
    assert M.total_variation(checker, kind="anisotropic") == pytest.approx(2.0)
    assert M.total_variation(np.full((5, 5), 0.3)) == 0.0
    with pytest.raises(ValueError, match="kind must be one of"):
        M.total_variation(x, kind="nope")


def test_residual_correlation():
    a = np.linspace(0, 1, 64).reshape(8, 8)
    assert M.residual_correlation(a, a * 0.5) == pytest.approx(-1.0)  # residual -a/2
    assert M.residual_correlation(a, a * 3) == pytest.approx(1.0)  # residual 2a
    assert M.residual_correlation(a, a) == 0.0
    dyadic = np.arange(64.0).reshape(8, 8) / 64  # + 0.25 is exact in binary floating point
    assert M.residual_correlation(dyadic, dyadic + 0.25) == 0.0  # a constant residual: defined as 0


def test_residual_correlation_of_a_rounded_tone_shift_is_zero():
    # (a + 0.25) - a differs from 0.25 by rounding (about 1e-17) where a = k/63; that noise is not a residual
    # related to the reference, yet it comes back as a correlation of 0.033.
    a = np.linspace(0, 1, 64).reshape(8, 8)
    assert M.residual_correlation(a, a + 0.25) == pytest.approx(0.0, abs=1e-6)


def test_csf_weighting_hand_computed():
    # Mannos-Sakrison A(f) = 2.6 (0.0192 + 0.114 f) exp(-(0.114 f)^1.1) peaks at f = 7.8909 cycles/degree with
    # A = 0.9808779 (maximized numerically); below the peak the weight is held at 1. At 32 pixels per degree:
    # * a DC error (f = 0) keeps full weight: a constant 0.1 error has CSF-weighted MSE 0.01, CSF-PSNR 20 dB (R = 1);
    # * a 1-cycle-per-image error on 64 pixels is at 0.5 cycles/degree, below the peak: weight 1, MSE kept;
    # * the Nyquist checkerboard sits at (0.5, 0.5) cycles/pixel = 0.7071 * 32 = 22.627 cycles/degree, one
    #   Fourier component of weight A(22.627) / 0.9808779 = 0.3963782 / 0.9808779 = 0.4041056: MSE times 0.1633013;
    # * vertical stripes of period 2 sit at 0.5 * 32 = 16 cycles/degree: weight 0.7042177, MSE times 0.4959226.
    n = 64
    ref = np.full((n, n), 0.5)
    i, j = np.indices((n, n))
    dc = ref + 0.1
    low = ref + 0.2 * np.sqrt(2) * np.sin(2 * np.pi * j / n)  # mean square 0.04
    checker = ref + 0.2 * ((i + j) % 2 * 2 - 1)  # mean square 0.04: the same energy
    stripes = ref + 0.2 * (j % 2 * 2 - 1)
    for test in (low, checker, stripes):
        assert M.mse(ref, test) == pytest.approx(0.04, rel=1e-12)
    assert M.csf_weighted_mse(ref, dc, pixels_per_degree=32.0) == pytest.approx(0.01, rel=1e-5)
    assert M.csf_psnr(ref, dc, data_range=1.0, pixels_per_degree=32.0) == pytest.approx(20.0, abs=1e-4)  # 10 log10(1 / 0.01)
    assert M.csf_psnr(ref, dc, data_range=2.0, pixels_per_degree=32.0) == pytest.approx(26.0206, abs=1e-4)  # 10 log10(4 / 0.01)
    assert M.csf_weighted_mse(ref, low, pixels_per_degree=32.0) == pytest.approx(0.04, rel=1e-5)
    assert M.csf_weighted_mse(ref, checker, pixels_per_degree=32.0) == pytest.approx(0.04 * 0.4041056 ** 2, rel=1e-4)
    assert M.csf_weighted_mse(ref, stripes, pixels_per_degree=32.0) == pytest.approx(0.04 * 0.7042177 ** 2, rel=1e-4)
    # further away the checkerboard is finer still: 64 pixels per degree puts it at 45.25 cycles/degree
    assert M.csf_weighted_mse(ref, checker, pixels_per_degree=64.0) < 0.2 * M.csf_weighted_mse(ref, checker, pixels_per_degree=32.0)
    assert M.csf_mannos_sakrison(np.array([0.0, 4.0]))[0] == 1.0
    assert M.csf_mannos_sakrison(np.array([22.627416997969522]))[0] == pytest.approx(0.4041056, rel=1e-4)
    assert M.csf_psnr(ref, ref, data_range=1.0) == float("inf")
    with pytest.raises(ValueError, match="pixels_per_degree must be positive"):
        M.csf_weighted_mse(ref, dc, pixels_per_degree=0.0)


def test_radial_spectrum_and_ratio(rng):
    white = rng.random((64, 64))
    f, p = M.radial_power_spectrum(white)
    assert f.min() > 0 and f.max() <= 0.5
    assert p.mean() == pytest.approx(white.var(), rel=0.2)  # white noise: flat at its variance
    # a cosine of 8 cycles across 64 pixels is one frequency, 0.125 cycles/pixel: the spectrum peaks in its bin
    # (bins 1/64 wide) and the ratio split at 0.25 cycles/pixel sees power only below the cut
    cosine = np.cos(2 * np.pi * 8 * np.arange(64) / 64)[None, :] * np.ones((64, 1))
    f, p = M.radial_power_spectrum(cosine)
    assert abs(f[np.argmax(p)] - 0.125) <= 1 / 128
    assert M.low_high_ratio(cosine) > 1e12
    checker = (np.indices((64, 64)).sum(0) % 2).astype(float)  # all its power at 0.7071 cycles/pixel, above the cut
    assert M.low_high_ratio(checker) < 1e-12
    assert 0.7 < M.low_high_ratio(white) < 1.3
    smooth = np.add.outer(np.linspace(0, 1, 64), np.linspace(0, 1, 64))
    assert M.low_high_ratio(smooth) > 10
    with pytest.raises(ValueError, match="cutoff"):
        M.low_high_ratio(white, cutoff=0.6)


def test_density_and_tone_error(rng):
    assert M.density(np.array([[-1, 1], [1, 1]])) == 0.75
    assert M.density(np.array([[0, 1], [0, 0]])) == 0.25
    # The tone error low-passes both maps with a Gaussian whose weights sum to 1, so a flat map stays itself:
    # flat 0.25 against flat 0.75 differ by 0.5 everywhere, and any map against itself plus 0.125 by 0.125.
    assert M.tone_error(np.full((16, 16), 0.25), np.full((16, 16), 0.75)) == pytest.approx(0.5, abs=1e-6)
    a = rng.random((16, 16))
    assert M.tone_error(a, a + 0.125) == pytest.approx(0.125, abs=1e-6)
    # A 0/1 checkerboard is all Nyquist texture of mean 0.5: a sigma-2 Gaussian passes exp(-2 pi^2 sigma^2 / 2)
    # per axis of it (about 1e-9), so it reads as flat 0.5: no error against 0.5, 0.25 against flat 0.25.
    checker = (np.indices((16, 16)).sum(0) % 2).astype(float)
    assert M.tone_error(np.full((16, 16), 0.5), checker) < 1e-6
    assert M.tone_error(np.full((16, 16), 0.25), checker) == pytest.approx(0.25, abs=1e-6)
    # channels are low-passed each on its own: 0 and 1 against 0.5 differ by 0.5 in each (not blurred together)
    two = np.stack([np.zeros((8, 8)), np.ones((8, 8))])
    assert M.tone_error(two, np.full((2, 8, 8), 0.5)) == pytest.approx(0.5, abs=1e-6)


def test_detail_metrics_hand_computed():
    # reference on (-3, 3), clipped: [[-4, -1.5], [1.5, 5]] -> [[0, 0.25], [0.75, 1]]; binary {-1, +1} -> {0, 1}:
    # [[-1, -1], [1, 1]] -> [[0, 0], [1, 1]]. Errors 0, 0.25, 0.25, 0: MSE 0.03125, PSNR 10 log10(32) = 15.0515 dB.
    # TV (isotropic, one interior pixel): reference dx 0.25, dy 0.75 -> sqrt(0.625) = 0.7905694; binary dx 0,
    # dy 1 -> 1; ratio 1.2649111. Density of +1s 0.5.
    y = np.array([[-4.0, -1.5], [1.5, 5.0]])
    b = np.array([[-1.0, -1.0], [1.0, 1.0]])
    m = M.detail_metrics(y, b, value_range=(-3, 3), binary_values=(-1, 1))
    assert m["value_range"] == [-3.0, 3.0] and m["binary_values"] == [-1.0, 1.0]
    assert m["mse"] == pytest.approx(0.03125, rel=1e-12)
    assert m["psnr"] == pytest.approx(15.051499783199061, rel=1e-12)
    assert m["tv_reference"] == pytest.approx(0.7905694150420949, rel=1e-12)
    assert m["tv_binary"] == pytest.approx(1.0, rel=1e-12)
    assert m["tv_ratio"] == pytest.approx(1.2649110640673518, rel=1e-12)
    assert m["density"] == 0.5
    np.testing.assert_array_equal(M.to_unit_range(y, value_range=(-3, 3)), [[0.0, 0.25], [0.75, 1.0]])
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
    assert res["tile"] == (5, 6)
    for key in ("real", "Sign", "dithered", "shifted"):
        assert res["shown"][key].shape == (3 * 5 + 2, 4 * 6 + 3)
    for c in range(10):
        i, j = divmod(c, 4)
        one = compare_activation(bn[c], "preset:design3d-2x2x4", channel=c)["shown"]
        for key in ("real", "Sign", "dithered", "shifted"):  # shifted: Sign at this channel's slice's mean
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


def test_viewing_conditions():
    # 300 dpi at 30 cm: 300 / 2.54 pixels per cm, and one degree spans 30 tan(1 deg) = 0.52360 cm -> 61.85 px/deg
    assert M.VIEWING["print"].pixels_per_degree == pytest.approx(61.8487, abs=1e-3)
    assert M.VIEWING["screen"].pixels_per_degree == pytest.approx(96 / 2.54 * 50 * np.tan(np.radians(1)))
    assert M.DEFAULT_PPD == M.VIEWING["print"].pixels_per_degree
    assert M.viewing_ppd("screen") == M.VIEWING["screen"].pixels_per_degree and M.viewing_ppd("40") == 40.0
    for bad in ("nope", "-3", "0", "nan"):
        with pytest.raises(ValueError, match="viewing|pixels per degree"):
            M.viewing_ppd(bad)
    assert "300 dpi" in M.describe_viewing(M.DEFAULT_PPD) and M.describe_viewing(40.0) == "40.0 pixels/degree"


def test_dithering_a_photo_is_well_ahead_of_sign_to_the_eye_at_the_default_condition():
    # The halftoning result: seen as a print is, the eye averages the dither texture and keeps the tone, which
    # Sign loses. Measured on the camera photo: blue noise 17.3 dB against Sign's 11.7 at 61.8 px/deg.
    from dither_lab import ordered_dither
    from dither_lab.imaging.samples import sample_image

    img = sample_image("camera")
    sign, blue = ordered_dither(img, "sign"), ordered_dither(img, "blue-noise:64")
    # the figures README.md and docs/python-api.md give
    printed = [M.csf_psnr(img, b, data_range=1.0) for b in (blue, sign)]
    assert printed == pytest.approx([17.3, 11.7], abs=0.05) and printed[0] - printed[1] >= 3.0
    # on a screen seen 1:1 the texture is still resolved: blue noise falls behind Sign
    screen = M.viewing_ppd("screen")
    seen = [M.csf_psnr(img, b, data_range=1.0, pixels_per_degree=screen) for b in (blue, sign)]
    assert seen == pytest.approx([10.0, 11.3], abs=0.05)


def test_local_correlation_ignores_a_shift_but_not_lost_detail():
    y, x = np.mgrid[0:64, 0:64] / 63.0
    ramp = x.astype(np.float64)
    assert M.local_correlation(ramp, ramp + 0.3) == pytest.approx(1.0)  # a shift keeps every detail
    assert M.local_correlation(ramp, 0.5 * ramp) == pytest.approx(1.0)  # so does a scale
    flat = np.full_like(ramp, 0.5)
    assert M.local_correlation(ramp, flat) == 0.0  # nothing kept
    rng = np.random.default_rng(0)
    assert abs(M.local_correlation(ramp, rng.random(ramp.shape))) < 0.2  # unrelated


def test_best_index_follows_each_direction():
    assert M.best_index([1.0, 3.0, 2.0], "higher") == 1
    assert M.best_index([1.0, 3.0, 2.0], "lower") == 0
    assert M.best_index([0.2, 1.3, 0.95], "near 1") == 2
    assert M.best_index([0.3, -0.05, 0.2], "near 0") == 1
    assert M.best_index([0.64, 0.28, 0.51], "near the input's mean", target=0.506) == 2
    assert M.best_index([None, float("nan")], "higher") is None
    # every value as good as the best: ties by the direction's score, within float rounding
    assert M.best_indices([0.95, 1.05, 1.2], "near 1") == [0, 1] and M.best_indices([0.3, 0.1 + 0.2], "higher") == [0, 1]
    assert M.best_indices([0.5, 0.7, 0.3], "near the input's mean", target=0.5) == [0]
    assert M.best_indices([None, 2.0, float("nan"), 2.0], "lower") == [1, 3] and M.best_indices([None], "lower") == []
    for key, info in M.METRICS.items():
        assert info.better in ("higher", "lower", "near 1", "near 0", "near the input's mean"), key
