"""Kernels are named for what they are (a scaled kernel says its strength), grids and search results become specs,
and the registry names the choices of its menus."""

from __future__ import annotations

import numpy as np
import pytest

from dither_lab.kernels import GENERATORS, PRESET_HELP, grid_kernel, levels_spec, make_kernel


@pytest.mark.parametrize(("spec", "name"), [("bayer:4", "Bayer 4x4"), ("bayer:4:strength=0.5", "Bayer 4x4, strength 0.5"),
                                            ("blue-noise:16:seed=3:strength=2", "blue noise 16x16 (seed 3), strength 2"),
                                            ("random:3x3:seed=1:strength=0.25", "random 3x3 (seed 1), strength 0.25"),
                                            ("preset:design-2x2-a:strength=0", "design-2x2-a, strength 0"),
                                            ("levels:1,1;0,3:strength=1", "levels")])
def test_a_scaled_kernel_is_never_named_as_the_original(spec, name):
    assert make_kernel(spec).name == name


def test_grids_and_levels_become_specs_that_rebuild_them():
    grid = np.array([[[0.25, -1.5], [2.0, 0.0]]])
    k = grid_kernel(grid, name="mine")
    assert k.shape == (2, 2) and k.name == "mine" and k.spec == "custom:0.25,-1.5;2,0"
    np.testing.assert_array_equal(make_kernel(k.spec).values, grid[0])
    three = grid_kernel(np.stack([grid[0], -grid[0]]))
    assert three.is_3d and "|" in three.spec and make_kernel(three.spec) == three
    with pytest.raises(ValueError):
        grid_kernel(np.array([[[np.nan]]]))
    assert levels_spec(np.array([[5, 5], [5, 5]])) == "levels:5,5;5,5"
    assert make_kernel(levels_spec([[1, 1], [0, 3]])) == make_kernel("preset:design-2x2-a")


def test_menus_name_the_presets_as_the_paper_does():
    name = next(p for p in GENERATORS["preset"].params if p.name == "name")
    assert [name.label_of(c) for c in name.choices] == [PRESET_HELP[c] for c in name.choices]
    size = next(p for p in GENERATORS["bayer"].params if p.name == "size")
    assert size.label_of(8) == "8"
