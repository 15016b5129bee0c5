"""Bundled sample images: procedural test charts drawn here, and natural photos that scikit-image ships.

All samples are float32 in [0, 1], (H, W) for gray or (3, H, W) for colour.
"""

from __future__ import annotations

import numpy as np

from dither_lab._checks import check_choice, check_positive_int

CHARTS = ("gray-ramp", "zone-plate", "siemens-star")
PHOTOS = {"camera": "camera", "astronaut": "astronaut", "coffee": "coffee", "moon": "moon", "chelsea (cat)": "chelsea"}
SAMPLES = (*CHARTS, *PHOTOS)


def gray_ramp(height: int = 128, width: int = 512) -> np.ndarray:
    """Horizontal ramp from black to white: where one threshold shows a single hard edge."""
    return np.tile(np.linspace(0.0, 1.0, width, dtype=np.float32), (height, 1))


def zone_plate(size: int = 512) -> np.ndarray:
    """Circular zone plate ``0.5 + 0.5 cos(pi r^2 / (2 size))``: the local frequency ``r / (2 size)`` rises from 0 at
    the centre to 0.25 cycles/pixel at the edge midpoints, so every kernel's aliasing rings show up."""
    c = (np.arange(size) - size / 2).astype(np.float64)
    r2 = c[:, None] ** 2 + c[None, :] ** 2
    return (0.5 + 0.5 * np.cos(np.pi * r2 / (2 * size))).astype(np.float32)


def siemens_star(size: int = 512, spokes: int = 36) -> np.ndarray:
    """Siemens star: ``spokes`` sinusoidal sectors whose spatial frequency rises towards the centre."""
    c = np.arange(size) - (size - 1) / 2
    theta = np.arctan2(c[:, None], c[None, :])
    return (0.5 + 0.5 * np.sin(spokes * theta)).astype(np.float32)


def sample_image(name: str, *, mode: str = "gray", size: int = 512) -> np.ndarray:
    """A sample by name (``SAMPLES``), as float32 in [0, 1]; ``mode`` is ``"gray"`` or ``"rgb"``."""
    check_choice("sample", name, SAMPLES)
    check_choice("mode", mode, ("gray", "rgb"))
    size = check_positive_int("size", size, low=16, high=2048)
    if name == "gray-ramp":
        img = gray_ramp(max(16, size // 4), size)
    elif name == "zone-plate":
        img = zone_plate(size)
    elif name == "siemens-star":
        img = siemens_star(size)
    else:
        import skimage.data
        from skimage.color import rgb2gray

        arr = getattr(skimage.data, PHOTOS[name])()
        if arr.ndim == 3:
            rgb = arr[..., :3].astype(np.float32) / 255.0
            if mode == "gray":
                return rgb2gray(rgb).astype(np.float32)
            return np.moveaxis(rgb, -1, 0).copy()
        img = arr.astype(np.float32) / 255.0
    return np.stack([img] * 3) if mode == "rgb" else img
