"""Small validation helpers used once, at the public entry points of the core.

Every helper raises ``ValueError`` (bad value, shape or name) or ``TypeError`` (wrong type) with a message that
names the argument, what was expected and what came.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

MAX_KERNEL_SIDE = 256
#: Generated rank kernels (the shipped 512x512 blue-noise mask) may be larger than hand-made ones.
MAX_GENERATED_SIDE = 512


def check_choice(name: str, value: Any, valid: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``valid``, else raise a ValueError listing the valid names."""
    valid = list(valid)
    if not isinstance(value, str) or value not in valid:
        raise ValueError(f"{name} must be one of {', '.join(repr(v) for v in valid)}, got {value!r}")
    return value


def check_kernel_values(values: Any, *, name: str = "kernel", max_side: int = MAX_KERNEL_SIDE) -> np.ndarray:
    """Validate threshold-kernel values and return them as a new float64 array.

    A kernel is 2-D (m, n) or 3-D (F, m, n), each side 1..max_side (256), every entry a finite number.
    """
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be an array of numbers, got {type(values).__name__}")
    try:
        arr = np.array(values, dtype=np.float64)
    except (ValueError, TypeError) as exc:
        # Ragged rows or non-numeric cells end here.
        raise ValueError(f"{name} must be a rectangular array of numbers ({exc})") from None
    if arr.ndim not in (2, 3):
        raise ValueError(f"{name} must be 2-D (m, n) or 3-D (F, m, n), got shape {arr.shape}")
    if arr.size == 0 or min(arr.shape) < 1:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if max(arr.shape) > max_side:
        raise ValueError(f"{name} sides must be 1..{max_side}, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        raise ValueError(f"{name} must contain only finite numbers, got {bad} NaN or infinite entr{'y' if bad == 1 else 'ies'}")
    return arr


def check_image(image: Any, *, name: str = "image") -> np.ndarray:
    """Validate a float image in [0, 1] shaped (H, W) or (C, H, W); return it as float32 (no copy if possible)."""
    if not isinstance(image, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(image).__name__}")
    if image.ndim not in (2, 3):
        raise ValueError(f"{name} must be (H, W) or (C, H, W), got shape {image.shape}")
    if image.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {image.shape}")
    if image.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be numeric, got dtype {image.dtype}")
    if image.dtype.kind in "iub":
        raise ValueError(
            f"{name} must be float in [0, 1], got dtype {image.dtype}; convert with dither_lab.io.to_float_image"
        )
    return image.astype(np.float32, copy=False)


def check_positive_int(name: str, value: Any, *, low: int = 1, high: int | None = None) -> int:
    """Return ``value`` as int if it is an integer in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    value = int(value)
    if value < low or (high is not None and value > high):
        upper = "" if high is None else f"..{high}"
        raise ValueError(f"{name} must be in {low}{upper}, got {value}")
    return value


def check_same_shape(a: np.ndarray, b: np.ndarray, *, names: tuple[str, str] = ("reference", "test")) -> None:
    """Raise ValueError unless two arrays have the same shape."""
    if a.shape != b.shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same shape, got {a.shape} and {b.shape}")
