"""Images: decoding uploads and files to the core layout (float32 in [0, 1], (H, W) or (C, H, W)), PNG out."""

from __future__ import annotations

import io as _io
import os
from pathlib import Path
from typing import Any

import numpy as np

from dither_lab._checks import check_choice
from dither_lab.io.files import atomic_write


def to_float_image(array: np.ndarray) -> np.ndarray:
    """A decoded image (H, W) or (H, W, C), uint8/uint16/float, to the core layout: float32 in [0, 1],
    (H, W) or (C, H, W)."""
    a = np.asarray(array)
    if a.dtype == np.uint8:
        f = a.astype(np.float32) / 255.0
    elif a.dtype == np.uint16:
        f = a.astype(np.float32) / 65535.0
    elif a.dtype.kind == "f":
        f = np.nan_to_num(a.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
        if f.size and (f.min() < 0 or f.max() > 1):
            lo, hi = float(f.min()), float(f.max())
            f = (f - lo) / (hi - lo) if hi > lo else np.zeros_like(f)
    elif a.dtype == bool:
        f = a.astype(np.float32)
    else:
        raise ValueError(f"image dtype {a.dtype} is not supported (expected uint8, uint16, float or bool)")
    return np.moveaxis(f, -1, 0).copy() if f.ndim == 3 else f


#: Uploads larger than this are refused before decoding (decompression bombs); larger photos are downscaled.
MAX_IMAGE_PIXELS = 80_000_000


def decode_image(data: bytes, *, mode: str = "gray", max_side: int | None = None,
                 source: str = "image") -> tuple[np.ndarray, dict[str, Any]]:
    """Decode image bytes (PNG, JPEG, WebP, BMP, TIFF, GIF; by content, not name) to float32 in [0, 1].

    EXIF rotation is applied (shown upright), animations give their first frame, transparency is composited on
    white, 16-bit and float data keep their precision. Images with a longer side than ``max_side`` are
    downscaled (area averaging).

    Returns:
        ``(image, info)``: (H, W) for ``mode="gray"`` or (3, H, W) for ``"rgb"``; info has ``format``,
        ``original_size`` (W, H), ``frames``, ``downscaled`` and ``notes`` (sentences for the user).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    check_choice("mode", mode, ("gray", "rgb"))
    if not data:
        raise ValueError(f"{source} is empty (0 bytes)")
    notes: list[str] = []
    try:
        with Image.open(_io.BytesIO(data)) as im:
            w, h = im.size
            if w * h > MAX_IMAGE_PIXELS:
                raise ValueError(f"{source} declares {w}x{h} pixels, more than the {MAX_IMAGE_PIXELS // 1_000_000} "
                                 "megapixels this app accepts")
            fmt = im.format or "unknown"
            frames = int(getattr(im, "n_frames", 1) or 1)
            if frames > 1:
                im.seek(0)
                notes.append(f"{source} is animated ({frames} frames): the first frame is used.")
            im.load()
            im = ImageOps.exif_transpose(im)
            if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
                arr = np.asarray(im, dtype=np.float32)
                if im.mode.startswith("I;16"):
                    arr = arr / 65535.0
                else:
                    lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
                    arr = (arr - lo) / (hi - lo) if hi > lo else np.zeros_like(arr)
                    notes.append(f"{source} holds {im.mode} values; they were scaled from [{lo:g}, {hi:g}] to [0, 1].")
                gray = np.nan_to_num(arr, nan=0.0)
                img = gray if mode == "gray" else np.stack([gray] * 3)
            else:
                if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                    rgba = im.convert("RGBA")
                    bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                    im = Image.alpha_composite(bg, rgba)
                    notes.append(f"{source} has transparency: it is shown on white.")
                img = to_float_image(np.asarray(im.convert("L" if mode == "gray" else "RGB")))
    except UnidentifiedImageError:  # Pillow's message names the Python object it read from, not the file
        raise ValueError(f"{source} is not a readable image (its content is not PNG, JPEG, WebP, BMP, TIFF or GIF)") from None
    except (OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValueError(f"{source} is not a readable image ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    downscaled = False
    if max_side is not None and max(img.shape[-2:]) > max_side:
        img = _downscale(img, max_side)
        downscaled = True
        notes.append(f"{source} is {w}x{h}; it was downscaled to {img.shape[-1]}x{img.shape[-2]} for computing.")
    return img, {"format": fmt, "original_size": (w, h), "frames": frames, "downscaled": downscaled, "notes": notes}


def _downscale(img: np.ndarray, max_side: int) -> np.ndarray:
    from PIL import Image

    h, w = img.shape[-2:]
    f = max_side / max(h, w)
    size = (max(1, round(w * f)), max(1, round(h * f)))
    planes = img[None] if img.ndim == 2 else img
    out = np.stack([np.asarray(Image.fromarray(p.astype(np.float32), mode="F").resize(size, Image.Resampling.BOX))
                    for p in planes])
    out = np.clip(out, 0.0, 1.0).astype(np.float32)
    return out[0] if img.ndim == 2 else out


def read_image_bytes(data: bytes, *, mode: str = "gray", source: str = "image") -> np.ndarray:
    """Decode image bytes to float32 in [0, 1]; see :func:`decode_image`."""
    return decode_image(data, mode=mode, source=source)[0]


def load_image(path: str | os.PathLike, *, mode: str = "gray") -> np.ndarray:
    """Load an image file as float32 in [0, 1]; see :func:`read_image_bytes`."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"image file {p} does not exist")
    return read_image_bytes(p.read_bytes(), mode=mode, source=str(p))


def image_png_bytes(image: np.ndarray, *, compress_level: int = 6) -> bytes:
    """Encode a core-layout image ((H, W) or (C, H, W); float in [0, 1] or {0, 1} uint8) as PNG bytes."""
    from PIL import Image

    a = np.asarray(image)
    if a.dtype == np.uint8 and a.size and a.max() <= 1:
        a8 = a * 255
    else:
        a8 = (np.clip(a.astype(np.float32), 0, 1) * 255 + 0.5).astype(np.uint8)
    if a8.ndim == 3:
        a8 = np.moveaxis(a8, 0, -1)
        if a8.shape[-1] == 1:
            a8 = a8[..., 0]
    buf = _io.BytesIO()
    Image.fromarray(np.ascontiguousarray(a8)).save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def save_image(image: np.ndarray, path: str | os.PathLike, *, force: bool = False) -> Path:
    """Save a core-layout image as PNG, atomically."""
    data = image_png_bytes(image)
    return atomic_write(path, lambda fh: fh.write(data), force=force)
