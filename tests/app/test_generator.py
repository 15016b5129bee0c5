"""The kernel builder: built from the kernel registry, and the settings that show a spec make that spec's kernel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from dither_lab.kernels import GENERATORS, make_kernel
from dither_lab.kernels.spec import Param, register_generator
from dither_lab.ui.generator import CURRENT, menu_generators, settings_of, shows, spec_of

APP = str(Path(__file__).resolve().parents[2] / "app.py")
OFFERED = [*menu_generators(), CURRENT]


@pytest.mark.parametrize("spec", ["bayer:16", "bayer:4:strength=0.35", "blue-noise:16", "blue-noise:8:seed=3:sigma=2.2",
                                  "blue-noise:128", "cluster-dot:12", "random:5x3:seed=7", "preset:design-3x3-b", "sign",
                                  "cluster-dot:8:strength=0", "constant:0.5", "preset:design-2x2-a:strength=2"])
def test_settings_make_the_kernel_they_show(spec):
    settings = settings_of(spec, "p", offered=OFFERED)
    assert settings is not None
    made = spec_of(settings, "p", current="bayer:2")
    np.testing.assert_array_equal(make_kernel(made).values, make_kernel(spec).values)
    assert shows(settings, spec, "p", offered=OFFERED) and shows(settings, made, "p", offered=OFFERED)


@pytest.mark.parametrize("spec", ["bayer:32", "blue-noise:512", "random:2x2x2", "random:17x3", "bayer:4:strength=0.33",
                                  "levels:1,1;0,3", "custom:0.1,0.2", "blue-noise:8:sigma=9", "nonsense:3"])
def test_kernels_no_setting_makes_have_none(spec):
    assert settings_of(spec, "p", offered=OFFERED) is None


def test_the_menus_are_the_registry():
    # every generator with settings (and Sign, whose spec is its name) is offered; none that reads a file
    assert menu_generators() == [n for n, g in GENERATORS.items() if g.params or n == "sign"]
    assert "file" not in menu_generators() and "custom" not in menu_generators()
    assert menu_generators(exclude=("sign", "constant"))[0] == "bayer"
    # a generator registered with settings shows up in every builder with no change to the app
    register_generator("test-flat", syntax="test-flat:V", arg_format="{value}", label="Flat (test)",
                       params=(Param("value", "Value", "float", 0.25, low=0.0, high=1.0, step=0.25, option=False),))(
        lambda s: make_kernel(f"constant:{s.arg}"))
    try:
        assert "test-flat" in menu_generators()
        assert spec_of({"p_gen": "test-flat", "p_test-flat_value": 0.75}, "p") == "test-flat:0.75"
        assert settings_of("test-flat:0.5", "p", offered=menu_generators()) == {"p_gen": "test-flat",
                                                                                 "p_test-flat_value": 0.5}
    finally:
        del GENERATORS["test-flat"]


def test_the_current_kernel_setting_makes_the_current_kernel():
    assert spec_of({"des_gen": CURRENT}, "des", current="levels:1,1;0,3") == "levels:1,1;0,3"
    assert spec_of({}, "des") == "bayer:4"  # the builder starts on Bayer at its registered default
    assert not shows({}, "bayer:8", "des", offered=OFFERED) and shows({}, "bayer:4", "des", offered=OFFERED)


def test_the_designer_panel_draws_every_setting_of_the_registry():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["kernel"] = "bayer:8"
    at.run()
    at.switch_page("app_pages/kernel_designer.py").run()
    assert not at.exception
    assert at.selectbox(key="des_gen").options == [GENERATORS[n].label for n in menu_generators()] + ["Current kernel"]
    strength = at.slider(key="des_bayer_strength")
    assert strength.value == 1.0 and strength.proto.step == pytest.approx(0.05)
    assert at.select_slider(key="des_bayer_size").options == ["2", "4", "8", "16"]
    at.selectbox(key="des_gen").set_value("random").run()
    assert [w.label for w in at.number_input if w.key.startswith("des_random_")] == ["Rows", "Columns", "Seed"]
    at.selectbox(key="des_gen").set_value("preset").run()
    preset = at.selectbox(key="des_preset_name")
    assert preset.value == "design-2x2-a" and "DeSign 3x3 symmetric [[3,1,3],[1,0,1],[3,1,3]]" in preset.options
