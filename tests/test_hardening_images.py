"""Every kind of image a user may feed: a correct result or one clear sentence, never a traceback."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from dither_lab.io import MAX_IMAGE_PIXELS, decode_image


def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _gradient(w=40, h=30) -> np.ndarray:
    return (np.add.outer(np.arange(h), np.arange(w)) * 255 // (h + w)).astype(np.uint8)


GOOD = {
    "png gray": lambda: _save(Image.fromarray(_gradient()), "PNG"),
    "jpeg rgb": lambda: _save(Image.fromarray(np.stack([_gradient()] * 3, -1)), "JPEG"),
    "webp": lambda: _save(Image.fromarray(np.stack([_gradient()] * 3, -1)), "WEBP"),
    "bmp": lambda: _save(Image.fromarray(_gradient()), "BMP"),
    "tiff 16-bit": lambda: _save(Image.fromarray(_gradient().astype(np.uint16) * 257), "TIFF"),
    "tiff float": lambda: _save(Image.fromarray(_gradient().astype(np.float32) / 7.0), "TIFF"),
    "cmyk jpeg": lambda: _save(Image.fromarray(np.stack([_gradient()] * 3, -1)).convert("CMYK"), "JPEG"),
    "palette png with transparency": lambda: _save(Image.fromarray(_gradient()).convert("P"), "PNG", transparency=0),
    "rgba": lambda: _save(Image.fromarray(np.dstack([_gradient()] * 3 + [_gradient()])), "PNG"),
    "la": lambda: _save(Image.fromarray(np.dstack([_gradient(), _gradient()]), mode="LA"), "PNG"),
    "1x1": lambda: _save(Image.new("L", (1, 1), 128), "PNG"),
    "very wide": lambda: _save(Image.new("L", (6000, 2), 200), "PNG"),
}


def _expected(name: str) -> tuple[np.ndarray, float]:
    """What each GOOD image must decode to (gray, [0, 1]) and how closely: lossless formats exactly (8 and 16 bits
    alike: v * 257 / 65535 = v / 255), lossy ones within 5 levels, transparency composited on white
    (a gray g at alpha g shows g * g + (1 - g)), a float TIFF scaled from [0, its maximum] to [0, 1]."""
    g = _gradient() / 255.0
    return {
        "png gray": (g, 1e-6), "bmp": (g, 1e-6), "tiff 16-bit": (g, 1e-6),
        "jpeg rgb": (g, 5 / 255), "webp": (g, 5 / 255), "cmyk jpeg": (g, 5 / 255),
        "tiff float": (_gradient() / _gradient().max(), 1e-6),
        "palette png with transparency": (np.where(_gradient() == 0, 1.0, g), 1e-6),  # index 0 is transparent
        "rgba": (g * g + (1 - g), 1 / 255), "la": (g * g + (1 - g), 1 / 255),
        "1x1": (np.full((1, 1), 128 / 255), 1e-6),
        "very wide": (np.full((1, 1024), 200 / 255), 1e-6),  # 6000x2 downscaled to fit 1024 pixels
    }[name]


@pytest.mark.parametrize("name", list(GOOD))
def test_good_images_decode_to_their_values(name):
    img, info = decode_image(GOOD[name](), mode="gray", max_side=1024, source=name)
    want, atol = _expected(name)
    assert img.dtype == np.float32 and img.shape == want.shape
    np.testing.assert_allclose(img, want, rtol=0, atol=atol)
    # a gray picture in colour: three equal channels, each the gray decode
    rgb, _ = decode_image(GOOD[name](), mode="rgb", max_side=1024, source=name)
    assert rgb.shape == (3, *img.shape)
    np.testing.assert_allclose(rgb, np.broadcast_to(img, rgb.shape), rtol=0, atol=1 / 255)


def test_sixteen_bit_keeps_precision():
    arr = (np.arange(256, dtype=np.uint16) * 257).reshape(16, 16)
    img, _ = decode_image(_save(Image.fromarray(arr), "TIFF"))
    np.testing.assert_allclose(img.ravel(), arr.ravel() / 65535.0, atol=1e-6)


def test_transparency_is_composited_on_white_and_said():
    rgba = np.zeros((4, 4, 4), np.uint8)  # fully transparent black
    img, info = decode_image(_save(Image.fromarray(rgba), "PNG"))
    assert np.allclose(img, 1.0) and any("transparency" in n for n in info["notes"])


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animated_first_frame_said(fmt):
    frames = [Image.new("L", (8, 8), v) for v in (10, 200, 90)]
    buf = io.BytesIO()
    frames[0].save(buf, format=fmt, save_all=True, append_images=frames[1:], lossless=True)
    img, info = decode_image(buf.getvalue())
    assert info["frames"] == 3 and any("first frame" in n for n in info["notes"])
    assert abs(float(img.mean()) - 10 / 255) < 0.02


def test_exif_rotation_shown_upright():
    arr = np.zeros((20, 40), np.uint8)
    arr[:, :20] = 255  # left half white, 40 wide x 20 high
    im = Image.fromarray(arr)
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90 CW to display
    img, _ = decode_image(_save(im, "JPEG", exif=exif))
    assert img.shape == (40, 20)  # shown upright: portrait
    assert img[:20].mean() > 0.9 and img[20:].mean() < 0.1


def test_large_photo_is_downscaled_with_a_notice():
    big = Image.fromarray(np.random.default_rng(0).integers(0, 255, (5000, 8000), dtype=np.uint8))  # 40 megapixels
    img, info = decode_image(_save(big, "PNG", compress_level=1), max_side=1024, source="photo.png")
    assert max(img.shape) == 1024 and info["downscaled"]
    assert any("downscaled" in n for n in info["notes"])


@pytest.mark.parametrize("name, data, match", [
    ("empty", b"", "empty \\(0 bytes\\)"),
    ("html renamed .png", b"<html><body>hi</body></html>", "not a readable image"),
    ("text", b"just some text\n" * 10, "not a readable image"),
])
def test_bad_bytes_one_sentence(name, data, match):
    with pytest.raises(ValueError, match=match) as err:
        decode_image(data, source=name)
    assert "object at 0x" not in str(err.value) and "_io." not in str(err.value)  # said for a user, not Python's repr


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_files(fmt):
    data = _save(Image.fromarray(np.random.default_rng(1).integers(0, 255, (200, 200), dtype=np.uint8)), fmt)
    with pytest.raises(ValueError, match="not a readable image"):
        decode_image(data[: len(data) // 3], source=f"cut.{fmt.lower()}")


def test_decompression_bomb_refused_before_decoding():
    # A tiny PNG whose header declares an enormous size: refused from the header, nothing is allocated.
    import struct
    import zlib

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    ihdr = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 0, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b"")
    assert len(data) < 500
    with pytest.raises(ValueError, match="megapixels|not a readable image"):
        decode_image(data, source="bomb.png")
    assert MAX_IMAGE_PIXELS < 50_000 * 50_000
