import numpy as np
import pytest
import torch

from dither_lab.nn.models import (
    ACTIVATIONS,
    BinaryActivation,
    binary_layers,
    build_model,
    export_tensors,
    import_tensors,
    load_model,
    model_nbytes,
    record_taps,
    save_model,
    set_kernel,
)


def small(arch="fmnist-net", **kw):
    cin, size = (1, 28) if arch == "fmnist-net" else (3, 32)
    torch.manual_seed(0)
    return build_model(arch, in_channels=cin, image_size=size, width=kw.pop("width", 0.125), **kw)


@pytest.mark.parametrize("arch", ["fmnist-net", "vgg-small", "resnet-20"])
@pytest.mark.parametrize("activation", [*ACTIVATIONS, "bayer:2"])
def test_forward_shapes_and_binary_outputs(arch, activation):
    m = small(arch, activation=activation)
    x = torch.randn(2, m.config["in_channels"], m.config["image_size"], m.config["image_size"])
    assert m(x).shape == (2, 10)
    with record_taps(m) as taps:
        m(x)
    assert list(taps) == list(binary_layers(m))
    for t in taps.values():
        assert set(t["binary"].unique().tolist()) <= {-1.0, 1.0}
        assert t["bn"].shape == t["binary"].shape


def test_activation_registry_errors():
    with pytest.raises(ValueError, match="unknown kernel generator"):
        small(activation="magic")
    with pytest.raises(ValueError, match="arch must be one of"):
        build_model("alexnet", in_channels=1)


def test_rsign_is_per_channel_learnable_threshold():
    layer = BinaryActivation(4, "rsign").eval()
    assert layer.act.weight.shape == (4, 1, 1) and layer.act.weight.requires_grad
    with torch.no_grad():
        layer.act.weight.copy_(torch.tensor([-0.5, 0.0, 0.5, 1.0]).view(4, 1, 1))
    x = torch.randn(3, 4, 5, 5, generator=torch.Generator().manual_seed(0))
    y = x / np.sqrt(1 + layer.bn.eps)  # a fresh batch norm at inference: running mean 0, variance 1, gamma 1, beta 0
    w = torch.tensor([-0.5, 0.0, 0.5, 1.0]).view(1, 4, 1, 1)
    out = layer(x)
    torch.testing.assert_close(out, torch.where(y >= w, 1.0, -1.0))  # each channel fires at its own threshold
    out.sum().backward()
    # hardtanh STE: d out / d threshold = -1 for each element within 1 of its threshold, summed per channel
    want = -((y - w).abs() <= 1).float().sum(dim=(0, 2, 3)).view(4, 1, 1)
    torch.testing.assert_close(layer.act.weight.grad, want)
    with torch.no_grad():  # the folded inference path agrees
        torch.testing.assert_close(layer(x), out.detach())


def test_design_activation_uses_paper_kernel_and_taps_match():
    m = small(activation="design")
    for layer in binary_layers(m).values():  # the paper's [[1, 1], [0, 3]] in the authors' batch-norm units
        np.testing.assert_allclose(layer.kernel.values, [[0.6310, 0.6310], [0.3118, 0.9671]], rtol=1e-12)
    x = torch.randn(3, 1, 28, 28)
    with record_taps(m) as taps:
        m(x)
    first = taps["features.0"]
    from dither_lab import dithered_sign

    torch.testing.assert_close(first["binary"], dithered_sign(first["bn"], "preset:design-2x2-a"))


def test_set_kernel_one_or_all_layers():
    m = small(activation="sign")
    names = list(binary_layers(m))
    assert set_kernel(m, "bayer:2", layers=[0]) == [names[0]]
    assert binary_layers(m)[names[0]].kernel.shape == (2, 2)
    assert binary_layers(m)[names[1]].kernel.shape == (1, 1)
    assert set_kernel(m, "preset:design-2x2-a") == names
    with pytest.raises(ValueError, match="out of range"):
        set_kernel(m, "sign", layers=[99])
    with pytest.raises(ValueError, match="unknown layer"):
        set_kernel(m, "sign", layers=["nope"])


@pytest.mark.parametrize("arch", ["fmnist-net", "resnet-20", "resnet-20:bn-prelu"])
@pytest.mark.parametrize("activation", ["sign", "design", "design3d", "rsign"])
def test_folded_inference_equals_unfolded(arch, activation):
    arch, _, unit = arch.partition(":")
    m = small(arch, activation=activation, **({"unit": unit} if unit else {}))
    x = torch.randn(8, m.config["in_channels"], m.config["image_size"], m.config["image_size"])
    m.train()
    for _ in range(2):  # non-trivial running statistics
        m(x)
    m.eval()
    with torch.no_grad():
        m.train(False)
        for layer in binary_layers(m).values():
            layer.record = True  # recording forces the unfolded path
        ref = m(x)
        for layer in binary_layers(m).values():
            layer.record = False
        folded = m(x)
    torch.testing.assert_close(folded, ref, atol=1e-4, rtol=1e-4)


def test_resnet_units():
    plain, unit = small("resnet-20", activation="design"), small("resnet-20", activation="design", unit="bn-prelu")
    assert "unit" not in plain.config and unit.config["unit"] == "bn-prelu"  # plain files keep their old config
    assert not any(isinstance(m, torch.nn.PReLU) for m in plain.modules())
    assert sum(isinstance(m, torch.nn.PReLU) for m in unit.modules()) == len(binary_layers(unit)) == 18
    # the branch's batch norm and the PReLU act where the unit's docstring says: PReLU(BN(conv(act(x))) + x);
    # at inference the batch norm is folded into the binary weights' scale and a bias, with the same result
    u = unit.features[1]
    x = torch.randn(8, u.conv.in_channels, 8, 8)
    u(x)  # running statistics away from their start
    with torch.no_grad():
        u.eval()
        expect = torch.nn.functional.prelu(u.post(u.conv(u.act(x))) + x, u.prelu.weight)
        torch.testing.assert_close(u(x), expect)
    with torch.enable_grad():
        torch.testing.assert_close(u(x), expect)  # the unfolded path
    with pytest.raises(ValueError, match="unit must be one of 'plain', 'bn-prelu'"):
        small("resnet-20", unit="fancy")
    with pytest.raises(ValueError, match="for resnet-20 only"):
        small("vgg-small", unit="bn-prelu")


@pytest.mark.parametrize("unit", ["plain", "bn-prelu"])
def test_packed_export_round_trip(tmp_path, unit):
    m = small("resnet-20", activation="design", width=0.25, unit=unit)
    m.train()
    m(torch.randn(8, 3, 32, 32))  # running statistics of every batch norm away from their start
    m.eval()
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        ref = m(x)
    path = save_model(m, tmp_path / "m.safetensors", metadata={"note": "test"})
    m2, meta = load_model(path)
    assert meta["note"] == "test" and meta["config"]["arch"] == "resnet-20"
    with torch.no_grad():
        torch.testing.assert_close(m2(x), ref)
    sizes = model_nbytes(m)
    assert sizes["binary_weights"] < sizes["total"]
    set_kernel(m, "bayer:8")  # a kernel swap changes nothing that is saved, so not the size either
    assert model_nbytes(m) == sizes
    packed = export_tensors(m)
    assert any(k.endswith(".bits") for k in packed)


def test_model_bytes_of_the_shipped_fashion_mnist_architecture():
    # fmnist-net at width 0.5 has binary 3x3 convolutions 32->32, 32->64, 64->64 and 64->128: 9,216 + 18,432 +
    # 36,864 + 73,728 weights at 1 bit, plus one float32 scale per output channel (32 + 64 + 64 + 128):
    # 1,152 + 2,304 + 4,608 + 9,216 + 4 * 288 = 18,432 bytes. The shipped models' cards record the same, and
    # 70,864 bytes in all.
    m = build_model("fmnist-net", in_channels=1, image_size=28, width=0.5, activation="design")
    assert model_nbytes(m) == {"total": 70_864, "binary_weights": 18_432}
    unpacked = model_nbytes(m, packed=False)  # float32 weights: 32 times the bits, the scales not stored
    assert unpacked["binary_weights"] == 0 and unpacked["total"] == 70_864 - 18_432 + 4 * 138_240


def test_wrong_architecture_and_damaged_files(tmp_path):
    m = small("fmnist-net")
    other = small("fmnist-net", width=0.25)
    with pytest.raises(ValueError, match="does not fit|does not match"):
        import_tensors(other, export_tensors(m), source="x.safetensors")
    path = save_model(m, tmp_path / "m.safetensors")
    data = path.read_bytes()
    (tmp_path / "trunc.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="trunc.safetensors"):
        load_model(tmp_path / "trunc.safetensors")
    with pytest.raises(ValueError, match="damaged"):
        load_model(path, sha256="0" * 64)
    with pytest.raises(FileExistsError):
        save_model(m, path)


def _stats(m, seed):
    """Random batch-norm statistics and affine parameters (so a folding made from others is wrong)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in binary_layers(m).values():
            bn = layer.bn
            c = bn.num_features
            bn.running_mean.copy_(torch.randn(c, generator=g))
            bn.running_var.copy_(torch.rand(c, generator=g) + 0.2)
            bn.weight.copy_(torch.randn(c, generator=g))
            bn.bias.copy_(torch.randn(c, generator=g))
    return m.eval()


def _unfolded(m, x):
    for layer in binary_layers(m).values():
        layer.fold = False
    try:
        with torch.inference_mode():
            return m(x)
    finally:
        for layer in binary_layers(m).values():
            layer.fold = True


@pytest.mark.parametrize("change", ["load_state_dict", "in place", "dtype"])
def test_folded_thresholds_follow_the_batch_norm_state(change):
    m = _stats(small(activation="design", width=0.25), 1)
    x = torch.randn(6, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    with torch.inference_mode():
        m(x)  # the folded thresholds of the first statistics are built here
    if change == "load_state_dict":
        m.load_state_dict(_stats(small(activation="design", width=0.25), 7).state_dict())
    elif change == "in place":
        with torch.no_grad():
            for layer in binary_layers(m).values():
                layer.bn.running_mean.add_(0.5)
                layer.bn.weight.mul_(-1.0)  # negative gamma flips the comparison too
    else:
        m.double()
        x = x.double()
    with torch.inference_mode():
        folded = m(x)
    torch.testing.assert_close(folded, _unfolded(m, x), atol=1e-4, rtol=1e-4)


def test_folded_thresholds_follow_a_learnable_kernel_updated_in_place():
    m = _stats(small(activation="learned", width=0.25), 3)
    x = torch.randn(6, 1, 28, 28, generator=torch.Generator().manual_seed(4))
    with torch.inference_mode():
        m(x)
    with torch.no_grad():
        for layer in binary_layers(m).values():
            layer.act.weight.add_(0.3)  # what an optimizer step does
    with torch.inference_mode():
        folded = m(x)
    torch.testing.assert_close(folded, _unfolded(m, x), atol=1e-4, rtol=1e-4)


def test_build_model_takes_a_kernel_as_an_array():
    values = np.array([[0.1, -0.2], [0.3, 0.0]])
    m = small(activation="design", kernel=values)
    for layer in binary_layers(m).values():
        np.testing.assert_array_equal(layer.kernel.values, values)
    with torch.inference_mode():
        assert m(torch.zeros(1, 1, 28, 28)).shape == (1, 10)


def test_a_model_built_with_kernel_values_saves_and_loads(tmp_path):
    values = np.array([[0.1, -0.2], [0.3, 0.0]])
    m = small(activation="design", kernel=values)
    save_model(m, tmp_path / "m.safetensors")  # its config (the kernel as a spec) goes into the file's header
    back, _ = load_model(tmp_path / "m.safetensors")
    for layer in binary_layers(back).values():
        np.testing.assert_array_equal(layer.kernel.values, values)
