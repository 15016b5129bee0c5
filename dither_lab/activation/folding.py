"""Batch norm followed by the dithered Sign, folded into one comparison per (channel, position) for inference.

That is why a dithered Sign costs a network no extra arithmetic: the kernel changes which constant each output is
compared with, not how many operations there are; it adds only the m x n thresholds per channel it stores.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from dither_lab.activation.dithered import _compare, threshold_map


def fold_batchnorm_thresholds(bn: nn.BatchNorm2d, kernel: Any, height: int, width: int, *,
                              scale_by_gamma: bool = False, phase: Any = "origin",
                              dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fold an eval-mode BatchNorm2d followed by the dithered Sign into one comparison.

    With ``y = gamma (x - mu) / sqrt(var + eps) + beta`` and the output ``+1 iff y >= s_c T``, solving for
    ``x`` gives a threshold per (channel, position). For ``gamma > 0``: ``+1 iff x >= theta``; for ``gamma < 0``:
    ``+1 iff x <= theta``, written as ``-1 iff x >= nextafter(theta, inf)``; for ``gamma == 0`` the output is
    the constant ``beta >= s_c T``, encoded with infinite thresholds.

    Returns:
        ``(theta, hi, lo)``: theta (C, H, W) and hi, lo (C, 1, 1), so that ``where(x >= theta, hi, lo)`` equals
        ``dithered_sign(bn(x), kernel, scale=gamma if scale_by_gamma else None)``.
    """
    if not isinstance(bn, nn.BatchNorm2d):
        raise TypeError(f"bn must be a torch.nn.BatchNorm2d, got {type(bn).__name__}")
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError("bn has no running statistics (track_running_stats=False): it normalizes each batch by its "
                         "own statistics, which no fixed threshold can fold")
    if bn.training:
        raise ValueError("bn is in training mode, where it normalizes by the batch's statistics: call .eval() "
                         "before folding")
    c = bn.num_features
    f64 = torch.float64
    dev = next((t.device for t in (bn.running_mean, bn.weight) if t is not None), torch.device("cpu"))
    mu = bn.running_mean.to(f64)
    var = bn.running_var.to(f64)
    gamma = bn.weight.detach().to(f64) if bn.weight is not None else torch.ones(c, dtype=f64, device=dev)
    beta = bn.bias.detach().to(f64) if bn.bias is not None else torch.zeros(c, dtype=f64, device=dev)
    sd = torch.sqrt(var + bn.eps)
    t = threshold_map(kernel, c, height, width, phase=phase, dtype=f64, device=dev).expand(c, height, width)
    s = gamma if scale_by_gamma else torch.ones(c, dtype=f64, device=dev)
    target = s[:, None, None] * t  # compare y >= target
    g = gamma[:, None, None]
    safe_g = torch.where(g == 0, torch.ones_like(g), g)
    theta = (mu[:, None, None] + sd[:, None, None] * (target - beta[:, None, None]) / safe_g).to(dtype)
    neg = (g < 0).expand_as(theta)
    theta = torch.where(neg, torch.nextafter(theta, torch.full_like(theta, float("inf"))), theta)
    zero = (g == 0).expand_as(theta)
    const_on = beta[:, None, None].expand_as(target) >= target
    inf = torch.full_like(theta, float("inf"))
    theta = torch.where(zero, torch.where(const_on, -inf, inf), theta)
    hi = torch.where(gamma < 0, -1.0, 1.0).to(dtype)[:, None, None]
    return theta.contiguous(), hi, -hi


class FoldedThreshold(nn.Module):
    """Inference form of BatchNorm2d + dithered Sign: a single comparison per element, as cheap as Sign.

    Built by :meth:`from_batchnorm`; ``forward(x) = where(x >= theta, hi, lo)``. When every gamma is positive
    (the common case) ``hi, lo = +1, -1`` and the compare uses scalars.
    """

    def __init__(self, theta: torch.Tensor, hi: torch.Tensor, lo: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("theta", theta)
        # the same thresholds laid out channels-last: a compare whose operands disagree in layout is about twice as
        # slow, and the models' inference runs channels-last (oneDNN's fast layout)
        self.register_buffer("theta_cl", theta.permute(1, 2, 0).contiguous().permute(2, 0, 1), persistent=False)
        self.register_buffer("hi", hi)
        self.register_buffer("lo", lo)
        self.all_positive = bool(torch.all(hi > 0))

    @classmethod
    def from_batchnorm(cls, bn: nn.BatchNorm2d, kernel: Any, height: int, width: int, *,
                       scale_by_gamma: bool = False, phase: Any = "origin",
                       dtype: torch.dtype = torch.float32) -> FoldedThreshold:
        return cls(*fold_batchnorm_thresholds(bn, kernel, height, width, scale_by_gamma=scale_by_gamma, phase=phase,
                                              dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-3:] != self.theta.shape:
            raise ValueError(f"input must end in {tuple(self.theta.shape)} (C, H, W) for this folding, got {tuple(x.shape)}")
        cl = x.dim() == 4 and not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last)
        theta = self.theta_cl if cl else self.theta
        if self.all_positive:
            return _compare(x, theta)
        return torch.where(x >= theta, self.hi, self.lo)
