"""The image lab says what its numbers show: the viewing condition, the takeaway, which way each column is better,
one name per kernel, one error scale, and kernels made in place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dither_lab.imaging.compare import compare, takeaway
from dither_lab.imaging.metrics import METRICS, VIEWING
from dither_lab.imaging.samples import sample_image
from dither_lab.ui.widgets import download_name
from tests.app.app_helpers import marked as _marked

APP = str(Path(__file__).resolve().parents[2] / "app.py")
NAMES = {"sign": "Sign", "bayer:4": "Bayer 4x4", "preset:design-2x2-a": "DeSign 2x2 (paper)"}


def _lab(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_viewing_condition_drives_the_eye_weighted_metric():
    at = _lab()
    assert at.radio(key="lab_view").value == "print"
    assert any("printed at 300 dpi, seen from 30 cm (61.8 pixels/degree)" in c.value for c in at.main.caption)
    eye = "eye-weighted PSNR (dB) ↑"
    camera = sample_image("camera")
    printed = compare(camera, ["bayer:4"], names=NAMES)
    assert at.dataframe[0].value[eye].tolist() == pytest.approx([o.metrics["csf_psnr"] for o in printed])
    assert printed[1].metrics["csf_psnr"] > printed[0].metrics["csf_psnr"] + 5  # at print, dithering is well ahead
    at.radio(key="lab_view").set_value("screen").run()
    screen = compare(camera, ["bayer:4"], names=NAMES, pixels_per_degree=VIEWING["screen"].pixels_per_degree)
    assert at.dataframe[0].value[eye].tolist() == pytest.approx([o.metrics["csf_psnr"] for o in screen])
    assert at.info[0].value == takeaway(screen) and "Shown 1:1 at 96 pixels per inch" in at.info[0].value
    at.radio(key="lab_view").set_value("custom").run()  # it opens at print's condition, the same numbers as print's
    assert at.dataframe[0].value[eye].tolist() == [o.metrics["csf_psnr"] for o in printed]
    at.number_input(key="lab_view_ppd").set_value(120.0).run()
    far = compare(camera, ["bayer:4"], pixels_per_degree=120.0)
    assert at.dataframe[0].value[eye].tolist() == pytest.approx([o.metrics["csf_psnr"] for o in far])
    assert "Seen at 120.0 pixels/degree" in at.info[0].value
    assert any("120.0 pixels/degree" in c.value for c in at.main.caption)


def test_tables_say_which_way_is_better_and_mark_the_best():
    at = _lab(kernel="preset:design-2x2-a")
    at.multiselect(key="lab_kernels").set_value(["Bayer 4x4", "DeSign 2x2 (paper)"]).run()
    tone, pixels = at.dataframe[0], at.dataframe[1]
    assert list(tone.value.columns) == ["output", "spec", "tone error ↓", "eye-weighted PSNR (dB) ↑",
                                        "local correlation ↑", "share of 1s → mean"]
    assert list(pixels.value.columns) == ["output", "PSNR (dB) ↑", "SSIM ↑", "TV ratio → 1", "residual corr. → 0"]
    assert list(tone.value["output"]) == ["Sign", "Bayer 4x4", "DeSign 2x2 (paper)"]
    config = json.loads(tone.proto.columns)
    assert config["output"]["pinned"] and config["tone error ↓"]["help"] == METRICS["tone_error"].help
    assert "Best near the input's mean, 0.506." in config["share of 1s → mean"]["help"]
    # Bayer keeps tone, detail and the mean; Sign wins pixel by pixel, which the caption explains
    assert _marked(tone) == {(1, "tone error ↓"), (1, "eye-weighted PSNR (dB) ↑"), (1, "local correlation ↑"),
                             (1, "share of 1s → mean")}
    assert (0, "PSNR (dB) ↑") in _marked(pixels) and (0, "SSIM ↑") in _marked(pixels)
    assert any("PSNR and SSIM count any binary texture as error" in c.value for c in at.main.caption)
    assert any("input's mean tone is 0.506" in c.value for c in at.main.caption)


def test_the_takeaway_says_the_papers_kernel_darkens_once():
    at = _lab(kernel="preset:design-2x2-a")
    assert at.info[0].value.startswith("Sign keeps local tone best here")
    assert "DeSign 2x2 (paper) darkens the image: 28% of its pixels are white" in at.info[0].value
    assert "all its thresholds lie above mid-gray: 0.62 to 0.83 in image units" in at.info[0].value
    assert not any("darkens" in w.value for w in at.warning)  # the takeaway sits right above the panels: said once


def test_one_name_and_one_error_scale_for_every_kernel():
    at = _lab()
    at.multiselect(key="lab_kernels").set_value(["Bayer 4x4", "DeSign 2x2 (paper)"]).run()
    at.multiselect(key="lab_diffusion").set_value(["atkinson"]).run()
    names = ["Sign", "Bayer 4x4", "DeSign 2x2 (paper)", "Atkinson diffusion"]
    charts = {c.proto.id: json.loads(c.proto.spec) for c in at.get("plotly_chart")}
    panels = next(s for k, s in charts.items() if "lab_panels" in k)
    assert [a["text"] for a in panels["layout"]["annotations"]] == ["input: camera", *names]
    maps = [s for k, s in charts.items() if "lab_err_" in k]
    assert sorted(m["layout"]["title"]["text"] for m in maps) == sorted(names)
    scales = {(m["data"][0]["zmin"], m["data"][0]["zmax"]) for m in maps}
    assert len(scales) == 1 and next(iter(scales))[0] == -next(iter(scales))[1]
    assert any(f"from -{next(iter(scales))[1]:g} (blue: too dark)" in c.value for c in at.main.caption)
    labels = [b.proto.label for b in at.get("download_button") if "lab_dl_" in b.proto.id]
    assert labels == [f"{n} (PNG)" for n in names]
    assert download_name("DeSign 2x2 (paper)", "png") == "design-2x2-paper.png"
    assert download_name("***", "png") == "output.png"


def test_a_kernel_made_in_place_joins_the_comparison_and_the_library():
    at = _lab()
    at.selectbox(key="lab_make_gen").set_value("blue-noise").run()
    at.select_slider(key="lab_make_blue-noise_size").set_value(32).run()
    at.number_input(key="lab_make_blue-noise_seed").set_value(5).run()
    at.slider(key="lab_make_blue-noise_strength").set_value(0.5).run()
    assert any("Adds `blue-noise:32:seed=5:strength=0.5` as **blue noise 32x32 (seed 5), strength 0.5**" in c.value
               for c in at.main.caption)
    at.button(key="lab_make_add").click().run()
    assert not at.exception
    name = "blue noise 32x32 (seed 5), strength 0.5"
    assert at.session_state["dl_library"][name] == "blue-noise:32:seed=5:strength=0.5"
    assert at.multiselect(key="lab_kernels").value == ["Bayer 4x4", name]
    assert list(at.dataframe[0].value["output"]) == ["Sign", "Bayer 4x4", name]
    assert any(f"Added {name!r}" in s.value for s in at.success)
    # a kernel the library holds already keeps its name and is not added twice
    at.selectbox(key="lab_make_gen").set_value("preset").run()
    at.button(key="lab_make_add").click().run()
    assert at.multiselect(key="lab_kernels").value == ["Bayer 4x4", name, "DeSign 2x2 (paper)"]
    assert list(at.session_state["dl_library"].values()).count("preset:design-2x2-a") == 1
    assert any("Added 'DeSign 2x2 (paper)' to the comparison (the library had it already)" in s.value
               for s in at.success)
    at.button(key="lab_make_add").click().run()  # once more: nothing changes, and the page says so
    assert at.multiselect(key="lab_kernels").value == ["Bayer 4x4", name, "DeSign 2x2 (paper)"]
    assert any("'DeSign 2x2 (paper)' is compared already" in i.value for i in at.info)
    # every generator the registry offers with settings is there, but Sign (always compared)
    assert "Sign (one threshold)" not in at.selectbox(key="lab_make_gen").options
    assert "Bayer" in at.selectbox(key="lab_make_gen").options
