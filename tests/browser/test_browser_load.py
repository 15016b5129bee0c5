"""Eight concurrent app sessions (browser contexts) uploading images and editing kernels: each sees only its own."""

from __future__ import annotations

import asyncio
import io

import numpy as np
from PIL import Image

KERNELS = ["bayer:4", "blue-noise:64", "cluster-dot:4", "preset:design-2x2-a", "preset:design-3x3-a", "bayer:8",
           "cluster-dot:8", "bayer:2"]
# each kernel's name in the session library: the default library's, else the kernel's own
LABELS = {"bayer:4": "Bayer 4x4", "blue-noise:64": "Blue noise 64", "cluster-dot:4": "Cluster-dot 4x4",
          "preset:design-2x2-a": "DeSign 2x2 (paper)", "preset:design-3x3-a": "DeSign 3x3 (paper)",
          "bayer:8": "Bayer 8x8", "cluster-dot:8": "cluster-dot 8x8", "bayer:2": "Bayer 2x2"}


def _png(i: int) -> bytes:
    arr = np.random.default_rng(i).integers(0, 256, (40, 40 + i), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


async def _idle(page) -> None:
    for _ in range(3):
        await asyncio.sleep(0.7)
        await page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                                     timeout=300_000)


async def _session(browser, url: str, i: int, tmp_path) -> dict:
    ctx = await browser.new_context(viewport={"width": 1300, "height": 900})
    page = await ctx.new_page()
    page.set_default_timeout(300_000)  # 8 sessions share 2 cores: each may wait long
    others = [k for k in KERNELS if k != KERNELS[i]]
    # edit the kernel a few times through the URL, then settle on this session's own
    for spec in (others[i % 7], KERNELS[i]):
        await page.goto(f"{url}/?kernel={spec}")
        await page.wait_for_selector("[data-testid='stMain'] h1")
        await _idle(page)
    path = tmp_path / f"session{i}.png"
    path.write_bytes(_png(i))
    # the page's uploader, not the sidebar's kernel library
    await page.locator("[data-testid='stMain'] input[type='file']").first.set_input_files(str(path))
    await page.get_by_text(f"input: session{i}.png").first.wait_for()
    await _idle(page)
    text = await page.locator("[data-testid='stMain']").inner_text()
    svg = " ".join(t or "" for t in await page.locator("svg text").all_text_contents())
    await ctx.close()
    return {"text": text + " " + svg}


def test_eight_concurrent_sessions_are_isolated(server, tmp_path, launch_options):
    from playwright.async_api import async_playwright

    async def run() -> list[dict]:
        async with async_playwright() as p:
            browser = await p.chromium.launch(**launch_options)
            try:
                return await asyncio.gather(*[_session(browser, server, i, tmp_path) for i in range(8)])
            finally:
                await browser.close()

    results = asyncio.run(run())
    for i, r in enumerate(results):
        seen = r["text"]
        assert f"input: session{i}.png" in seen
        assert LABELS[KERNELS[i]] in seen
        for j in range(8):
            if j != i:
                assert f"session{j}.png" not in seen  # no other session's image
        assert "Traceback" not in seen
