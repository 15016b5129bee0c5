"""The kernel preview: the tiled map, the ramp, the spectrum, the cost and the takeaway, against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtr

from dither_lab.activation import dithered_sign
from dither_lab.imaging.metrics import radial_power_spectrum
from dither_lab.imaging.preview import RAMP, kernel_preview, kernel_takeaway
from dither_lab.kernels import make_kernel, tile


@pytest.mark.parametrize("spec", ["bayer:4", "preset:design-2x2-a", "random:3x5:seed=2", "blue-noise:8"])
def test_preview_matches_the_core_functions(spec):
    k = make_kernel(spec)
    p = kernel_preview(spec)
    np.testing.assert_array_equal(p.tiled, tile(k.values, 32, 32))
    assert p.ramp.shape == (16, 128) and p.ramp[0, 0] == RAMP[0] and p.ramp[0, -1] == RAMP[1]
    np.testing.assert_array_equal(p.ramp_kernel, (dithered_sign(p.ramp, k.values) > 0).astype(np.uint8))
    np.testing.assert_array_equal(p.ramp_sign, (p.ramp >= 0).astype(np.uint8))  # sign(0) = +1
    f, pw = radial_power_spectrum(tile(k.values, 64, 64))
    np.testing.assert_allclose(p.spectrum[0], f)
    np.testing.assert_allclose(p.spectrum[1], pw)
    assert p.thresholds_per_channel == k.shape[-2] * k.shape[-1] == p.stored
    assert p.mean_threshold == pytest.approx(k.values.mean())


def test_share_of_a_standard_normal_map_turned_on():
    # P(y >= t) for y ~ N(0, 1), averaged over the cells: the paper's 2x2 turns on about 27%, centred kernels half
    p = kernel_preview("preset:design-2x2-a")
    t = np.array([0.631, 0.631, 0.3118, 0.9671])
    assert p.share_on == pytest.approx(float(np.mean(1 - ndtr(t))))
    assert round(p.share_on, 2) == 0.27
    assert kernel_preview("bayer:8").share_on == pytest.approx(0.5)
    # measured on a large standard-normal map, the share agrees
    y = np.random.default_rng(0).standard_normal((512, 512))
    on = float((dithered_sign(y, "preset:design-2x2-a") > 0).mean())
    assert on == pytest.approx(p.share_on, abs=0.005)


def test_a_3d_kernel_costs_one_slice_per_channel_and_shows_the_slice_asked():
    p = kernel_preview("preset:design3d-2x2x4", slice=2)
    k = make_kernel("preset:design3d-2x2x4")
    np.testing.assert_array_equal(p.tiled, tile(k.values[2], 32, 32))
    assert p.thresholds_per_channel == 4 and p.stored == 16
    with pytest.raises(ValueError, match="slice must be in 0..3"):
        kernel_preview(k, slice=4)
    with pytest.raises(ValueError, match="slice must be in 0..0"):
        kernel_preview("bayer:2", slice=1)


@pytest.mark.parametrize(("spec", "constant"), [("constant:0.5", 0.5), ("levels:5,5;5,5", 1.3352), ("sign", 0.0),
                                                ("custom:0.2,0.2|0.2,0.2", 0.2), ("bayer:2", None)])
def test_a_constant_kernel_is_found(spec, constant):
    assert kernel_preview(spec).constant == (pytest.approx(constant) if constant is not None else None)


def test_takeaways_say_what_the_thresholds_do():
    moved = kernel_takeaway(kernel_preview("levels:5,5;5,5"))
    assert moved.startswith("Every threshold is 1.335: this kernel is Sign moved by 1.335, not a dither")
    assert "turns on 9% of a standard-normal map" in moved
    assert "plain Sign" in kernel_takeaway(kernel_preview("sign"))
    paper = kernel_takeaway(kernel_preview("preset:design-2x2-a"))
    assert "run from 0.31 to 0.97, mean 0.64" in paper and "turns on 27% of the activations" in paper
    assert "fewer activations fire" in paper and "needs 4 thresholds per channel" in paper
    centred = kernel_takeaway(kernel_preview("bayer:4"))
    assert "turns on 50% of the activations, as Sign does, so the map keeps its balance" in centred
    assert "16 thresholds per channel" in centred
    assert "more activations fire" in kernel_takeaway(kernel_preview("custom:-0.5,-1;0,-0.2"))
