"""Binary neural networks (1-bit weights, 1-bit activations) with pluggable, swappable activations.

As in the BNN literature the first convolution and the classifier stay real-valued; every other convolution is
binary (:class:`BinaryConv2d`) and is fed by a :class:`BinaryActivation` = BatchNorm2d followed by the dithered
Sign, so thresholds are in batch-norm units.

Architectures (``ARCHS``):

* ``vgg-small``: 128-128-M-256-256-M-512-512-M (the standard CIFAR BNN), with a width multiplier.
* ``resnet-20``: 1W1A ResNet-20 (16-32-64, 3 blocks per stage) with a real-valued shortcut around every binary
  convolution (Bi-Real / IR-Net style) and average-pool + 1x1 real shortcuts where the shape changes. Its units
  (``UNITS``): ``plain`` adds the binary convolution's output to the shortcut as it is; ``bn-prelu`` puts a batch
  norm after the binary convolution (a learnable scale of the branch against the shortcut) and a per-channel PReLU
  after the addition (a nonlinearity in the real-valued path), as Bi-Real Net and ReActNet do.
* ``fmnist-net``: a compact VGG-style net for 28x28 gray images: 64-64-M-128-128-M-256-M.

Activations (``ACTIVATIONS``, or any kernel spec from :mod:`dither_lab.kernels`): ``sign``, ``rsign``
(ReActNet's learnable per-channel threshold, a (C, 1, 1) learnable kernel), ``design`` (fixed kernel, the
paper's 2x2 by default), ``design3d`` (the paper's 2x2x4), ``learned`` (a trainable kernel, STE).

References:
    Rastegari et al., "XNOR-Net", arXiv:1603.05279 (per-channel weight scale).
    Liu et al., "Bi-Real Net", arXiv:1808.00278; Qin et al., "IR-Net", arXiv:1909.10788 (real shortcuts).
    Liu et al., "ReActNet", arXiv:2003.03488 (RSign).
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dither_lab._checks import check_choice
from dither_lab.activation import DitheredSign, FoldedThreshold
from dither_lab.kernels import Kernel, as_kernel, make_kernel
from dither_lab.nn.catalog import ACTIVATIONS, ARCHS, PRETRAINED, UNITS


class BinaryConv2d(nn.Conv2d):
    """Convolution with 1-bit weights ``sign(W) * alpha_o``, ``alpha_o = mean |W_o|`` per output channel.

    Backward: identity straight-through estimator to the latent real weights.
    """

    def binary_weight(self) -> torch.Tensor:
        w = self.weight
        alpha = w.abs().mean(dim=(1, 2, 3), keepdim=True)
        wb = torch.where(w >= 0, alpha, -alpha)
        return wb.detach() + w - w.detach() if w.requires_grad and torch.is_grad_enabled() else wb

    def sign_weight(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The weights' signs (+-1, ``sign(0) = +1``) and the scale ``alpha`` (O,): ``binary_weight() = signs * alpha``."""
        w = self.weight.detach()
        return torch.where(w >= 0, 1.0, -1.0).to(w.dtype), w.abs().mean(dim=(1, 2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.weight.requires_grad and torch.is_grad_enabled():
            return F.conv2d(x, self.binary_weight(), self.bias, self.stride, self.padding, self.dilation, self.groups)
        # Inference: the +-1 by +-1 convolution is exact in float32 (integers below 2**24, in whatever order the
        # backend sums), and alpha multiplies once, so the output is a function of the integer dot product alone:
        # what a packed XOR-popcount engine computes (dither_lab.engine), bit for bit.
        signs, alpha = self.sign_weight()
        y = F.conv2d(x, signs, None, self.stride, self.padding, self.dilation, self.groups) * alpha.view(1, -1, 1, 1)
        return y if self.bias is None else y + self.bias.view(1, -1, 1, 1)


class BinaryActivation(nn.Module):
    """BatchNorm2d followed by the (dithered) Sign, with named taps and a folded inference path.

    Args:
        channels: number of channels.
        activation: one of ``ACTIVATIONS`` or a kernel spec.
        kernel: kernel for ``design``/``learned`` (default: the paper's 2x2 in batch-norm units).
        affine: learnable batch-norm scale and shift (the authors' ReCU runs train without them).
        scale_by_gamma: thresholds scaled by the batch-norm gamma (the authors' PyTorch variant).
        ste: straight-through estimator of the activation.

    In eval mode without autograd, the batch norm and the threshold run as one folded comparison
    (:class:`dither_lab.activation.FoldedThreshold`), kept until the input size, the kernel or any batch-norm
    tensor changes.
    With ``record = True`` the last batch-norm output and binary output are kept in ``taps``.
    """

    def __init__(self, channels: int, activation: str = "sign", *, kernel: Any = None, affine: bool = True,
                 scale_by_gamma: bool = False, ste: str = "hardtanh") -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, affine=affine)
        self.scale_by_gamma = bool(scale_by_gamma) and affine
        self.activation = activation
        kind = ACTIVATIONS.get(activation)
        if kind is None:  # any kernel spec, fixed
            k, learnable = make_kernel(activation), False
        else:
            k, learnable = kind.kernel(channels, kernel), kind.learnable
        self.act = DitheredSign(k, ste=ste, learnable=learnable)
        self.record = False
        self.fold = True  # False keeps batch norm and threshold apart at inference (the baseline in benchmarks)
        self.taps: dict[str, torch.Tensor] = {}
        self._folded: tuple[tuple[Any, ...], FoldedThreshold] | None = None

    def set_kernel(self, kernel: Any) -> None:
        """Swap the threshold kernel at test time (keeps learnability)."""
        self.act.set_kernel(kernel)

    @property
    def kernel(self) -> Kernel:
        return self.act.current_kernel()

    def _fold_key(self, height: int, width: int, dtype: torch.dtype) -> tuple[Any, ...]:
        """What the folded thresholds depend on: the map size and dtype, the kernel (a learned one by its
        tensor's identity and version), and every batch-norm tensor by identity, device, storage and version, which
        ``load_state_dict``, ``.to()`` and any in-place change advance."""
        bn = self.bn
        tensors = [t for t in (bn.running_mean, bn.running_var, bn.weight, bn.bias) if t is not None]
        w = self.act.weight
        kernel = (id(w), w._version) if w is not None else self.act.kernel.key
        return (height, width, dtype, kernel, bn.eps, tuple((id(t), t.device, t.data_ptr(), t._version) for t in tensors))

    def folded_for(self, height: int, width: int, *, dtype: torch.dtype = torch.float32) -> FoldedThreshold:
        """The folded batch norm + threshold for (height, width) maps, as inference uses it: rebuilt whenever what
        it depends on changed (see :meth:`_fold_key`), else reused."""
        key = self._fold_key(height, width, dtype)
        if self._folded is None or self._folded[0] != key:
            folded = FoldedThreshold.from_batchnorm(self.bn, self.act.current_kernel(), height, width,
                                                    scale_by_gamma=self.scale_by_gamma, dtype=dtype)
            self._folded = (key, folded)
        return self._folded[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fold and not self.training and not torch.is_grad_enabled() and not self.record:
            return self.folded_for(x.shape[-2], x.shape[-1], dtype=x.dtype)(x)
        y = self.bn(x)
        b = self.act(y, scale=self.bn.weight if self.scale_by_gamma else None)
        if self.record:
            self.taps = {"bn": y.detach(), "binary": b.detach()}
        return b


def _act_factory(activation: str, kernel: Any, affine: bool, scale_by_gamma: bool, ste: str):
    def make(c: int) -> BinaryActivation:
        return BinaryActivation(c, activation, kernel=kernel, affine=affine, scale_by_gamma=scale_by_gamma, ste=ste)

    return make


class VGGBinary(nn.Module):
    """VGG-style BNN: real first conv, then [BinaryActivation, BinaryConv2d, (max-pool)] blocks, BN, real linear."""

    def __init__(self, cfg: list[Any], in_channels: int, num_classes: int, image_size: int, make_act: Any) -> None:
        super().__init__()
        first = cfg[0]
        self.stem = nn.Conv2d(in_channels, first, 3, padding=1, bias=False)
        layers: list[nn.Module] = []
        c, size = first, image_size
        for v in cfg[1:]:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
                size //= 2
                continue
            layers += [make_act(c), BinaryConv2d(c, v, 3, padding=1, bias=False)]
            c = v
        self.features = nn.Sequential(*layers)
        self.head_bn = nn.BatchNorm2d(c)
        self.classifier = nn.Linear(c * size * size, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(self.stem(x))
        return self.classifier(torch.flatten(self.head_bn(x), 1))


class _BinaryUnit(nn.Module):
    """One binary conv with a real shortcut: ``conv(act(x)) + shortcut(x)`` (``plain``), or
    ``prelu(bn(conv(act(x))) + shortcut(x))`` (``bn-prelu``)."""

    def __init__(self, cin: int, cout: int, stride: int, make_act: Any, unit: str = "plain") -> None:
        super().__init__()
        self.act = make_act(cin)
        self.conv = BinaryConv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.post: nn.Module | None = None
        self.prelu: nn.Module | None = None
        if unit == "bn-prelu":
            self.post, self.prelu = nn.BatchNorm2d(cout), nn.PReLU(cout, init=0.25)
        if stride != 1 or cin != cout:
            self.shortcut: nn.Module = nn.Sequential(
                nn.AvgPool2d(stride) if stride > 1 else nn.Identity(),
                nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.post is None:
            return self.conv(self.act(x)) + self.shortcut(x)
        if self.training or torch.is_grad_enabled():
            return self.prelu(self.post(self.conv(self.act(x))) + self.shortcut(x))
        # inference: the branch's batch norm folded into the binary weights' per-channel scale and a shift, applied
        # after the exact +-1 convolution (see BinaryConv2d.forward): one multiply, then one add
        c, bn = self.conv, self.post
        s = torch.rsqrt(bn.running_var + bn.eps) * bn.weight
        signs, alpha = c.sign_weight()
        y = F.conv2d(self.act(x), signs, None, c.stride, c.padding, c.dilation, c.groups)
        y = y * (alpha * s).view(1, -1, 1, 1) + (bn.bias - bn.running_mean * s).view(1, -1, 1, 1)
        return self.prelu(y + self.shortcut(x))


class ResNet20Binary(nn.Module):
    """1W1A ResNet-20 for 32x32 inputs (width multiplier on 16-32-64; ``unit`` one of ``UNITS``)."""

    def __init__(self, in_channels: int, num_classes: int, width: float, make_act: Any, unit: str = "plain") -> None:
        super().__init__()
        widths = [max(1, int(round(c * width))) for c in (16, 32, 64)]
        self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False), nn.BatchNorm2d(widths[0]))
        units: list[nn.Module] = []
        cin = widths[0]
        for stage, cout in enumerate(widths):
            for block in range(3):
                stride = 2 if stage > 0 and block == 0 else 1
                units += [_BinaryUnit(cin, cout, stride, make_act, unit), _BinaryUnit(cout, cout, 1, make_act, unit)]
                cin = cout
        self.features = nn.Sequential(*units)
        self.head_bn = nn.BatchNorm2d(cin)
        self.classifier = nn.Linear(cin, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.head_bn(self.features(self.stem(x))))
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def build_model(arch: str, *, in_channels: int, num_classes: int = 10, image_size: int = 32,
                activation: str = "sign", kernel: Any = None, width: float = 1.0, affine: bool = True,
                scale_by_gamma: bool = False, ste: str = "hardtanh", unit: str = "plain") -> nn.Module:
    """Build a BNN; its constructor arguments are kept in ``model.config`` (so files can rebuild it).

    ``unit`` chooses ResNet-20's residual unit (``UNITS``; the other architectures have one kind only)."""
    check_choice("arch", arch, ARCHS)
    check_choice("unit", unit, UNITS)
    if unit != "plain" and arch != "resnet-20":
        raise ValueError(f"unit {unit!r} is for resnet-20 only; {arch} has plain units")
    if activation not in ACTIVATIONS:
        make_kernel(activation)  # validates a kernel spec, raising a ValueError that lists the valid names
    if not (isinstance(width, (int, float)) and 0 < width <= 8):
        raise ValueError(f"width must be in (0, 8], got {width!r}")
    if kernel is not None and not isinstance(kernel, str):  # a Kernel or values: kept as a spec (files store it)
        kernel = as_kernel(kernel)
        kernel = kernel.to_spec_values() if kernel.spec == "custom" else kernel.spec
    make_act = _act_factory(activation, kernel, affine, scale_by_gamma, ste)

    def w(c: int) -> int:
        return max(1, int(round(c * width)))

    if arch == "vgg-small":
        model: nn.Module = VGGBinary([w(128), w(128), "M", w(256), w(256), "M", w(512), w(512), "M"],
                                     in_channels, num_classes, image_size, make_act)
    elif arch == "fmnist-net":
        model = VGGBinary([w(64), w(64), "M", w(128), w(128), "M", w(256), "M"], in_channels, num_classes,
                          image_size, make_act)
    else:
        model = ResNet20Binary(in_channels, num_classes, width, make_act, unit)
    model.config = {"arch": arch, "in_channels": in_channels, "num_classes": num_classes, "image_size": image_size,
                    "activation": activation, "kernel": kernel, "width": width, "affine": affine,
                    "scale_by_gamma": scale_by_gamma, "ste": ste}
    if unit != "plain":  # files of plain models keep the config they always had
        model.config["unit"] = unit
    return model


def binary_layers(model: nn.Module) -> OrderedDict[str, BinaryActivation]:
    """The model's binary activation layers by name, in forward order."""
    return OrderedDict((n, m) for n, m in model.named_modules() if isinstance(m, BinaryActivation))


def layer_places(model: nn.Module) -> dict[str, str]:
    """Where each binary layer sits in the network, for people: ``"stage 2, block 1, conv 2"`` in a ResNet-20
    (stages of three blocks, two binary convolutions each), ``"conv 3"`` in a VGG-style network."""
    out = {}
    for i, name in enumerate(binary_layers(model)):
        if isinstance(model, ResNet20Binary):
            unit = int(name.split(".")[1])
            out[name] = f"stage {unit // 6 + 1}, block {unit % 6 // 2 + 1}, conv {unit % 2 + 1}"
        else:
            out[name] = f"conv {i + 1}"
    return out


def describe_layers(model: nn.Module, shapes: dict[str, tuple[int, int, int]]) -> dict[str, str]:
    """Each binary layer named for people, from its place in the network (:func:`layer_places`) and its maps
    (C, H, W): ``"stage 2, block 1, conv 2: 32 channels, 16x16"`` in a ResNet-20, ``"conv 3: 128 channels, 7x7"``
    in a VGG-style network."""
    out = {}
    for name, place in layer_places(model).items():
        c, h, w = shapes[name]
        out[name] = f"{place}: {c} channels, {h}x{w}"
    return out


def resolve_layers(model: nn.Module, layers: Any = None) -> list[str]:
    """Names of the binary layers ``layers`` picks (names or 0-based indices, in forward order; None = all).

    Raises:
        ValueError: an index out of range or an unknown name (the message lists the layers).
    """
    names = list(binary_layers(model))
    if layers is None:
        return names
    chosen = []
    for item in layers:
        if isinstance(item, int) and not isinstance(item, bool):
            if not -len(names) <= item < len(names):
                raise ValueError(f"layer index {item} is out of range: the model has {len(names)} binary layers")
            chosen.append(names[item])
        elif item in names:
            chosen.append(item)
        else:
            raise ValueError(f"unknown layer {item!r}; binary layers are: {', '.join(names)}")
    return chosen


def set_kernel(model: nn.Module, kernel: Any, *, layers: Any = None) -> list[str]:
    """Swap the kernel of all binary layers, or of ``layers`` (names or indices), at test time; returns the names."""
    named = binary_layers(model)
    chosen = resolve_layers(model, layers)
    k = as_kernel(kernel)
    for n in chosen:
        named[n].set_kernel(k)
    return chosen


@contextlib.contextmanager
def record_taps(model: nn.Module) -> Iterator[dict[str, dict[str, torch.Tensor]]]:
    """Context manager: during it, each binary layer keeps its batch-norm output and binary output.

    Yields a dict filled after the forward pass: ``{layer name: {"bn": tensor, "binary": tensor}}``.
    """
    named = binary_layers(model)
    out: dict[str, dict[str, torch.Tensor]] = {}
    for m in named.values():
        m.record = True
    try:
        yield out
    finally:
        for n, m in named.items():
            m.record = False
            if m.taps:
                out[n] = m.taps
            m.taps = {}


def model_nbytes(model: nn.Module, *, packed: bool = True) -> dict[str, int]:
    """Bytes the model's saved state takes (parameters and persistent buffers): binary conv weights at 1 bit (+ one
    float per output channel for the scale) when ``packed``, everything else at its dtype's size."""
    binary = {f"{n}.weight" for n, m in model.named_modules() if isinstance(m, BinaryConv2d)}
    total = binary_bytes = 0
    for n, t in model.state_dict().items():
        if n in binary and packed:
            b = (t.numel() + 7) // 8 + 4 * t.shape[0]
            binary_bytes += b
        else:
            b = t.numel() * t.element_size()
        total += b
    return {"total": total, "binary_weights": binary_bytes}


# --------------------------------------------------------------------------------------------------- files


def export_tensors(model: nn.Module, *, packed: bool = True) -> dict[str, torch.Tensor]:
    """The model's state as plain tensors; binary conv weights bit-packed (``.bits`` uint8 + ``.alpha``) if asked.

    Unpacking gives ``sign(W) * alpha`` exactly, which binarizes to the same weights, so inference is unchanged.
    """
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if not packed:
        return state
    for n, m in model.named_modules():
        if isinstance(m, BinaryConv2d):
            w = state.pop(f"{n}.weight")
            state[f"{n}.weight.bits"] = torch.from_numpy(np.packbits((w >= 0).numpy().astype(np.uint8).ravel()))
            state[f"{n}.weight.alpha"] = w.abs().mean(dim=(1, 2, 3)).to(torch.float32)
    return state


def import_tensors(model: nn.Module, tensors: dict[str, torch.Tensor], *, source: str = "weights") -> None:
    """Load tensors from :func:`export_tensors` (packed or not) into ``model``; clear errors on a mismatch."""
    state = dict(tensors)
    for n, m in model.named_modules():
        if isinstance(m, BinaryConv2d) and f"{n}.weight.bits" in state:
            bits = state.pop(f"{n}.weight.bits").numpy()
            alpha = state.pop(f"{n}.weight.alpha")
            shape = tuple(m.weight.shape)
            count = int(np.prod(shape))
            if bits.size != (count + 7) // 8 or alpha.shape != (shape[0],):
                raise ValueError(f"{source}: layer {n} does not fit this architecture (expected weight {shape})")
            signs = torch.from_numpy(np.unpackbits(bits)[:count].reshape(shape).astype(bool))
            a = alpha.to(torch.float32).view(-1, 1, 1, 1)
            state[f"{n}.weight"] = torch.where(signs, a, -a)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if tuple(expected[k].shape) != tuple(state[k].shape))
    if missing or extra or wrong:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing[:3])}{'...' if len(missing) > 3 else ''}")
        if extra:
            parts.append(f"unexpected {', '.join(extra[:3])}{'...' if len(extra) > 3 else ''}")
        if wrong:
            parts.append(f"wrong shape for {', '.join(wrong[:3])}{'...' if len(wrong) > 3 else ''}")
        raise ValueError(f"{source} does not match the {model.config['arch']} architecture: {'; '.join(parts)}")
    model.load_state_dict(state)


def save_model(model: nn.Module, path: Any, *, metadata: dict[str, Any] | None = None, packed: bool = True,
               force: bool = False) -> Any:
    """Save a model as safetensors (config and metadata in the header); atomic, no overwrite without ``force``."""
    from dither_lab.io import save_tensors

    meta = {"config": model.config, "packed": packed, **(metadata or {})}
    return save_tensors(export_tensors(model, packed=packed), path, metadata=meta, force=force)


def load_model(path: Any, *, sha256: str | None = None) -> tuple[nn.Module, dict[str, Any]]:
    """Load a model saved by :func:`save_model` (safetensors: no pickle); returns (model in eval mode, metadata)."""
    from dither_lab.io import load_tensors

    tensors, meta = load_tensors(path, sha256=sha256)
    cfg = meta.get("config")
    if not isinstance(cfg, dict) or "arch" not in cfg:
        raise ValueError(f"{path}: no model config in the file's metadata; it is not a model file written by dither_lab")
    try:
        model = build_model(**cfg)
    except TypeError as exc:
        raise ValueError(f"{path}: model config is not understood ({exc})") from None
    import_tensors(model, tensors, source=str(path))
    model.eval().to(memory_format=torch.channels_last)  # oneDNN's fast layout on CPU
    return model, meta


# ---------------------------------------------------------------------------------------------- pretrained


def available_pretrained() -> list[str]:
    """Names of the pretrained models whose files are listed in the assets manifest."""
    from dither_lab.io import read_manifest

    try:
        files = read_manifest()["files"]
    except ValueError:
        return []
    return [n for n, (rel, _) in PRETRAINED.items() if rel in files]


def load_pretrained(name: str) -> tuple[nn.Module, dict[str, Any]]:
    """Load a shipped model by name after checking its sha256 against the manifest; returns (model, metadata)."""
    from dither_lab.io import verified_asset

    if name not in PRETRAINED:
        raise ValueError(f"unknown pretrained model {name!r}; valid names: {', '.join(PRETRAINED)}")
    rel, dataset = PRETRAINED[name]
    model, meta = load_model(verified_asset(rel))
    meta["dataset"] = dataset
    meta["name"] = name
    return model, meta
