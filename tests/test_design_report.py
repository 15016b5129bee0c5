"""What a kernel search's numbers show in words: the winner, the paper's kernels of the searched size, degenerate
winners (a constant kernel is Sign moved; levels 0 and 9 only draw a fixed pattern)."""

from __future__ import annotations

import pytest

from dither_lab.data import embedded_subset
from dither_lab.design import (
    DEFAULT_OBJECTIVE,
    OBJECTIVE_LABELS,
    OBJECTIVES,
    best_varying,
    compared_kernels,
    design_kernel,
    gray_images,
    is_constant,
    ranking_rows,
    search,
    search_takeaway,
    simulate_responses,
)


@pytest.fixture(scope="module")
def levels():
    return simulate_responses(gray_images(embedded_subset().images[:60]), seed=0)


def test_every_objective_has_a_label():
    assert set(OBJECTIVE_LABELS) == set(OBJECTIVES)


def test_is_constant():
    assert is_constant([[5, 5], [5, 5]]) and is_constant([[[0.2]]])
    assert not is_constant([[5, 5], [5, 3]]) and not is_constant([])


def test_the_default_objective_is_won_by_a_dither(levels):
    # local tone (2x2 local means against the response's): the winner spreads its thresholds over the levels
    res = search(levels, 2, 2, objective=DEFAULT_OBJECTIVE)
    best = res["best"][0]["levels"]
    assert DEFAULT_OBJECTIVE == "tone" and not is_constant(best) and len({v for row in best for v in row}) == 4
    assert "It is constant" not in search_takeaway(res)


def test_a_pixel_by_pixel_objective_is_won_by_a_constant_kernel_and_the_takeaway_says_so(levels):
    res = search(levels, 2, 2, objective="tv_match")
    assert is_constant(res["best"][0]["levels"])  # TV matched is won by Sign moved on these responses
    text = search_takeaway(res)
    assert text.startswith("By TV matched to the response (lower is better), the best of all 1,296 2x2 kernels is")
    assert "It is constant" in text and "Sign moved, not a dither" in text
    varying = best_varying(res)
    assert varying is not None and not is_constant(varying["levels"]) and varying["rank"] > 1
    assert f"the best kernel that varies is {varying['levels']} (rank {varying['rank']}" in text
    for name, e in res["presets"].items():  # every paper 2x2 kernel, with its rank
        assert name.startswith("design-2x2") and f"{name} {e['rank']:,}" in text
    rows = ranking_rows(res)
    assert rows[0]["note"] == "constant: Sign moved" and rows[0]["rank ↓"] == 1 and "score ↓" in rows[0]
    assert [r["kernel"] for r in rows if r["kernel"].endswith("(paper)")] == [
        f"{n} (paper)" for n, _ in sorted(res["presets"].items(), key=lambda p: p[1]["rank"])]
    titles = [t for t, _ in compared_kernels(res)]
    assert titles[1].startswith("best that varies") and titles[2:] == [f"{n} (paper)" for n in sorted(res["presets"])]


def test_a_3x3_search_is_compared_with_the_papers_3x3_kernels():
    res = search(simulate_responses(gray_images(embedded_subset().images[:20]), seed=0), 3, 3, objective="correlation")
    assert sorted(res["presets"]) == ["design-3x3-a", "design-3x3-b", "design-3x3-c"]
    text = search_takeaway(res)
    assert "all 10,077,696 3x3 kernels" in text and "design-3x3-a" in text and "design-2x2" not in text
    assert [t for t, _ in compared_kernels(res)][-3:] == [f"design-3x3-{x} (paper)" for x in "abc"]


def test_tv_is_won_by_a_fixed_pattern(levels):
    res = search(levels, 2, 2, objective="tv")
    text = search_takeaway(res)
    assert "(higher is better)" in text and "the same pattern whatever the image" in text
    assert ranking_rows(res)[0]["note"] == "levels 0 and 9 only: a fixed pattern" and "score ↑" in ranking_rows(res)[0]


def test_local_and_3d_results_are_said(levels):
    images = gray_images(embedded_subset().images[:60])
    local = design_kernel(images, 4, 4, objective=DEFAULT_OBJECTIVE, restarts=2)
    text = search_takeaway(local)
    assert "a local search from 3 starts found" in text and "a local optimum" in text
    three = design_kernel(images, 2, 2, objective=DEFAULT_OBJECTIVE, slices=2)
    text = search_takeaway(three)
    assert "each slice is the best for its own channels: slice 0" in text and "slice 1" in text
    flat = [s["slice"] for s in three["slices"] if is_constant(s["levels"])]
    assert ("is constant" in text or "are constant" in text) == bool(flat)
