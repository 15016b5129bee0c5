"""Feature maps: the shift a kernel's mean threshold brings apart from the detail it keeps, layers named for people,
and the takeaways computed from the numbers."""

from __future__ import annotations

import numpy as np
import pytest

from dither_lab.nn.feature_maps import compare_activation, layer_summary, summary_takeaway, takeaway


def _ramp_map(seed=0):
    # a smooth map with local structure (what a dithered threshold can keep) plus a little noise
    y, x = np.mgrid[0:32, 0:32]
    g = np.random.default_rng(seed).normal(0, 0.2, (32, 32))
    return (1.5 * np.sin(x / 5.0) * np.cos(y / 7.0) + g).astype(np.float32)


def test_the_shifted_sign_has_the_kernels_mean_threshold():
    real = _ramp_map()
    res = compare_activation(real, "preset:design-2x2-a")
    assert res["shift"] == pytest.approx(np.mean([0.6310, 0.6310, 0.3118, 0.9671]))  # the authors' table
    np.testing.assert_array_equal(res["shifted"], np.where(real >= np.float32(res["shift"]), 1.0, -1.0))
    # same shift of the share of +1s, one threshold: the kernel and the shifted Sign turn on about as many
    assert abs(res["metrics"]["dithered"]["density"] - res["metrics"]["shifted Sign"]["density"]) < 0.05
    assert res["metrics"]["Sign"]["density"] - res["metrics"]["dithered"]["density"] > 0.1


def test_a_dithered_kernel_keeps_more_detail_than_sign_at_its_shift():
    res = compare_activation(_ramp_map(), "preset:design-2x2-a")
    lc = {k: v["local_correlation"] for k, v in res["metrics"].items()}
    assert lc["dithered"] > lc["shifted Sign"]
    text = takeaway(res, "DeSign 2x2")
    assert "average +0.64" in text and "more local detail" in text and f"{lc['dithered']:.3f}" in text


def test_a_centred_kernel_is_compared_with_plain_sign():
    res = compare_activation(_ramp_map(), "bayer:4")
    assert abs(res["shift"]) < 1e-12  # Gaussian quantiles of uniform ranks are symmetric about 0
    assert "centred on 0" in takeaway(res, "Bayer 4x4")


def test_layer_summary_reports_the_networks_shift_and_detail_per_layer(rng):
    bns = {"a": _ramp_map()[None].repeat(3, 0) + 0.4, "b": rng.normal(-0.5, 1, (5, 8, 8)).astype(np.float32)}
    rows = layer_summary(bns, "preset:design-2x2-a")
    for r, bn in zip(rows, bns.values(), strict=True):
        assert r["bn_mean"] == pytest.approx(float(bn.mean()), abs=1e-6)
        assert r["kernel_mean"] == pytest.approx(0.6352, abs=1e-4)
        assert -1 <= r["shifted_detail"] <= 1 and -1 <= r["dithered_detail"] <= 1
    assert rows[0]["dithered_detail"] > rows[0]["shifted_detail"]
    text = summary_takeaway(rows, "DeSign 2x2")
    assert "Sign shifted to the kernel's mean threshold" in text and "of 2 binary layers" in text


def test_describe_layers_names_them_for_people():
    import torch

    from dither_lab.nn.cost import layer_shapes
    from dither_lab.nn.models import build_model, describe_layers

    torch.manual_seed(0)
    res = build_model("resnet-20", in_channels=3, width=0.25)
    names = describe_layers(res, layer_shapes(res))
    assert list(names.values())[0] == "stage 1, block 1, conv 1: 4 channels, 32x32"
    assert list(names.values())[7] == "stage 2, block 1, conv 2: 8 channels, 16x16"
    assert list(names.values())[-1] == "stage 3, block 3, conv 2: 16 channels, 8x8"
    vgg = build_model("fmnist-net", in_channels=1, image_size=28, width=0.25)
    assert list(describe_layers(vgg, layer_shapes(vgg)).values()) == [
        "conv 1: 16 channels, 28x28", "conv 2: 16 channels, 14x14", "conv 3: 32 channels, 14x14",
        "conv 4: 32 channels, 7x7"]
