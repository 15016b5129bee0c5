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


def test_comparison_rows_name_each_output_as_the_app_does():
    from dither_lab.imaging.compare import METRIC_LABELS
    from dither_lab.nn.feature_maps import comparison_rows, shifted_label

    res = compare_activation(_ramp_map(), "preset:design-2x2-a")
    rows = comparison_rows(res, "DeSign 2x2 (paper)")
    # one name per output: the library's name of the kernel, and Sign at the kernel's own mean threshold
    assert [r["output"] for r in rows] == ["Sign", "DeSign 2x2 (paper)", "Sign at +0.64 (kernel mean)"]
    assert shifted_label(-0.004) == "Sign at +0.00 (kernel mean)" and shifted_label(-0.25) == "Sign at -0.25 (kernel mean)"
    assert list(rows[0])[1:] == list(METRIC_LABELS.values())  # tone and detail first, each with its direction
    for row, key in zip(rows, ("Sign", "dithered", "shifted Sign"), strict=True):
        assert row[METRIC_LABELS["local_correlation"]] == res["metrics"][key]["local_correlation"]


def test_channel_detail_is_what_layer_summary_averages(rng):
    from dither_lab.imaging.metrics import local_correlation
    from dither_lab.nn.feature_maps import channel_detail

    bn = np.stack([_ramp_map(0), 0.2 * _ramp_map(1), rng.normal(0, 1, (32, 32)).astype(np.float32)])
    d = channel_detail(bn, "preset:design-2x2-a")
    row = layer_summary({"a": bn}, "preset:design-2x2-a")[0]
    for key, col in (("Sign", "sign_detail"), ("dithered", "dithered_detail"), ("shifted Sign", "shifted_detail")):
        assert d[key].shape == (3,) and d[key].mean() == pytest.approx(row[col])
    one = compare_activation(bn[0], "preset:design-2x2-a")
    assert d["dithered"][0] == pytest.approx(local_correlation(bn[0], one["dithered"]))
    # channel 1 lies wholly below the kernel's mean threshold (+0.64): Sign at that mean turns all of it -1 and keeps
    # nothing, while Sign still draws its shape
    assert bn[1].max() < 0.635 and d["shifted Sign"][1] == 0.0 and d["Sign"][1] > 0.5
    with pytest.raises(ValueError, match="C, H, W"):
        channel_detail(bn[0], "sign")


def test_layer_rows_put_the_detail_of_the_three_side_by_side():
    from dither_lab.nn.feature_maps import detail_columns, layer_parts, layer_rows

    bns = {"features.0": _ramp_map()[None].repeat(2, 0), "features.3": _ramp_map(2)[None, :16, :16] - 0.5}
    summary = layer_summary(bns, "preset:design-2x2-a")  # not centred: Sign at its mean too
    rows = layer_rows(summary, "DeSign 2x2", {"features.0": "conv 1", "features.3": "conv 2"})
    assert [r["layer"] for r in rows] == ["0: conv 1", "1: conv 2"]  # numbered from 0, as the command line
    assert rows[1]["maps"] == "1 x 16x16"
    sign, kern, shift = detail_columns("DeSign 2x2")
    assert (sign, kern, shift) == ("detail: Sign ↑", "detail: DeSign 2x2 ↑", "detail: shifted Sign ↑")
    assert list(rows[0])[1:4] == [sign, kern, shift]  # the comparison first, after the layer
    detail, network = layer_parts(rows)
    assert list(detail[0]) == ["layer", sign, kern, shift] and network[0]["layer"] == "0: conv 1"
    assert sign not in network[0] and list(network[0])[1:] == ["maps", "BN mean", "+1s: Sign (%)",
                                                                "+1s: DeSign 2x2 (%)", "bits flipped (%)"]
    centred = layer_rows(layer_summary(bns, "bayer:4"), "Bayer 4x4")  # Sign at a centred kernel's mean is Sign
    assert shift not in centred[0] and list(layer_parts(centred)[0][0]) == ["layer", sign, "detail: Bayer 4x4 ↑"]
    assert rows[0][kern] == round(summary[0]["dithered_detail"], 3)
    assert rows[1]["BN mean"] == round(float(bns["features.3"].mean()), 2)
    assert rows[0]["+1s: DeSign 2x2 (%)"] == round(100 * summary[0]["dithered_ones"], 1)
    assert layer_rows(summary, "DeSign 2x2")[0]["layer"] == "0: features.0"  # no places: the module's name


def test_layer_places_follow_the_architecture():
    from dither_lab.nn.models import build_model, layer_places

    res = build_model("resnet-20", in_channels=3, width=0.25)
    places = list(layer_places(res).values())
    assert len(places) == 18 and places[7] == "stage 2, block 1, conv 2" and places[-1] == "stage 3, block 3, conv 2"
    vgg = build_model("fmnist-net", in_channels=1, image_size=28, width=0.25)
    assert list(layer_places(vgg).values()) == ["conv 1", "conv 2", "conv 3", "conv 4"]


def test_most_detail_gained_finds_the_channel_the_shift_alone_loses():
    from dither_lab.nn.feature_maps import channel_detail, most_detail_gained

    low = 0.2 * _ramp_map(1)  # wholly below the kernel's mean (+0.64): Sign at that mean keeps nothing of it
    bns = {"a": np.stack([_ramp_map(0), _ramp_map(3)]), "b": np.stack([_ramp_map(2), low + 0.3, low])}
    best = most_detail_gained(bns, "preset:design-2x2-a")
    gains = {}
    for n, bn in bns.items():  # the kernel against the better of Sign and Sign at its mean: what its pattern adds
        d = channel_detail(bn, "preset:design-2x2-a")
        gains |= {(n, c): g for c, g in enumerate(d["dithered"] - np.maximum(d["Sign"], d["shifted Sign"]))}
    assert (best["layer"], best["channel"]) == max(gains, key=gains.get) and best["index"] == ["a", "b"].index(best["layer"])
    assert best["gain"] == pytest.approx(max(gains.values())) and best["gain"] > 0
    d = best["detail"]
    assert d["dithered"] - max(d["Sign"], d["shifted Sign"]) == pytest.approx(best["gain"])
    in_layer = [g for (n, _), g in gains.items() if n == best["layer"]]
    assert (best["ahead"], best["channels"]) == (sum(g > 0 for g in in_layer), len(in_layer))
    with pytest.raises(ValueError, match="at least one"):
        most_detail_gained({}, "sign")


def test_summary_takeaway_says_when_plain_sign_keeps_more_than_the_kernel():
    row = {"kernel_mean": 0.6, "kernel_shift": 0.6, "bn_mean": 0.1, "dithered_ones": 0.3, "sign_ones": 0.5}
    rows = [dict(row, sign_detail=0.76, dithered_detail=0.70, shifted_detail=0.53),
            dict(row, sign_detail=0.60, dithered_detail=0.65, shifted_detail=0.50)]
    text = summary_takeaway(rows, "K")
    assert "in 2 of 2 binary layers" in text  # against Sign at the same shift
    assert ("Plain Sign, unshifted, keeps more than K in 1 of the 2 layers; in each, the kernel's shift loses more "
            "detail than its pattern wins back.") in text
    assert "Plain Sign" not in summary_takeaway([rows[1]], "K")


def test_a_3d_kernel_whose_slices_cancel_still_shifts_each_channel():
    from dither_lab.nn.feature_maps import detail_columns, layer_rows, shifted_sign_name

    k = np.stack([np.full((2, 2), 0.8), np.full((2, 2), -0.8)]).astype(np.float32)  # slice means +0.8 and -0.8
    bns = {"a": np.stack([_ramp_map(), _ramp_map(1)])}
    rows = layer_summary(bns, k)
    assert rows[0]["kernel_mean"] == pytest.approx(0.0, abs=1e-6) and rows[0]["kernel_shift"] == pytest.approx(0.8)
    assert detail_columns("K")[2] in layer_rows(rows, "K")[0]  # Sign at each channel's shift is compared
    assert "Sign shifted to the kernel's mean threshold" in summary_takeaway(rows, "K")
    assert shifted_sign_name(rows, "K") == "Sign at the mean of K's slice for each channel"
    flat = layer_summary(bns, "preset:design-2x2-a")
    assert shifted_sign_name(flat, "D") == "Sign at D's mean threshold (+0.64)"
