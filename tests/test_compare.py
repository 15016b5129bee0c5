"""Binarizations compared: one name per kernel, the takeaway, the tone shifts it explains, the shared error scale and
the exports."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from dither_lab.imaging.compare import (
    METRIC_LABELS,
    compare,
    error_scale,
    metrics_csv,
    metrics_json,
    takeaway,
    tone_shifts,
)
from dither_lab.imaging.metrics import VIEWING
from dither_lab.imaging.samples import sample_image

NAMES = {"sign": "Sign", "bayer:4": "Bayer 4x4", "blue-noise:64": "Blue noise 64",
         "preset:design-2x2-a": "DeSign 2x2 (paper)", "preset:design-3x3-a": "DeSign 3x3 (paper)"}


@pytest.fixture(scope="module")
def camera():
    return sample_image("camera")


def test_names_label_every_output(camera):
    outs = compare(camera, ["bayer:4", "preset:design-2x2-a", "diffusion:atkinson"], names=NAMES)
    assert [o.label for o in outs] == ["Sign", "Bayer 4x4", "DeSign 2x2 (paper)", "Atkinson diffusion"]
    assert list(metrics_json(outs)) == [o.label for o in outs]
    assert metrics_json(outs)["DeSign 2x2 (paper)"]["spec"] == "preset:design-2x2-a"


def test_the_takeaway_at_print_puts_dithering_ahead_and_says_the_paper_kernels_darken(camera):
    outs = compare(camera, list(NAMES)[1:], names=NAMES)
    text = takeaway(outs)
    assert text.startswith("Blue noise 64 keeps local tone 16x better than Sign: tone error 0.013 against 0.210.")
    assert "Printed at 300 dpi, seen from 30 cm (61.8 pixels/degree), Bayer 4x4 looks 7.4 dB closer" in text
    assert "DeSign 2x2 (paper) and DeSign 3x3 (paper) darken the image: 28% and 21% of their pixels are white " \
           "against the input's mean of 51%, because all their thresholds lie above mid-gray: 0.62 to 0.83" in text
    assert "Pixel by pixel (PSNR and SSIM) Sign scores higher than every kernel" in text


def test_the_takeaway_follows_the_viewing_condition(camera):
    screen = takeaway(compare(camera, ["bayer:4"], names=NAMES, pixels_per_degree=VIEWING["screen"].pixels_per_degree))
    assert "Shown 1:1 at 96 pixels per inch, seen from 50 cm (33.0 pixels/degree), Bayer 4x4 looks 0.5 dB" in screen
    custom = takeaway(compare(camera, ["bayer:4"], names=NAMES, pixels_per_degree=40.0))
    assert "Seen at 40.0 pixels/degree, Bayer 4x4 looks" in custom
    far = compare(camera, ["bayer:4"], pixels_per_degree=200.0)
    near = compare(camera, ["bayer:4"], pixels_per_degree=10.0)
    assert far[1].metrics["csf_psnr"] > near[1].metrics["csf_psnr"]  # the texture fades with distance


def test_only_kernels_whose_thresholds_sit_off_mid_gray_are_said_to_shift_the_tone(camera):
    assert tone_shifts(compare(camera, ["bayer:4", "blue-noise:64"])) == []
    # a Bayer of low strength lightens the camera as Sign does, through the image, not its thresholds
    assert tone_shifts(compare(camera, ["bayer:4:strength=0.2"])) == []
    outs = compare(camera, ["custom:0.1,0.3;0.2,0.4"], names={"custom:0.1,0.3;0.2,0.4": "low"})
    share = outs[1].metrics["density"]
    assert share > 0.51 + 0.08
    assert tone_shifts(outs) == [f"low lightens the image: {share:.0%} of its pixels are white against the input's "
                                 "mean of 51%, because all its thresholds lie below mid-gray: 0.10 to 0.40 in image "
                                 "units."]
    dark = tone_shifts(compare(camera, ["preset:design-2x2-a"], names=NAMES))[0]
    assert dark.startswith("DeSign 2x2 (paper) darkens the image") and "the paper's levels" in dark


def test_one_error_scale_covers_every_map(camera):
    outs = compare(camera, ["bayer:4", "preset:design-3x3-a"])
    top = error_scale(outs)
    assert all(np.abs(o.error).max() <= top for o in outs)
    assert top - max(float(np.abs(o.error).max()) for o in outs) < 0.05 and round(top / 0.05, 6).is_integer()


def test_the_csv_holds_every_metric_and_quotes_names_with_commas(camera):
    outs = compare(camera, ["bayer:4:strength=0.5"])
    rows = list(csv.DictReader(io.StringIO(metrics_csv(outs))))
    assert [r["output"] for r in rows] == ["Sign (one threshold)", "Bayer 4x4, strength 0.5"]
    assert set(METRIC_LABELS.values()) <= set(rows[0])
    assert float(rows[1][METRIC_LABELS["tone_error"]]) == pytest.approx(outs[1].metrics["tone_error"])


def test_the_spectrum_is_of_the_error_so_dithering_moves_it_to_high_frequencies(camera):
    from dither_lab.imaging.compare import compare
    from dither_lab.imaging.metrics import radial_power_spectrum

    def low_share(o):
        f, p = o.spectrum
        return p[f < 0.25].sum() / p.sum()

    sign, bayer, blue = compare(camera, ["bayer:4", "blue-noise:64"])
    np.testing.assert_allclose(blue.spectrum[1], radial_power_spectrum(blue.binary - camera)[1], rtol=1e-6)
    # Sign's error follows the photo's shapes; an ordered dither's sits mostly above a quarter cycle per pixel
    assert low_share(sign) > 0.8 and low_share(bayer) < 0.2 and low_share(blue) < 0.2
