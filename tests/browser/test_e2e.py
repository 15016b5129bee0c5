"""End-to-end: the real app in headless Chromium (Debian's package) driven by Playwright.

Visits every page of ``streamlit run app.py`` (fixtures in conftest.py), uploads an image, changes a kernel,
runs accuracy, and saves screenshots to tests/browser/screenshots/.
"""

from __future__ import annotations

import io
import time

import numpy as np
from PIL import Image

from tests.browser.browser_helpers import settle


def _no_exception(pg) -> None:
    assert pg.locator("[data-testid='stException']").count() == 0, pg.locator("[data-testid='stException']").first.inner_text()


def _png_bytes() -> bytes:
    y, x = np.mgrid[0:96, 0:128]
    img = ((np.sin(x / 6.0) * np.cos(y / 9.0) + 1) * 127).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def test_image_lab_upload_and_kernel_from_url(page, server, tmp_path, shots):
    page.goto(f"{server}/?kernel=blue-noise:64")
    settle(page)
    _no_exception(page)
    assert page.locator("h1").first.inner_text().startswith("Image lab")
    png = tmp_path / "waves.png"
    png.write_bytes(_png_bytes())
    # the page's uploader, not the sidebar's kernel library
    page.locator("[data-testid='stMain'] input[type='file']").first.set_input_files(str(png))
    settle(page)
    _no_exception(page)
    page.get_by_text("input: waves.png").first.wait_for(state="attached", timeout=90_000)
    page.get_by_text("Blue noise 64").first.wait_for(state="attached", timeout=90_000)  # its library name
    page.screenshot(path=str(shots / "image_lab.png"), full_page=True)


def test_bad_upload_gives_one_clear_sentence(page, server, tmp_path):
    page.goto(f"{server}/")
    settle(page)
    bad = tmp_path / "fake.png"
    bad.write_bytes(b"<html>not an image</html>")
    # the page's uploader, not the sidebar's kernel library
    page.locator("[data-testid='stMain'] input[type='file']").first.set_input_files(str(bad))
    settle(page)
    _no_exception(page)
    page.get_by_text("is not a readable image").first.wait_for(state="attached", timeout=90_000)


def test_kernel_designer_loads_and_saves(page, server, shots):
    page.goto(f"{server}/kernel_designer")
    settle(page)
    _no_exception(page)
    _pick(page, "Generator", "Random")  # a kernel the library does not hold yet
    page.get_by_role("button", name="Load into the editor").click()
    settle(page)
    page.get_by_role("button", name="Save to library").click()
    settle(page)
    page.get_by_text("Saved as").first.wait_for(state="attached", timeout=90_000)
    page.screenshot(path=str(shots / "kernel_designer.png"), full_page=True)
    page.get_by_test_id("stSidebarUserContent").get_by_text("Kernel library").click()  # the sidebar lists what was saved and offers it as one file
    page.get_by_role("button", name="Download the library (7 kernels)").wait_for(timeout=30_000)
    _no_exception(page)


def test_accuracy_strength_sweep(page, server):
    page.goto(f"{server}/accuracy?model=fashion-mnist-design")
    settle(page)
    page.get_by_role("button", name="Run the sweep").click()
    settle(page)
    _no_exception(page)
    page.get_by_text("Best: strength").first.wait_for(timeout=90_000)


def test_feature_maps_page(page, server, shots):
    page.goto(f"{server}/feature_maps?kernel=preset:design-2x2-a")
    settle(page)
    _no_exception(page)
    page.screenshot(path=str(shots / "feature_maps.png"), full_page=True)


def test_a_click_on_the_mosaic_selects_its_channel(page, server):
    # Only a browser sends plotly's selection: a click anywhere on a channel's tile (the nearest tile centre
    # carries the channel) selects it, and the channel field, the framed tile and the link follow
    page.goto(f"{server}/feature_maps?model=fashion-mnist-design&kernel=preset:design-2x2-a&layer=0&channel=0")
    settle(page)
    mosaic = page.locator("[data-testid='stPlotlyChart']").nth(3)
    mosaic.scroll_into_view_if_needed()
    panel = mosaic.locator(".nsewdrag").first.bounding_box()  # the first montage: 32 channels, 6 to a row
    image = mosaic.locator("g.imagelayer image").first.bounding_box()
    x, y = image["x"] + image["width"] * 2.5 / 6, image["y"] + image["height"] * 1.5 / 6  # row 1, column 2
    assert panel["x"] <= x <= panel["x"] + panel["width"]
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    settle(page)
    _no_exception(page)
    assert page.locator("[data-testid='stNumberInputField']").first.input_value() == "8"
    assert "channel=" not in page.url  # the URL no longer names the channel the link opened
    page.get_by_text("channel 8 framed").first.wait_for(state="attached")


def test_accuracy_runs(page, server, shots):
    page.goto(f"{server}/accuracy?kernel=preset:design-2x2-a")
    settle(page)
    _no_exception(page)
    page.get_by_text("beyond chance").first.wait_for(state="attached")  # the grid keeps its header hidden
    page.get_by_text("What the kernels cost").wait_for()
    page.get_by_text("compares / image").first.wait_for(state="attached")
    page.screenshot(path=str(shots / "accuracy.png"), full_page=True)


def test_learn_page_and_link(page, server, shots):
    page.goto(f"{server}/learn")
    settle(page)
    _no_exception(page)
    page.screenshot(path=str(shots / "learn.png"), full_page=True)
    page.get_by_text("Compare with Sign on a photo").click()
    settle(page)
    _no_exception(page)
    assert "kernel=bayer" in page.url and "sample=camera" in page.url


def test_kernel_study_page(page, server, shots):
    page.goto(f"{server}/study")
    settle(page)
    _no_exception(page)
    page.get_by_text("Sign against DeSign").first.wait_for()
    page.locator(".js-plotly-plot").first.wait_for()  # the accuracy-by-kernel chart is drawn
    page.screenshot(path=str(shots / "study.png"), full_page=True)
    # Every row of the kernel table shows: at Streamlit's default height a table scrolls after ten rows, which hid
    # most of the kernels below the fold of their own table.
    table = page.locator("[data-testid='stDataFrame']").nth(2)
    rows = table.locator("table tbody tr").count()
    assert rows > 10 and table.bounding_box()["height"] >= 35 * (rows + 1)
    page.get_by_text("CIFAR-10 (JPEG copy)").click()
    settle(page)
    _no_exception(page)


def test_cifar_feature_maps_from_a_sample_photo(page, server, shots):
    page.goto(f"{server}/feature_maps?model=cifar10-design&kernel=bayer:2")
    settle(page)
    _no_exception(page)
    page.get_by_text("sample photo").first.wait_for()
    page.screenshot(path=str(shots / "feature_maps_cifar10.png"), full_page=True)


def _pick(pg, label: str, option: int | str) -> str:
    """Choose a select box's option by position or by name; returns its text."""
    pg.locator("[data-testid='stSelectbox']").filter(has_text=label).click()
    item = pg.get_by_role("option").nth(option) if isinstance(option, int) else pg.get_by_role("option", name=option)
    text = item.inner_text()
    item.click()
    settle(pg)
    return text


def _shown(pg, label: str) -> str:
    """The option a select box shows."""
    return pg.locator("[data-testid='stSelectbox']").filter(has_text=label).get_by_role("combobox").input_value()


def test_feature_maps_index_stepped_by_keyboard(page, server):
    # Each arrow key reruns the page while the run before is still computing its maps; such overlapping runs
    # took each other's maps (or none) on the shared model, which left "Binary layer" with no option and the page
    # died with KeyError: None after a dozen steps.
    page.goto(f"{server}/feature_maps?kernel=bayer:2")
    settle(page)
    slider = page.get_by_role("slider").first
    for option in (1, 2):
        layer = _pick(page, "Binary layer", option)
        slider.focus()
        for _ in range(20):
            page.keyboard.press("ArrowRight")
            time.sleep(0.4)
            _no_exception(page)
        settle(page)
        _no_exception(page)
        assert _shown(page, "Binary layer") == layer, f"after 20 steps the layer is no longer {layer!r}"
    assert page.get_by_test_id("stSliderThumbValue").first.inner_text() == "40"  # every step taken


def test_choices_survive_a_failed_upload_and_the_page_navigation(page, server, tmp_path):
    # A failed upload stopped the page before it drew the kernel and layer fields, and the browser reset them; the
    # sidebar's navigation dropped ?kernel= from the URL, so the next page (or a reload) opened another kernel.
    page.goto(f"{server}/feature_maps?kernel=bayer:2")
    settle(page)
    _pick(page, "Kernel for the dithered Sign", "Blue noise 64")
    layer = _pick(page, "Binary layer", 2)
    page.get_by_test_id("stRadioGroup").get_by_text("upload").click()
    settle(page)
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"<html>not an image</html>")
    page.locator("[data-testid='stMain'] input[type='file']").first.set_input_files(str(bad))
    settle(page)
    page.get_by_text("is not a readable image").first.wait_for(state="attached")
    good = tmp_path / "waves.png"
    good.write_bytes(_png_bytes())
    page.locator("[data-testid='stMain'] input[type='file']").first.set_input_files(str(good))
    settle(page)
    _no_exception(page)
    assert (_shown(page, "Kernel for the dithered Sign"), _shown(page, "Binary layer")) == ("Blue noise 64", layer)
    assert "kernel=blue-noise" in page.url and "model=" in page.url
    page.get_by_test_id("stSidebarNav").get_by_text("Accuracy").click()
    settle(page)
    _no_exception(page)
    assert "kernel=blue-noise" in page.url  # the link of this view names the kernel in use
    page.get_by_text("blue-noise:64").first.wait_for(state="attached")  # and the page swaps that kernel in
    page.reload()
    settle(page)
    page.get_by_text("blue-noise:64").first.wait_for(state="attached")
