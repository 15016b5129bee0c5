"""Compile a trained dither_lab BNN (PyTorch) into a :class:`~dither_lab.engine.program.PackedProgram`.

The only part of :mod:`dither_lab.engine` that imports PyTorch. Everything a program holds is read from the float
model as its inference uses it, so the program's binary activations are the float model's, bit for bit:

* binary weights as their signs (``w >= 0`` -> +1), packed in the patch order of the engine (taps row-major,
  channels inside), and the scale ``alpha`` of :meth:`dither_lab.nn.models.BinaryConv2d.sign_weight`;
* each binary activation's folded thresholds (:meth:`dither_lab.nn.models.BinaryActivation.folded_for`, the same
  ``theta`` the model compares with, phase included), one period of the tiled map per channel;
* where a binary convolution (and a 2x2 max-pool) feeds a binary activation directly, its integer thresholds:
  the accumulator ``acc`` is an integer in ``[-K, K]`` (K = channels x taps) and the float model compares
  ``float32(acc) * alpha`` with ``theta``, so the compiler evaluates that float32 expression at every one of the
  2K + 1 values and takes the first that passes: ``acc >= k`` exactly when the float model's compare is true
  (``float32(acc) * alpha`` never decreases as ``acc`` grows, since ``alpha >= 0`` and rounding is monotone;
  a negative gamma is the model's own flip; a zero gamma an infinite theta, so k is past either end);
* batch norms as PyTorch's CPU kernel computes them, and the bn-prelu unit's scale and shift by the model's own
  PyTorch expressions.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np

from dither_lab.engine import _kernels as K
from dither_lab.engine.program import FORMAT, VERSION, PackedConv2d, PackedProgram


def compile_model(model: Any, *, kernel: Any = None, layers: Any = None, threads: int = 1) -> PackedProgram:
    """Compile a BNN from :func:`dither_lab.nn.models.build_model` (any architecture and unit) into a packed program.

    Args:
        model: the float model (not changed; its eval-mode statistics are used).
        kernel: a kernel (spec, Kernel or array) swapped into ``layers`` first, as
            :func:`dither_lab.nn.evaluate.with_kernel` does; None keeps the model's kernels.
        layers: which binary layers take ``kernel`` (names or 0-based indices; None = all).
        threads: the program's default thread count.

    Returns:
        A :class:`PackedProgram` whose predictions and binary activations equal the float model's run in
        inference mode, channels-last (as :func:`dither_lab.nn.evaluate.predict` runs it).

    Raises:
        ValueError: a model dither_lab did not build, non-finite parameters, or a bad kernel or layer.
        TypeError: ``model`` is not a torch module.

    Examples:
        >>> import torch
        >>> from dither_lab.nn.models import build_model
        >>> torch.manual_seed(0) and None
        >>> net = build_model("fmnist-net", in_channels=1, image_size=28, width=0.25, activation="design")
        >>> program = compile_model(net.eval(), kernel="bayer:4")
        >>> program.predict(np.zeros((2, 1, 28, 28), np.float32)).shape
        (2, 10)
    """
    import torch

    from dither_lab.nn.models import ResNet20Binary, VGGBinary, set_kernel

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    cfg = getattr(model, "config", None)
    if not isinstance(model, (VGGBinary, ResNet20Binary)) or not isinstance(cfg, dict):
        raise ValueError(f"model must be a BNN built by dither_lab.nn.models.build_model, got {type(model).__name__}")
    m = copy.deepcopy(model).cpu().float().eval()
    if kernel is not None:
        set_kernel(m, kernel, layers=layers)
    elif layers is not None:
        raise ValueError("layers picks where a kernel goes: give kernel too")
    for name, p in list(m.named_parameters()) + list(m.named_buffers()):
        if p.is_floating_point() and not torch.isfinite(p).all():
            raise ValueError(f"model parameter {name} has NaN or infinite values; it cannot be compiled")
    b = _Builder(m, [cfg["in_channels"], cfg["image_size"], cfg["image_size"]])
    with torch.no_grad():
        if isinstance(m, VGGBinary):
            _compile_vgg(b, m)
        else:
            _compile_resnet(b, m)
    kernels = {n: (a.kernel.spec if a.kernel.spec != "custom" else a.kernel.name) for n, a in b.acts.items()}
    b.graph["meta"] = {"arch": cfg["arch"], "unit": cfg.get("unit", "plain"), "kernels": kernels,
                       "dither_lab": _version(), "inexact_convs": b.inexact}
    if b.inexact:
        warnings.warn(f"the summation order of real convolution(s) {', '.join(b.inexact)} was not found: their "
                      "outputs may differ from the float model's in the last bit", RuntimeWarning, stacklevel=2)
    return PackedProgram(b.graph, b.arrays, threads=threads, source="compiled program")


def _version() -> str:
    from dither_lab import __version__

    return __version__


class _Builder:
    """Accumulates ops and arrays, tracking the (C, H, W) of the current value."""

    def __init__(self, model: Any, shape: list[int]) -> None:
        from dither_lab.nn.models import binary_layers

        self.graph: dict[str, Any] = {"format": FORMAT, "version": VERSION, "input": list(shape), "ops": []}
        self.arrays: dict[str, np.ndarray] = {}
        self.names = {id(mod): n for n, mod in model.named_modules()}
        self.acts = binary_layers(model) if isinstance(model, _torch_module()) else {}
        self.count = 0
        self.inexact: list[str] = []  # real convolutions whose summation order no candidate reproduced

    def array(self, stem: str, a: np.ndarray) -> str:
        name = f"{len(self.arrays):03d}.{stem}"
        self.arrays[name] = np.ascontiguousarray(a)
        return name

    def value(self) -> str:
        self.count += 1
        return f"v{self.count}"

    def op(self, kind: str, src: str, **fields: Any) -> str:
        out = self.value()
        self.graph["ops"].append({"op": kind, "in": src, "out": out, **fields})
        return out


def _torch_module() -> type:
    from torch import nn

    return nn.Module


def compile_conv(conv: Any, act: Any = None, *, height: int, width: int, pool: int = 1) -> PackedConv2d:
    """Compile one binary convolution (and the binary activation it feeds, folded into integer thresholds) for
    a ``height`` x ``width`` input: a :class:`~dither_lab.engine.program.PackedConv2d` on bits.

    Args:
        conv: a :class:`dither_lab.nn.models.BinaryConv2d` (eval mode).
        act: a :class:`dither_lab.nn.models.BinaryActivation` (eval mode) applied to its output, or None for the
            real output ``float32(acc) * alpha``.
        height, width: the input size.
        pool: 1, or 2 for a 2x2 max-pool between the convolution and ``act``.

    Returns:
        The packed layer; its bits equal ``act(maxpool(conv(x)))`` (or its values ``maxpool(conv(x))``) of the
        float model for +-1 inputs ``x``.

    Raises:
        ValueError: a convolution the engine does not run (groups, dilation, bias), a bad size or pool.
    """
    from torch import nn

    from dither_lab.nn.models import BinaryActivation, BinaryConv2d

    if not isinstance(conv, BinaryConv2d) or not (act is None or isinstance(act, BinaryActivation)):
        raise TypeError("conv must be a BinaryConv2d and act a BinaryActivation or None")
    if pool not in (1, 2):
        raise ValueError(f"pool must be 1 or 2, got {pool!r}")
    holder = nn.ModuleDict({"conv": conv, **({"act": act} if act is not None else {})})
    b = _Builder(holder, [conv.in_channels, height, width])
    import torch

    with torch.no_grad():
        _binary_conv(b, "input", conv, [conv.in_channels, height, width], pool=pool, act=act)
    return PackedConv2d(b.graph["ops"][0], b.arrays, (conv.in_channels, height, width))


_NO_BN = np.zeros(0, dtype=np.float32)


def _np(t: Any) -> np.ndarray:
    return t.detach().cpu().contiguous().numpy().astype(np.float32, copy=True)


def _threshold_table(act: Any, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """(theta (m, n, C) float32, flip (C,) uint8): one period of the act's folded threshold map on h x w."""
    folded = act.folded_for(h, w)
    theta = folded.theta.detach().cpu().numpy().astype(np.float32)  # (C, H, W), as the model compares
    flip = (folded.hi.detach().cpu().numpy().reshape(-1) < 0).astype(np.uint8)
    mk, nk = act.kernel.shape[-2:]
    m, n = min(mk, h), min(nk, w)
    table = theta[:, :m, :n]
    tiled = np.tile(table, (1, -(-h // m), -(-w // n)))[:, :h, :w]
    if not np.array_equal(tiled, theta, equal_nan=True):  # a phase that does not start the tile at (0, 0)
        table = theta
    return np.ascontiguousarray(table.transpose(1, 2, 0)), flip


def _pack_signs(signs: np.ndarray) -> np.ndarray:
    """(O, C, kh, kw) +-1 -> (O, words) uint64: bit t*C + c of output channel o set where the weight is +1."""
    o, c, kh, kw = signs.shape
    bits = (signs.transpose(0, 2, 3, 1).reshape(o, kh * kw * c) > 0).astype(np.uint8)
    words = (kh * kw * c + 63) // 64
    packed = np.zeros((o, words * 8), dtype=np.uint8)
    packed[:, : (kh * kw * c + 7) // 8] = np.packbits(bits, axis=1, bitorder="little")
    return packed.view("<u8").astype(np.uint64)


def integer_thresholds(theta: np.ndarray, alpha: np.ndarray, count: int) -> np.ndarray:
    """Integer thresholds on the accumulator, agreeing with the float model's float32 arithmetic.

    Args:
        theta: (m, n, O) float32, the folded thresholds the model compares ``float32(acc) * alpha[o]`` with.
        alpha: (O,) float32, >= 0.
        count: K, the accumulator's range ``[-K, K]`` (channels x taps).

    Returns:
        (m, n, O) int16 (int32 if K does not fit): the least ``k`` in ``[-K, K + 1]`` with
        ``float32(k) * alpha[o] >= theta[.., o]`` (K + 1: never), so ``compare(acc) == (acc >= k)``.

    Raises:
        ValueError: an alpha that is negative or not finite.
    """
    theta = np.asarray(theta, dtype=np.float32)
    alpha = np.asarray(alpha, dtype=np.float32)
    if not (np.all(np.isfinite(alpha)) and np.all(alpha >= 0)):
        raise ValueError("alpha must be finite and >= 0")
    accs = np.arange(-count, count + 1, dtype=np.float32)  # exact: count < 2**24
    out = np.empty(theta.shape, dtype=np.int32)
    for o in range(alpha.shape[0]):
        values = accs * alpha[o]  # the float model's float32 product, at every accumulator value
        # non-decreasing, so searchsorted finds the first value >= theta (NaN theta sorts last: never)
        out[..., o] = np.searchsorted(values, theta[..., o], side="left") - count
    return out.astype(np.int16 if count + 1 <= np.iinfo(np.int16).max else np.int32)


def _binary_conv(b: _Builder, src: str, conv: Any, shape: list[int], *, pool: int, act: Any = None,
                 scale: Any = None, shift: Any = None, residual: str | None = None, prelu: Any = None) -> tuple[str, list[int]]:
    c, h, w = shape
    if conv.groups != 1 or tuple(conv.dilation) != (1, 1) or conv.bias is not None:
        raise ValueError("binary convolutions must have groups 1, dilation 1 and no bias")
    if conv.stride[0] != conv.stride[1] or conv.padding[0] != conv.padding[1]:
        raise ValueError("binary convolutions must have equal strides and paddings along H and W")
    signs, alpha = conv.sign_weight()
    o, _, kh, kw = signs.shape
    stride, pad = int(conv.stride[0]), int(conv.padding[0])
    ho = ((h + 2 * pad - kh) // stride + 1) // pool
    wo = ((w + 2 * pad - kw) // stride + 1) // pool
    fields: dict[str, Any] = {"channels_out": o, "kernel": [kh, kw], "stride": stride, "pad": pad, "pool": pool,
                              "weights": b.array("weights", _pack_signs(signs.numpy()))}
    if act is not None:
        theta, flip = _threshold_table(act, ho, wo)
        fields.update(mode="bits", layer=b.names[id(act)],
                      thresholds=b.array("thresholds", integer_thresholds(theta, _np(alpha), c * kh * kw)),
                      flip=b.array("flip", flip))
    else:
        fields.update(mode="real", scale=b.array("scale", _np(alpha if scale is None else scale)))
        if shift is not None:
            fields["shift"] = b.array("shift", _np(shift))
        if residual is not None:
            fields["residual"] = residual
        if prelu is not None:
            fields["prelu"] = b.array("prelu", _np(prelu))
    return b.op("binary_conv", src, **fields), [o, ho, wo]


def _threshold(b: _Builder, src: str, act: Any, shape: list[int]) -> str:
    theta, flip = _threshold_table(act, shape[1], shape[2])
    return b.op("threshold", src, layer=b.names[id(act)], theta=b.array("theta", theta), flip=b.array("flip", flip))


def _conv(b: _Builder, src: str, conv: Any, shape: list[int], *, bn: Any = None) -> tuple[str, list[int]]:
    if conv.groups != 1 or tuple(conv.dilation) != (1, 1) or conv.bias is not None:
        raise ValueError("real convolutions must have groups 1, dilation 1 and no bias")
    if conv.stride[0] != conv.stride[1] or conv.padding[0] != conv.padding[1]:
        raise ValueError("real convolutions must have equal strides and paddings along H and W")
    w = _np(conv.weight)  # (O, C, kh, kw)
    stride, pad = int(conv.stride[0]), int(conv.padding[0])
    o, _, kh, kw = w.shape
    wt = np.ascontiguousarray(w.transpose(2, 3, 1, 0))
    order, fused = _probe_order(conv, wt, shape, stride, pad)
    if order is None:
        b.inexact.append(b.names[id(conv)])
        order, fused = "hwc", True
    fields: dict[str, Any] = {}
    if bn is not None:  # the batch norm after it, applied to each rounded output in the same loop
        a, shift = batch_norm_terms(bn)
        fields = {"bn_scale": b.array("bn_scale", a), "bn_shift": b.array("bn_shift", shift)}
    out = b.op("conv", src, weight=b.array("conv", wt), stride=stride, pad=pad, order=order, fused=fused, **fields)
    return out, [o, (shape[1] + 2 * pad - kh) // stride + 1, (shape[2] + 2 * pad - kw) // stride + 1]


def _probe_order(conv: Any, wt: np.ndarray, shape: list[int], stride: int, pad: int) -> tuple[str | None, bool]:
    """The order in which PyTorch's CPU backend sums this convolution, found by running it (channels-last, as
    the float model runs, on batches of 2 and 16 random inputs) against each candidate order. (None, True) if no
    candidate matches every output."""
    import torch

    from dither_lab.engine.program import CONV_ORDERS, conv_taps

    c, h, w = shape
    rng = np.random.default_rng(0)
    probe = copy.deepcopy(conv).cpu().float().eval().to(memory_format=torch.channels_last)
    trials = []
    for n in (16, 2):
        x = rng.standard_normal((n, c, h, w), dtype=np.float32)
        with torch.inference_mode():
            ref = probe(torch.from_numpy(x).contiguous(memory_format=torch.channels_last)).numpy().transpose(0, 2, 3, 1)
        trials.append((np.ascontiguousarray(x.transpose(0, 2, 3, 1)), ref))
    for fused in (True, False):
        for order in CONV_ORDERS:
            taps = conv_taps(order, wt.shape[0], wt.shape[1], c)
            ok = True
            for x, ref in trials:
                out = np.empty(ref.shape, dtype=np.float32)
                K.real_conv(x, wt, stride, pad, taps, fused, _NO_BN, _NO_BN, out)
                if not np.array_equal(out, ref):
                    ok = False
                    break
            if ok:
                return order, fused
    return None, True


def batch_norm_terms(bn: Any) -> tuple[np.ndarray, np.ndarray]:
    """(a, shift) float32 with ``bn(x) == fma(x, a, shift)`` bit for bit on PyTorch's CPU kernel at inference:
    ``a = gamma * (1 / sqrt(var + float32(eps)))``, ``shift = fma(-mean, a, beta)``."""
    var = _np(bn.running_var)
    mean = _np(bn.running_mean)
    gamma = _np(bn.weight) if bn.weight is not None else np.ones_like(var)
    beta = _np(bn.bias) if bn.bias is not None else np.zeros_like(var)
    invstd = np.float32(1) / np.sqrt(var + np.float32(bn.eps))
    a = (invstd * gamma).astype(np.float32)
    return a, K.fma_vector(-mean, a, beta)


def _batch_norm(b: _Builder, src: str, bn: Any, *, relu: bool = False) -> str:
    a, shift = batch_norm_terms(bn)
    return b.op("batch_norm", src, scale=b.array("bn_scale", a), shift=b.array("bn_shift", shift), relu=relu)


def _linear(b: _Builder, src: str, lin: Any, order: np.ndarray | None = None) -> str:
    w = _np(lin.weight)
    if order is not None:
        w = w[:, order]
    bias = _np(lin.bias) if lin.bias is not None else np.zeros(w.shape[0], np.float32)
    return b.op("linear", src, weight=b.array("linear", w), bias=b.array("linear_bias", bias))


def _compile_vgg(b: _Builder, m: Any) -> None:
    from torch import nn

    from dither_lab.nn.models import BinaryActivation, BinaryConv2d

    cur, shape = _conv(b, "input", m.stem, b.graph["input"])
    blocks: list[list[Any]] = []  # [act, conv, pool]
    for mod in m.features:
        if isinstance(mod, BinaryActivation):
            blocks.append([mod, None, 1])
        elif isinstance(mod, BinaryConv2d) and blocks and blocks[-1][1] is None:
            blocks[-1][1] = mod
        elif isinstance(mod, nn.MaxPool2d) and blocks and blocks[-1][1] is not None and _is_pool2(mod):
            blocks[-1][2] = 2
        else:
            raise ValueError(f"unexpected layer in the VGG features: {mod}")
    if not blocks:
        raise ValueError("the model has no binary layers")
    cur = _threshold(b, cur, blocks[0][0], shape)
    for k, (_, conv, pool) in enumerate(blocks):
        nxt = blocks[k + 1][0] if k + 1 < len(blocks) else None
        cur, shape = _binary_conv(b, cur, conv, shape, pool=pool, act=nxt)
    cur = _batch_norm(b, cur, m.head_bn)
    cur = b.op("flatten", cur)
    c, h, w = shape
    # the classifier reads torch's (C, H, W) flattening; the engine's maps are (H, W, C)
    order = np.arange(c * h * w).reshape(c, h, w).transpose(1, 2, 0).reshape(-1)
    b.graph["output"] = _linear(b, cur, m.classifier, order)


def _is_pool2(mod: Any) -> bool:
    def two(v: Any) -> bool:
        return v == 2 or v == (2, 2)

    return two(mod.kernel_size) and two(mod.stride) and mod.padding in (0, (0, 0)) and not mod.ceil_mode \
        and mod.dilation in (1, (1, 1))


def _compile_resnet(b: _Builder, m: Any) -> None:
    import torch
    from torch import nn

    conv, bn = m.stem[0], m.stem[1]
    cur, shape = _conv(b, "input", conv, b.graph["input"], bn=bn)
    for u in m.features:
        src, src_shape = cur, shape
        bits = _threshold(b, src, u.act, src_shape)
        if isinstance(u.shortcut, nn.Identity):
            res = src
        else:
            pool, sc_conv, sc_bn = u.shortcut
            res, sc_shape = src, src_shape
            if not isinstance(pool, nn.Identity):
                k = int(pool.kernel_size) if not isinstance(pool.kernel_size, tuple) else int(pool.kernel_size[0])
                res = b.op("avg_pool", res, size=k)
                sc_shape = [sc_shape[0], sc_shape[1] // k, sc_shape[2] // k]
            res, sc_shape = _conv(b, res, sc_conv, sc_shape, bn=sc_bn)
        if u.post is None:
            cur, shape = _binary_conv(b, bits, u.conv, src_shape, pool=1, residual=res)
        else:
            post = u.post  # the model's own expressions (models._BinaryUnit.forward, inference)
            s = torch.rsqrt(post.running_var + post.eps) * post.weight
            _, alpha = u.conv.sign_weight()
            cur, shape = _binary_conv(b, bits, u.conv, src_shape, pool=1, scale=alpha * s,
                                      shift=post.bias - post.running_mean * s, residual=res, prelu=u.prelu.weight)
    cur = _batch_norm(b, cur, m.head_bn, relu=True)
    cur = b.op("global_mean", cur)
    b.graph["output"] = _linear(b, cur, m.classifier)


def float_reference(model: Any, images: np.ndarray, *, kernel: Any = None, layers: Any = None,
                    batch_size: int = 500) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The float model's logits and binary activations, run as :func:`dither_lab.nn.evaluate.predict` runs it
    (inference mode, channels-last), for checking a program against.

    Args:
        model: the float model; kernel, layers: as in :func:`compile_model`.
        images: normalized float32 (N, C, H, W).
        batch_size: images per forward pass.

    Returns:
        (logits float32 (N, classes), {layer: bool (N, C, H, W), True for +1}).
    """
    import torch

    from dither_lab.nn.models import binary_layers, set_kernel

    m = copy.deepcopy(model).cpu().float().eval().to(memory_format=torch.channels_last)
    if kernel is not None:
        set_kernel(m, kernel, layers=layers)
    named = binary_layers(m)
    acts: dict[str, list[np.ndarray]] = {n: [] for n in named}
    hooks = [mod.register_forward_hook(lambda _m, _i, out, n=n: acts[n].append((out > 0).cpu().numpy()))
             for n, mod in named.items()]
    logits = []
    try:
        with torch.inference_mode():
            for i in range(0, len(images), batch_size):
                x = torch.from_numpy(np.ascontiguousarray(images[i : i + batch_size], dtype=np.float32))
                logits.append(m(x.contiguous(memory_format=torch.channels_last)).numpy())
    finally:
        for h in hooks:
            h.remove()
    return np.concatenate(logits), {n: np.ascontiguousarray(np.concatenate(v)) for n, v in acts.items()}
