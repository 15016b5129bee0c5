import copy

import numpy as np
import pytest
import torch

from dither_lab.activation import fold_batchnorm_thresholds
from dither_lab.nn.cost import inference_time, kernel_cost, layer_shapes, threshold_tables
from dither_lab.nn.models import binary_layers, build_model, model_nbytes


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    m = build_model("fmnist-net", in_channels=1, image_size=28, width=0.25, activation="design")
    for layer in binary_layers(m).values():  # batch-norm statistics with every channel different
        bn = layer.bn
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.data.uniform_(0.5, 2)
        bn.bias.data.uniform_(-0.5, 0.5)
    return m.eval()


@pytest.mark.parametrize("spec", ["sign", "bayer:4", "random:3x3:seed=1", "random:4x2x2:seed=1", "bayer:16"])
def test_thresholds_are_the_distinct_values_of_the_folded_maps(net, spec):
    # An independent count: fold each layer's batch norm with the kernel and count the distinct thresholds of each
    # channel's map (kernels whose cells all differ; the paper's 2x2 repeats a value, and a table still holds it
    # twice). bayer:16 is larger than the 7x7 and 14x14 maps, so those hold fewer than its 256 cells.
    cost = kernel_cost(net, spec)
    shapes = layer_shapes(net)
    for row, (name, layer) in zip(cost["rows"], binary_layers(net).items(), strict=True):
        c, h, w = shapes[name]
        theta, _, _ = fold_batchnorm_thresholds(layer.bn, spec, h, w)
        distinct = sum(len(np.unique(theta[i].numpy())) for i in range(c))
        assert row["thresholds"] == distinct and row["sign_thresholds"] == c and row["compares"] == c * h * w
    assert cost["thresholds"] == sum(r["thresholds"] for r in cost["rows"])
    assert cost["extra_bytes"] == 4 * (cost["thresholds"] - cost["sign_thresholds"])
    assert cost["extra_share"] == pytest.approx(cost["extra_bytes"] / model_nbytes(net)["total"])
    assert cost["extra_macs"] == 0
    if spec == "sign":
        assert cost["extra_thresholds"] == 0


def test_own_kernels_layers_and_the_model_left_alone(net):
    before = copy.deepcopy(net.state_dict())
    own = kernel_cost(net)  # the paper's 2x2 in every layer: 4 thresholds a channel
    assert own["thresholds"] == 4 * own["sign_thresholds"]
    one = kernel_cost(net, "sign", layers=[1])
    assert [r["kernel"] for r in one["rows"]] == ["preset:design-2x2-a", "sign", "preset:design-2x2-a", "preset:design-2x2-a"]
    assert one["rows"][1]["thresholds"] == one["rows"][1]["channels"]
    inference_time(net, "bayer:4", batch=4, repeats=1)
    assert [layer.kernel.spec for layer in binary_layers(net).values()] == ["preset:design-2x2-a"] * 4
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items()) and not net.training
    with pytest.raises(ValueError, match="out of range"):
        kernel_cost(net, "bayer:4", layers=[9])


def test_inference_time_is_measured_against_sign(net):
    t = inference_time(net, "bayer:4", batch=8, repeats=2)
    assert t["seconds_per_image"] > 0 and t["sign_seconds_per_image"] > 0
    assert t["ratio"] == pytest.approx(t["seconds_per_image"] / t["sign_seconds_per_image"])
    with pytest.raises(ValueError, match="batch and repeats"):
        inference_time(net, batch=0)


@pytest.mark.parametrize("spec", ["preset:design-2x2-a", "random:4x2x2:seed=1", "bayer:16"])
def test_threshold_tables_rebuild_what_the_model_computes(net, spec):
    # The stored tables, tiled by the rule they come with, must give the binary outputs the model computes; a
    # channel with negative gamma fires below its thresholds.
    net = copy.deepcopy(net)
    layer0 = next(iter(binary_layers(net).values()))
    layer0.bn.weight.data[3] = -layer0.bn.weight.data[3]
    tables = threshold_tables(net, spec)
    assert sum(t["theta"].numel() for t in tables.values()) == kernel_cost(net, spec)["thresholds"]
    swapped = copy.deepcopy(net)
    for layer in binary_layers(swapped).values():
        layer.set_kernel(spec)
        layer.record = True  # runs the unfolded path (batch norm, then the dithered Sign): an independent reference
    inputs = {}
    hooks = [m.register_forward_hook(lambda mod, inp, out, n=n: inputs.__setitem__(n, (inp[0], out)))
             for n, m in binary_layers(swapped).items()]
    with torch.no_grad():
        swapped.eval()(torch.randn(2, 1, 28, 28, generator=torch.Generator().manual_seed(0)))
    for h in hooks:
        h.remove()
    assert tables[next(iter(tables))]["high"][3] == -1
    for name, t in tables.items():
        x, want = inputs[name]
        c, h, w = t["shape"]
        m, n = t["theta"].shape[1:]
        theta = t["theta"].repeat(1, -(-h // m), -(-w // n))[:, :h, :w]
        high = t["high"][:, None, None]
        got = torch.where(x >= theta, high, -high)
        assert torch.equal(got, want), name


def test_engine_row_reads_both_engines_and_the_program():
    from dither_lab.nn.cost import engine_row

    class Program:
        def nbytes(self):
            return {"total": 68_456}

    times = {"float": {"seconds_per_image": 4e-4, "ratio": 1.06}, "packed": {"seconds_per_image": 5e-5, "ratio": 0.99}}
    row = engine_row("DeSign 2x2", times, Program())
    assert row["float (ms / image) ↓"] == 0.4 and row["packed (ms / image) ↓"] == 0.05
    assert row["packed speedup ↑"] == 8.0 and row["packed / Sign"] == 0.99 and row["packed program (bytes) ↓"] == 68_456
    assert row["kernel"] == "DeSign 2x2" and "spec" not in row  # the timing table fits beside the kernel's name


def test_inference_time_takes_the_median_or_the_fastest_run(net, monkeypatch):
    import types

    import dither_lab.nn.cost as cost

    def clock(durations):  # kernel and Sign alternate: each run reads the clock before and after
        marks = iter([t for i, d in enumerate(durations) for t in (10.0 * i, 10.0 * i + d)])
        return types.SimpleNamespace(perf_counter=lambda: next(marks))

    runs = [3.0, 2.0, 1.0, 2.0, 2.0, 4.0]  # kernel 3, 1, 2 and Sign 2, 2, 4 seconds
    monkeypatch.setattr(cost, "time", clock(runs))
    median = inference_time(net, "bayer:4", batch=2, repeats=3)
    assert (median["seconds_per_image"], median["sign_seconds_per_image"], median["ratio"]) == (1.0, 1.0, 1.0)
    monkeypatch.setattr(cost, "time", clock(runs))
    fastest = inference_time(net, "bayer:4", batch=2, repeats=3, statistic="min")
    assert (fastest["seconds_per_image"], fastest["sign_seconds_per_image"], fastest["ratio"]) == (0.5, 1.0, 0.5)
    with pytest.raises(ValueError, match="statistic must be one of 'median', 'min'"):
        inference_time(net, statistic="mean")


def test_timing_note_gives_the_runs_noise_and_names_ratios_past_it():
    from dither_lab.nn.cost import timing_note, timing_plan

    timed, noise = timing_plan([("Bayer 4x4", "bayer:4")])
    assert timed == [("trained kernels", None), ("Bayer 4x4", "bayer:4"), ("Sign (against itself)", "sign")]
    assert noise == 2 and timing_plan([("Sign", "sign")]) == ([("trained kernels", None), ("Sign", "sign")], 1)
    rows = [{"kernel": "trained kernels", "float / Sign": 0.9, "packed / Sign": 1.02},
            {"kernel": "Bayer 4x4", "float / Sign": 1.01, "packed / Sign": 1.18},
            {"kernel": "Bayer 8x8", "float / Sign": 1.1, "packed / Sign": 1.0},
            {"kernel": "Sign (against itself)", "float / Sign": 0.98, "packed / Sign": 1.0}]
    text = timing_note(rows, 3)
    assert "Sign timed against itself (row *Sign (against itself)*), 1.00 without noise, came out at 0.98 on float " \
           "and 1.00 packed; ratios within 10% of 1.00 are noise here" in text
    # 0.90 and 1.10 are both 10% from 1.00, as shown: neither is past it; 1.18 is
    assert "Further from 1.00 in this run: Bayer 4x4; time again, or measure on a quiet machine. On a quiet " \
           "machine, `dither-lab cost --model NAME --kernel SPEC --time` measures the same." in text
    noisy = timing_note([*rows[:3], dict(rows[3], **{"float / Sign": 0.8})], 3)  # Sign against itself 20% off
    assert "ratios within 20% of 1.00 are noise here" in noisy and "Further" not in noisy  # nor the noise row itself
    quiet = timing_note(rows[3:], 0)
    assert "Further" not in quiet and "On a quiet machine, `dither-lab cost" in quiet
