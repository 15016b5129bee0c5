"""The kernel designer's generator panel: the settings that show a spec make that spec's kernel."""

from __future__ import annotations

import numpy as np
import pytest

from dither_lab.kernels import make_kernel
from dither_lab.ui.generator import DEFAULTS, settings_of, shows, spec_of


@pytest.mark.parametrize("spec", ["bayer:16", "bayer:4:strength=0.35", "blue-noise:16", "blue-noise:8:seed=3:sigma=2.2",
                                  "cluster-dot:12", "random:5x3:seed=7", "random:4", "preset:design-3x3-b", "sign",
                                  "cluster-dot:8:strength=0"])
def test_settings_make_the_kernel_they_show(spec):
    settings = settings_of(spec)
    assert settings is not None
    made = spec_of({**DEFAULTS, **settings}, current="bayer:2")
    np.testing.assert_array_equal(make_kernel(made).values, make_kernel(spec).values)
    assert shows({**DEFAULTS, **settings}, spec) and shows({**DEFAULTS, **settings}, made)


@pytest.mark.parametrize("spec", ["bayer:32", "blue-noise:64", "random:2x2x2", "random:17x3", "preset:design-2x2-a:strength=2",
                                  "bayer:4:strength=0.33", "levels:1,1;0,3", "custom:0.1,0.2", "constant:0.3",
                                  "blue-noise:8:sigma=9", "nonsense:3"])
def test_kernels_no_setting_makes_have_none(spec):
    assert settings_of(spec) is None


def test_the_current_kernel_setting_makes_the_current_kernel():
    assert spec_of({"des_gen": "Current kernel"}, current="levels:1,1;0,3") == "levels:1,1;0,3"
    assert not shows(DEFAULTS, "bayer:8") and shows(DEFAULTS, "bayer:4")


def test_the_strength_slider_steps_by_its_step():
    # settings_of shows a strength only on the slider's grid of 0.05 steps, starting from 1
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=120)
    at.query_params["kernel"] = "bayer:8"
    at.run()
    at.switch_page("app_pages/kernel_designer.py").run()
    strength = at.slider(key="des_strength")
    assert strength.value == 1.0 and strength.proto.step == pytest.approx(0.05)
