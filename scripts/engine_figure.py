"""Draw docs/images/engine.png: where a dithered threshold table sits inside the packed engine (PIL only).

    python scripts/engine_figure.py docs/images/engine.png

One output pixel of a binary convolution: its receptive field's bits (packed 64 to a word) XOR the packed
weights, popcount, the exact integer accumulator, then the compare with the integer threshold of this pixel's
kernel cell (i mod m, j mod n) and channel, written as one bit of the output word. Below, the table for Sign
(one threshold per channel) and for a 2x2 DeSign kernel (four per channel), tiled over the map.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

W, H = 1500, 800
INK = (30, 30, 40)
MUTED = (110, 110, 125)
BLUE = (66, 110, 180)
ORANGE = (230, 140, 40)
CELL_COLORS = [(250, 215, 160), (170, 210, 240), (190, 230, 180), (240, 180, 190)]


def font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def box(d: ImageDraw.ImageDraw, xy, text: str, *, fill=(245, 245, 250), outline=INK, size=20, sub: str = "") -> None:
    d.rounded_rectangle(xy, radius=10, fill=fill, outline=outline, width=2)
    x0, y0, x1, y1 = xy
    f = font(size)
    tw = d.textlength(text, font=f)
    ty = (y0 + y1) / 2 - (size if sub else size / 2 + 2)
    d.text(((x0 + x1 - tw) / 2, ty), text, fill=INK, font=f)
    if sub:
        fs = font(15)
        sw = d.textlength(sub, font=fs)
        d.text(((x0 + x1 - sw) / 2, ty + size + 6), sub, fill=MUTED, font=fs)


def arrow(d: ImageDraw.ImageDraw, a, b, *, color=INK) -> None:
    d.line([a, b], fill=color, width=3)
    (x0, y0), (x1, y1) = a, b
    if abs(x1 - x0) >= abs(y1 - y0):
        s = 1 if x1 > x0 else -1
        d.polygon([(x1, y1), (x1 - 12 * s, y1 - 7), (x1 - 12 * s, y1 + 7)], fill=color)
    else:
        s = 1 if y1 > y0 else -1
        d.polygon([(x1, y1), (x1 - 7, y1 - 12 * s), (x1 + 7, y1 - 12 * s)], fill=color)


def bits(d: ImageDraw.ImageDraw, x: int, y: int, pattern: str, *, cell=14, color=BLUE) -> None:
    for k, ch in enumerate(pattern):
        fill = color if ch == "1" else (255, 255, 255)
        d.rectangle([x + k * cell, y, x + (k + 1) * cell - 2, y + cell], fill=fill, outline=MUTED)


def draw(path: Path) -> None:
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    d.text((30, 20), "Inside the packed engine: one output pixel (i, j), output channel o", fill=INK, font=font(28))

    # top row: the data path
    y = 90
    d.text((30, y), "input bits: taps x channels, 64 per word", fill=MUTED, font=font(16))
    bits(d, 30, y + 30, "1011001110100101")
    bits(d, 30, y + 50, "0110110001011100")
    d.text((30, y + 75), "weights of channel o, same order", fill=MUTED, font=font(16))
    bits(d, 30, y + 100, "1001011100110001", color=ORANGE)
    bits(d, 30, y + 120, "0100111001011010", color=ORANGE)
    arrow(d, (285, y + 85), (330, y + 85))
    box(d, (335, y + 40, 545, y + 130), "XOR + popcount", sub="mismatches over the words")
    arrow(d, (545, y + 85), (610, y + 85))
    box(d, (615, y + 40, 860, y + 130), "acc = valid*C - 2*mism.", sub="exact integer dot product", size=19)
    arrow(d, (860, y + 85), (925, y + 85))
    box(d, (925, y + 30, 1195, y + 140), "acc >= k[cell, o]", sub="cell = (i mod m, j mod n); xor flip[o]",
        fill=(255, 243, 225), outline=ORANGE, size=21)
    arrow(d, (1190, y + 85), (1255, y + 85))
    box(d, (1260, y + 40, 1470, y + 130), "bit o of the", sub="output word of (i, j)")
    d.text((615, y + 150), "zero padding: a tap outside the input has 0 patch bits; its weight bits",
           fill=MUTED, font=font(15))
    d.text((615, y + 170), "counted as mismatches are added back, so it contributes 0, as in the float model",
           fill=MUTED, font=font(15))

    # the table
    ty = 330
    arrow(d, (1060, ty - 10), (1060, y + 142), color=ORANGE)
    d.text((30, ty), "The threshold table: integer thresholds folded from batch norm + the (dithered) threshold",
           fill=INK, font=font(22))
    d.text((30, ty + 32), "k = the least accumulator whose float32(acc) * alpha passes the float model's compare,"
           " found by evaluating it at all 2K+1 values", fill=MUTED, font=font(16))

    # Sign: one threshold per channel
    sx, sy = 60, ty + 90
    d.text((sx, sy - 30), "Sign: a (1, 1, C) table", fill=INK, font=font(20))
    for c in range(4):
        d.rectangle([sx + c * 46, sy, sx + c * 46 + 40, sy + 40], fill=(225, 225, 235), outline=INK)
        d.text((sx + c * 46 + 8, sy + 10), f"k{c}", fill=INK, font=font(16))
    d.text((sx, sy + 50), "every pixel of channel c", fill=MUTED, font=font(15))
    d.text((sx, sy + 70), "compares with k[0, 0, c]", fill=MUTED, font=font(15))

    # DeSign 2x2: four per channel, tiled over the map
    dx, dy = 420, ty + 90
    d.text((dx, dy - 30), "DeSign 2x2: a (2, 2, C) table", fill=INK, font=font(20))
    for a in range(2):
        for b in range(2):
            col = CELL_COLORS[a * 2 + b]
            d.rectangle([dx + b * 62, dy + a * 62, dx + b * 62 + 56, dy + a * 62 + 56], fill=col, outline=INK)
            d.text((dx + b * 62 + 8, dy + a * 62 + 18), f"k{a}{b},c", fill=INK, font=font(15))
    d.text((dx, dy + 135), "C thresholds (one per", fill=MUTED, font=font(15))
    d.text((dx, dy + 155), "channel) per kernel cell", fill=MUTED, font=font(15))
    arrow(d, (dx + 140, dy + 60), (dx + 290, dy + 60))

    mx, my = dx + 300, dy + 10
    d.text((mx, my - 28), "tiled over the H x W map: pixel (i, j) reads cell (i mod 2, j mod 2)", fill=INK, font=font(17))
    n = 8
    for i in range(n):
        for j in range(n):
            col = CELL_COLORS[(i % 2) * 2 + (j % 2)]
            d.rectangle([mx + j * 30, my + i * 30, mx + j * 30 + 28, my + i * 30 + 28], fill=col, outline=(150, 150, 160))
    hi, hj = 5, 2
    d.rectangle([mx + hj * 30 - 2, my + hi * 30 - 2, mx + hj * 30 + 30, my + hi * 30 + 30], outline=ORANGE, width=4)
    d.text((mx + n * 30 + 20, my + 60), "the same compare, the same", fill=INK, font=font(17))
    d.text((mx + n * 30 + 20, my + 84), "cost: only which cell of the", fill=INK, font=font(17))
    d.text((mx + n * 30 + 20, my + 108), "table a pixel reads changes", fill=INK, font=font(17))
    d.text((mx + n * 30 + 20, my + 150), "a 3-D kernel: channel c uses", fill=MUTED, font=font(15))
    d.text((mx + n * 30 + 20, my + 170), "slice c mod F, already in the", fill=MUTED, font=font(15))
    d.text((mx + n * 30 + 20, my + 190), "per-channel thresholds", fill=MUTED, font=font(15))

    d.text((30, H - 60), "Where no binary convolution feeds the activation (the first layer, ResNet's residual stream), "
           "the table holds the float model's own float32 thresholds theta and the engine compares the real value.",
           fill=MUTED, font=font(15))
    d.text((30, H - 36), "A 2x2 max-pool between convolution and activation is taken on the accumulators: "
           "float32(acc) * alpha never decreases in acc, so max and compare commute.", fill=MUTED, font=font(15))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, optimize=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python scripts/engine_figure.py OUTPUT.png", file=sys.stderr)
        return 2
    draw(Path(args[0]))
    print(f"wrote {args[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
