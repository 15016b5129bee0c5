"""What the nn package builds and ships: architectures, residual units, binary activations (a registry), and the
pretrained models. It imports no PyTorch, so the command line lists them without loading it.

Adding a binary activation is one function and one registration::

    @register_activation("my-act", summary="...")
    def _my_act(channels: int, kernel: Any) -> Any:
        return kernel if kernel is not None else "bayer:4"   # the kernel it starts from

The function gives the kernel a layer of ``channels`` channels starts from (a spec, a Kernel or an array);
``learnable=True`` makes that kernel a trained parameter (through the straight-through estimator).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ARCHS = ("vgg-small", "resnet-20", "fmnist-net")
UNITS = ("plain", "bn-prelu")
DEFAULT_DESIGN = "preset:design-2x2-a"
DEFAULT_DESIGN3D = "preset:design3d-2x2x4"


@dataclass(frozen=True)
class ActivationKind:
    """A registered binary activation: the kernel a layer starts from, and whether it is learned."""

    name: str
    kernel: Callable[[int, Any], Any]
    learnable: bool
    summary: str


#: name -> ActivationKind, in registration order. Add to it with :func:`register_activation` only.
ACTIVATIONS: dict[str, ActivationKind] = {}


def register_activation(name: str, *, learnable: bool = False,
                        summary: str = "") -> Callable[[Callable[[int, Any], Any]], Callable[[int, Any], Any]]:
    """Decorator registering ``kernel(channels, kernel_arg) -> kernel`` as the binary activation ``name``."""
    if name in ACTIVATIONS:
        raise ValueError(f"binary activation {name!r} is registered already")

    def register(fn: Callable[[int, Any], Any]) -> Callable[[int, Any], Any]:
        ACTIVATIONS[name] = ActivationKind(name, fn, learnable, summary)
        return fn

    return register


@register_activation("sign", summary="plain Sign: one threshold, 0")
def _sign(channels: int, kernel: Any) -> Any:
    return "sign"


@register_activation("rsign", learnable=True, summary="ReActNet's RSign: a learned threshold per channel")
def _rsign(channels: int, kernel: Any) -> Any:
    import numpy as np  # here: the catalog itself imports nothing heavy

    return np.zeros((channels, 1, 1))


@register_activation("design", summary="DeSign: a fixed threshold kernel (the paper's 2x2 by default)")
def _design(channels: int, kernel: Any) -> Any:
    return DEFAULT_DESIGN if kernel is None else kernel


@register_activation("design3d", summary="DeSign3D: a channel-cycled kernel (the paper's 2x2x4 by default)")
def _design3d(channels: int, kernel: Any) -> Any:
    return DEFAULT_DESIGN3D if kernel is None else kernel


@register_activation("learned", learnable=True, summary="a threshold kernel learned with the weights")
def _learned(channels: int, kernel: Any) -> Any:
    return DEFAULT_DESIGN if kernel is None else kernel


#: The input each dataset gives a network: channels and side (pixels).
INPUTS: dict[str, dict[str, int]] = {"fashion-mnist": {"in_channels": 1, "image_size": 28},
                                     "cifar10": {"in_channels": 3, "image_size": 32}}

#: Shipped pretrained models: name -> (asset path, dataset). Trained by scripts/train_pretrained.py's recipe.
PRETRAINED = {
    "fashion-mnist-sign": ("models/fashion-mnist-fmnist-net-sign.safetensors", "fashion-mnist"),
    "fashion-mnist-design": ("models/fashion-mnist-fmnist-net-design.safetensors", "fashion-mnist"),
    "cifar10-sign": ("models/cifar10-resnet-20-sign.safetensors", "cifar10"),
    "cifar10-design": ("models/cifar10-resnet-20-design.safetensors", "cifar10"),
}
