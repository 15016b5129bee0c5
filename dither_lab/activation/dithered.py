"""The dithered Sign activation (DeSign): functional form, nn.Module and straight-through estimators.

Forward, for an input ``x`` of shape (N, C, H, W) and a threshold kernel ``T`` tiled over (H, W)::

    b[n, c, i, j] = +1  if  x[n, c, i, j] >= s_c * T[c mod F, (i + pi) mod m, (j + pj) mod n]  else  -1

with ``s_c = 1`` (the authors' TensorFlow code) or a per-channel scale such as the batch-norm gamma (their PyTorch
code). ``sign(0) = +1`` (with ``T = 0`` this is plain Sign, never ``torch.sign``, which maps 0 to 0). NaN inputs
compare false and give -1. The tile phase (pi, pj) is anchored at the top-left pixel by default;
``phase="center"`` reproduces the authors' centre-cropped tiling for sizes that are not multiples of the kernel.

Backward (straight-through estimators on ``d = x - s_c T``):

* ``"hardtanh"`` (BinaryNet): ``dL/dx = dL/db * 1[|d| <= 1]``.
* ``"approxsign"`` (Bi-Real Net's ApproxSign): ``dL/dx = dL/db * max(0, 2 - 2|d|)``.
* ``"identity"``: ``dL/dx = dL/db``.

The threshold receives ``-dL/dx`` summed over what it is broadcast across, so kernels can be learned.

References:
    Monroy et al., "Designed Dithering Sign Activation for Binary Neural Networks", arXiv:2405.02220.
    Courbariaux et al., "Binarized Neural Networks", arXiv:1602.02830 (hard-tanh STE).
    Liu et al., "Bi-Real Net", arXiv:1808.00278 (ApproxSign).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch
from torch import nn

from dither_lab._checks import check_choice
from dither_lab.activation._fused import STE_CODES, compare_rows, run_rows, ste_rows
from dither_lab.kernels import Kernel, as_kernel, resolve_phase, tile

STE_NAMES = ("hardtanh", "approxsign", "identity")


def ste_window(d: torch.Tensor, ste: str) -> torch.Tensor:
    """The surrogate derivative of the STE ``ste`` at ``d = x - threshold`` (see the module docstring)."""
    if ste == "hardtanh":
        return (d.abs() <= 1).to(d.dtype)
    if ste == "approxsign":
        return torch.clamp(2.0 - 2.0 * d.abs(), min=0.0)
    if ste == "identity":
        return torch.ones_like(d)
    raise ValueError(f"ste must be one of {', '.join(map(repr, STE_NAMES))}, got {ste!r}")


def _reduce_to(grad: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """Sum a broadcast gradient back to ``shape``."""
    while grad.dim() > len(shape):
        grad = grad.sum(0)
    for i, s in enumerate(shape):
        if s == 1 and grad.shape[i] != 1:
            grad = grad.sum(i, keepdim=True)
    return grad


class _DitheredSignFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, thr: torch.Tensor, ste: str) -> torch.Tensor:
        ctx.save_for_backward(x, thr)
        ctx.ste = ste
        return _compare(x, thr)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None, None]:
        x, thr = ctx.saved_tensors
        # the one-pass loop returns a plain tensor: where the backward itself is differentiated (create_graph), the
        # PyTorch expression keeps its graph
        g = None if torch.is_grad_enabled() or grad.requires_grad else _fused_ste(grad, x, thr, ctx.ste)
        if g is None:
            g = grad * ste_window(x - thr, ctx.ste)
        gx = g if ctx.needs_input_grad[0] else None
        gt = _reduce_to(-g, thr.shape) if ctx.needs_input_grad[1] else None
        return gx, gt, None


#: Below this many elements the fused loops' thread start-up costs more than PyTorch's extra passes.
FUSED_MIN = 1 << 15


def _rows(x: torch.Tensor, thr: torch.Tensor) -> tuple[np.ndarray, np.ndarray] | None:
    """``x`` and ``thr`` as the row views of :mod:`._fused` (NumPy, no copy of ``x``), or None where the fused
    loops do not apply (not the CPU, not float32/64, a layout other than contiguous or channels-last, a threshold
    map that does not broadcast as a tiled map does)."""
    if (x.device.type != "cpu" or x.dtype not in (torch.float32, torch.float64) or x.numel() < FUSED_MIN
            or thr.dtype != x.dtype or thr.device.type != "cpu" or x.dim() < 2 or thr.dim() > x.dim()):
        return None
    h, w = x.shape[-2:]
    t = thr.detach()
    if t.dim() < 2 or t.shape[-2:] != (h, w) or (t.dim() == 3 and t.shape[0] not in (1, x.shape[-3])):
        return None
    t = t.reshape(-1, h, w)
    if x.is_contiguous():
        return x.detach().numpy().reshape(-1, h * w), t.contiguous().numpy().reshape(-1, h * w)
    if x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last):
        rows = x.detach().permute(0, 2, 3, 1).numpy().reshape(-1, x.shape[1])  # (N*H*W, C), no copy
        t = t.expand(x.shape[1], h, w).permute(1, 2, 0).contiguous().numpy().reshape(h * w, x.shape[1])
        return rows, t
    return None


def _out_rows(out: torch.Tensor, like: np.ndarray) -> np.ndarray:
    view = out.permute(0, 2, 3, 1) if not out.is_contiguous() else out
    return view.numpy().reshape(like.shape)


def _fused_compare(x: torch.Tensor, thr: torch.Tensor) -> torch.Tensor | None:
    rows = _rows(x, thr)
    if rows is None:
        return None
    xr, tr = rows
    out = torch.empty_like(x)  # keeps x's memory format
    one = np.ones((), dtype=xr.dtype)[()]
    run_rows(compare_rows, xr.shape[0], torch.get_num_threads(), xr, tr, _out_rows(out, xr), one)
    return out


def _fused_ste(grad: torch.Tensor, x: torch.Tensor, thr: torch.Tensor, ste: str) -> torch.Tensor | None:
    rows = _rows(x, thr)
    if rows is None or grad.shape != x.shape or grad.dtype != x.dtype or grad.stride() != x.stride():
        return None
    xr, tr = rows
    gr = grad.permute(0, 2, 3, 1).numpy() if not grad.is_contiguous() else grad.numpy()
    out = torch.empty_like(x)
    one, zero = np.ones((), dtype=xr.dtype)[()], np.zeros((), dtype=xr.dtype)[()]
    run_rows(ste_rows, xr.shape[0], torch.get_num_threads(), gr.reshape(xr.shape), xr, tr, _out_rows(out, xr),
             STE_CODES[ste], one, zero)
    return out


def _compare(x: torch.Tensor, thr: torch.Tensor | float) -> torch.Tensor:
    """``+1`` where ``x >= thr``, else ``-1``, in ``x``'s dtype and memory layout.

    On the CPU a large map is compared in one pass (:mod:`._fused`: each element read once and written once); a
    small one is compared straight into a tensor of ``x``'s dtype and mapped to +-1 in place. On a GPU, where each
    kernel launch counts, it stays two kernels (compare, select)."""
    if isinstance(thr, torch.Tensor) and (fused := _fused_compare(x, thr)) is not None:
        return fused
    if x.device.type != "cpu":
        one = torch.ones((), dtype=x.dtype, device=x.device)
        return torch.where(x >= thr, one, -one)
    shape = torch.broadcast_shapes(x.shape, thr.shape) if isinstance(thr, torch.Tensor) else x.shape
    out = torch.empty_like(x) if shape == x.shape else x.new_empty(shape)
    torch.ge(x, thr, out=out)
    return out.mul_(2).sub_(1)


@functools.lru_cache(maxsize=32)
def _cached_map(kernel: Kernel, channels: int, height: int, width: int, pi: int, pj: int,
                dtype: torch.dtype, device: str) -> torch.Tensor:
    c = channels if kernel.is_3d else None
    t = tile(kernel, height, width, channels=c, phase=(pi, pj))
    if t.ndim == 2:
        t = t[None]
    # A normal tensor even when first built under inference mode: the cached map is later used under autograd.
    with torch.inference_mode(False):
        return torch.as_tensor(np.ascontiguousarray(t), dtype=dtype, device=device)


def threshold_map(kernel: Any, channels: int, height: int, width: int, *, phase: Any = "origin",
                  dtype: torch.dtype = torch.float32, device: Any = "cpu") -> torch.Tensor:
    """The tiled threshold map as a tensor of shape (1, H, W) for 2-D kernels or (C, H, W) for 3-D kernels.

    Maps of fixed kernels are cached (treat them as read-only); a kernel given as a tensor that requires grad
    is tiled by indexing, so gradients reach its entries, and so is any kernel tensor under ``torch.compile``
    (ops the compiler can trace, where the cached NumPy tiling is not). Any other kernel under ``torch.compile``
    (a spec, a Kernel, an array) is tiled outside the compiled graph: one graph break, the same map.
    """
    compiling = torch.compiler.is_compiling()
    if isinstance(kernel, torch.Tensor) and (kernel.requires_grad or compiling):
        if kernel.dim() not in (2, 3):
            raise ValueError(f"kernel must be 2-D (m, n) or 3-D (F, m, n), got shape {tuple(kernel.shape)}")
        pi_pj = resolve_phase(phase, tuple(kernel.shape), height, width)
        return _tile_tensor(kernel, channels, height, width, pi_pj).to(dtype)
    fixed = _fixed_map_outside_compiler if compiling else _fixed_map
    return fixed(kernel, channels, height, width, phase, dtype, device)


def _fixed_map(kernel: Any, channels: int, height: int, width: int, phase: Any, dtype: torch.dtype,
               device: Any) -> torch.Tensor:
    k = as_kernel(kernel)
    pi, pj = resolve_phase(phase, k.shape, height, width)
    return _cached_map(k, channels if k.is_3d else 1, height, width, pi, pj, dtype, str(torch.device(device)))


# The compiler cannot trace kernel parsing and the NumPy tiling; run them as plain Python when compiling.
_fixed_map_outside_compiler = torch.compiler.disable(_fixed_map)


def _tile_tensor(kernel: torch.Tensor, channels: int, height: int, width: int, phase: tuple[int, int]) -> torch.Tensor:
    """Tile a kernel tensor (m, n) or (F, m, n) by indexing (so gradients reach its entries): (1 or C, H, W)."""
    m, n = kernel.shape[-2:]
    rows = (torch.arange(height, device=kernel.device) + phase[0]) % m
    cols = (torch.arange(width, device=kernel.device) + phase[1]) % n
    k3 = kernel if kernel.dim() == 3 else kernel[None]
    if kernel.dim() == 3:
        k3 = k3.index_select(0, torch.arange(channels, device=kernel.device) % kernel.shape[0])
    return k3.index_select(1, rows).index_select(2, cols)


def dithered_sign(x: Any, kernel: Any = "sign", *, scale: Any = None, phase: Any = "origin",
                  ste: str = "hardtanh") -> Any:
    """Dithered Sign: ``+1 where x >= scale_c * T (tiled) else -1`` (see the module docstring).

    Args:
        x: torch tensor or NumPy array, shaped (N, C, H, W), (C, H, W) or (H, W). Any H and W.
        kernel: a Kernel, a spec string (batch-norm units, e.g. ``"preset:design-2x2-a"``), an array, or a
            tensor (which may require grad, for learned kernels).
        scale: optional per-channel scale of the thresholds, shape (C,) (e.g. the batch-norm gamma).
        phase: ``"origin"``, ``"center"`` (the authors' centre crop) or an (pi, pj) offset.
        ste: straight-through estimator for the backward pass: one of ``STE_NAMES``.

    Returns:
        Values in {-1, +1}, same type and shape as ``x``, floating dtype of ``x`` (float32 for integer input).

    Raises:
        ValueError: bad shape, kernel, scale, phase or ste name.

    Examples:
        >>> dithered_sign(np.zeros((2, 2)), [[0, 1], [1, 0]]).tolist()
        [[1.0, -1.0], [-1.0, 1.0]]
    """
    check_choice("ste", ste, STE_NAMES)
    is_numpy = isinstance(x, np.ndarray)
    if is_numpy:
        t = torch.from_numpy(np.ascontiguousarray(x))
    elif isinstance(x, torch.Tensor):
        t = x
    else:
        raise TypeError(f"x must be a torch.Tensor or numpy.ndarray, got {type(x).__name__}")
    if t.dim() not in (2, 3, 4):
        raise ValueError(f"x must be (N, C, H, W), (C, H, W) or (H, W), got shape {tuple(t.shape)}")
    if t.numel() == 0:
        raise ValueError(f"x must not be empty, got shape {tuple(t.shape)}")
    if not t.is_floating_point():
        t = t.to(torch.float32)
    c = 1 if t.dim() == 2 else t.shape[-3]
    h, w = t.shape[-2:]
    thr = threshold_map(kernel, c, h, w, phase=phase, dtype=t.dtype, device=t.device)
    if scale is not None:
        s = torch.as_tensor(scale, dtype=t.dtype, device=t.device)
        if s.dim() != 1 or s.shape[0] != c:
            raise ValueError(f"scale must have shape ({c},) (one value per channel), got {tuple(s.shape)}")
        thr = thr * s[:, None, None]
    if t.dim() == 2:
        thr = thr[0]
    if t.requires_grad or thr.requires_grad:
        out = _DitheredSignFn.apply(t, thr, ste)
    else:
        out = _compare(t, thr)
    return out.numpy() if is_numpy else out


class DitheredSign(nn.Module):
    """Module form of :func:`dithered_sign`; ``forward`` only delegates.

    Args:
        kernel: as in :func:`dithered_sign`.
        phase: as in :func:`dithered_sign`.
        ste: as in :func:`dithered_sign`.
        learnable: make the kernel values a trainable parameter (learned kernels; trained through the STE).

    Shape:
        Input (N, C, H, W), (C, H, W) or (H, W); output the same, in {-1, +1}.

    Examples:
        >>> act = DitheredSign("preset:design-2x2-a")
        >>> act(torch.zeros(1, 1, 2, 2)).tolist()
        [[[[-1.0, -1.0], [-1.0, -1.0]]]]
    """

    def __init__(self, kernel: Any = "sign", *, phase: Any = "origin", ste: str = "hardtanh",
                 learnable: bool = False) -> None:
        super().__init__()
        self.ste = check_choice("ste", ste, STE_NAMES)
        self.phase = phase
        self.set_kernel(kernel, learnable=learnable)

    def set_kernel(self, kernel: Any, *, learnable: bool | None = None) -> None:
        """Swap the kernel (keeps learnability unless ``learnable`` is given)."""
        if learnable is None:
            learnable = isinstance(getattr(self, "weight", None), nn.Parameter)
        if isinstance(kernel, torch.Tensor):
            kernel = kernel.detach().cpu().numpy()
        k = as_kernel(kernel)
        self.kernel = k
        if "weight" in self._parameters:
            del self._parameters["weight"]
        self.weight = nn.Parameter(torch.tensor(k.values, dtype=torch.float32)) if learnable else None
        # the fixed kernel's values as a tensor that moves with the module: what a compiled forward tiles
        old = self._buffers.get("values")
        device = old.device if old is not None else None
        self.register_buffer("values", torch.tensor(k.values, dtype=torch.float32, device=device), persistent=False)

    def current_kernel(self) -> Kernel:
        """The kernel in use (a learned kernel's current values)."""
        if self.weight is not None:
            return Kernel(self.weight.detach().cpu().numpy(), spec="custom", domain="bn", name="learned")
        return self.kernel

    def forward(self, x: torch.Tensor, scale: torch.Tensor | None = None) -> torch.Tensor:
        if self.weight is not None:
            kernel: Any = self.weight
        else:
            kernel = self.values if torch.compiler.is_compiling() else self.kernel
        return dithered_sign(x, kernel, scale=scale, phase=self.phase, ste=self.ste)

    def extra_repr(self) -> str:
        return f"kernel={self.kernel.spec!r}, shape={self.kernel.shape}, ste={self.ste!r}, learnable={self.weight is not None}"
