import numpy as np
import pytest

from dither_lab import design as D
from dither_lab.cli import main
from dither_lab.data import embedded_subset
from dither_lab.kernels import LEVELS


@pytest.fixture(scope="module")
def levels():
    return D.simulate_responses(D.gray_images(embedded_subset().images[:60]), seed=0)


def test_responses_are_relu_levels():
    rng = np.random.default_rng(0)
    lv = D.simulate_responses(rng.random((3, 10, 12)), seed=1)
    assert lv.shape == (3, 8, 10) and lv.max() <= 5
    # independent check of one pixel: ReLU of the 3x3 correlation of the {-1,+1} image with the seeded kernel
    imgs = rng.random((1, 5, 5))
    w = np.random.default_rng(7).choice([-1, 1], size=(3, 3))
    s = np.where(imgs[0] >= 0.5, 1, -1)
    expected = max(0, int((s[1:4, 2:5] * w).sum()))
    assert D.simulate_responses(imgs, seed=7)[0, 1, 2] == list(LEVELS).index(expected)
    with pytest.raises(ValueError, match="H, W >= 3"):
        D.simulate_responses(np.zeros((1, 2, 5)))


@pytest.mark.parametrize("objective", D.TABLE_OBJECTIVES)
def test_tables_equal_simulation_2x2_exactly(levels, objective):
    cands = D.all_candidates(2, 2)
    np.testing.assert_allclose(D.score_tables(D.build_tables(levels, 2, 2), cands, objective=objective),
                               D.score_simulated(levels, cands, objective=objective), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("objective", ["tv", "mse", "correlation"])
def test_tables_equal_simulation_on_3x3_sample(levels, objective):
    rng = np.random.default_rng(0)
    idx = rng.choice(6**9, size=40, replace=False)
    cands = np.stack([D.candidate_digits(3, 3, int(i), int(i) + 1)[0].reshape(3, 3) for i in idx])
    np.testing.assert_allclose(D.score_tables(D.build_tables(levels, 3, 3), cands, objective=objective),
                               D.score_simulated(levels, cands, objective=objective), rtol=1e-10, atol=1e-12)


def test_tv_optimum_is_the_degenerate_checkerboard(levels):
    res = D.search(levels, 2, 2, objective="tv", top=3)
    best = np.array(res["best"][0]["levels"])
    assert sorted(best.ravel().tolist()) == [0, 0, 9, 9] and best[0, 0] == best[1, 1]
    assert set(res["presets"]) == {"design-2x2-a", "design-2x2-b", "design-2x2-c"}
    matched = D.search(levels, 2, 2, objective="tv_match", top=3)
    assert matched["best"][0]["levels"] != res["best"][0]["levels"]
    assert res["count"] == 1296 and sum(res["histogram"]["counts"]) == 1296


def test_search_errors(levels):
    with pytest.raises(ValueError, match="does not decompose"):
        D.search(levels, 2, 2, objective="csf_psnr")
    with pytest.raises(ValueError, match="objective must be one of"):
        D.search(levels, 2, 2, objective="beauty")


def test_cli_design_json(capsys):
    import json

    assert main(["design", "--size", "2x2", "--count", "20", "--objective", "tv", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["count"] == 1296 and res["images"] == 20  # 6 levels in 4 cells: 6^4 candidates
    best = np.array(res["best"][0]["levels"])  # maximum total variation: levels 0 and 9 in a checkerboard
    assert sorted(best.ravel().tolist()) == [0, 0, 9, 9] and best[0, 0] == best[1, 1]
    assert [e["rank"] for e in res["best"]] == list(range(1, len(res["best"]) + 1))
    assert main(["design", "--size", "4x4", "--method", "table"]) == 2  # exhaustive stops at 3x3
    assert "local method" in capsys.readouterr().err
    assert main(["design", "--size", "4x4", "--count", "20", "--json"]) == 0  # auto: local search past 3x3
    res = json.loads(capsys.readouterr().out)
    assert res["method"] == "local" and np.array(res["kernel_levels"]).shape == (4, 4)
    assert main(["design", "--size", "axb"]) == 2
    assert main(["design", "--size", "17x2", "--method", "local"]) == 2


def test_levels_from_data_match_firing_rates(levels):
    rng = np.random.default_rng(0)
    act = rng.standard_normal(100_000)
    table = D.levels_from_data(levels, act)
    assert list(table) == list(LEVELS)
    assert all(a <= b for a, b in zip(list(table.values()), list(table.values())[1:], strict=False))
    for i, level in enumerate(LEVELS):  # the measured map fires as often as the level does
        assert (act >= table[level]).mean() == pytest.approx((levels >= i).mean(), abs=2e-3)
    with pytest.raises(ValueError, match="must not be empty"):
        D.levels_from_data(levels, np.array([]))


def test_cli_scale_from_model(capsys):
    import json

    assert main(["design", "--count", "50", "--scale-from", "fashion-mnist-design", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    data = res["levels_to_bn_from_data"]
    assert list(data) == ["0", "1", "3", "5", "7", "9"]
    assert list(data.values()) == sorted(data.values())  # a higher level fires less often: a higher threshold
    # the authors' table, from their released code
    assert res["levels_to_bn_authors"] == {"0": 0.3118, "1": 0.631, "3": 0.9671, "5": 1.3352, "7": 1.7656, "9": 2.3419}
    assert main(["design", "--scale-from", "nope"]) == 2


@pytest.mark.parametrize("objective", D.TABLE_OBJECTIVES)
@pytest.mark.parametrize("size", [2, 3])
def test_local_search_finds_the_exhaustive_optimum(levels, objective, size):
    exact = D.search(levels, size, size, objective=objective, top=1)["best"][0]
    local = D.local_search(levels, size, size, objective=objective, restarts=32, seed=0)
    assert local["best"][0]["score"] == pytest.approx(exact["score"], rel=1e-12, abs=1e-12)
    for run in local["starts"]:  # every start ends in a local optimum: no single entry improves it
        cur = np.searchsorted(D.LEVEL_VALUES, np.array(run["levels"]).ravel())
        tables = D.build_tables(levels, size, size)
        sign = -1 if D.MAXIMIZE[objective] else 1
        base = sign * D.score_tables(tables, cur[None], objective=objective)[0]
        for p in range(size * size):
            c = np.repeat(cur[None], 6, axis=0)
            c[:, p] = np.arange(6)
            assert (sign * D.score_tables(tables, c, objective=objective)).min() >= base - 1e-9


def test_local_search_larger_kernels_and_inits(levels):
    best = D.search(levels, 2, 2, objective="tv", top=1)["best"][0]
    res = D.local_search(levels, 4, 4, objective="tv", restarts=2, init=np.tile(best["levels"], (2, 2)))
    assert res["best"][0]["score"] >= best["score"] - 1e-12  # a 4x4 kernel can draw the 2x2 optimum, its start
    assert len(res["starts"]) == 3 and res["size"] == [4, 4]
    nested = D.local_search(levels, 2, 2, objective="tv", restarts=0, init=[[0, 9], [9, 0]])  # one kernel as lists
    assert [r["start"] for r in nested["starts"]] == [[[0, 9], [9, 0]]]
    two = D.local_search(levels, 2, 2, objective="tv", restarts=0, init=[[[0, 9], [9, 0]], [[5, 5], [5, 5]]])
    assert len(two["starts"]) == 2
    with pytest.raises(ValueError, match="init kernels must be 4x4"):
        D.local_search(levels, 4, 4, objective="tv", init=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="m must be an integer"):
        D.local_search(levels, 0, 4, objective="tv")
    with pytest.raises(ValueError, match="at least one start"):
        D.local_search(levels, 2, 2, objective="tv", restarts=0)
    with pytest.raises(ValueError, match="objective must be one of"):
        D.local_search(levels, 2, 2, objective="csf_psnr")


def test_search_3d_slices_are_each_groups_optimum():
    imgs = D.gray_images(embedded_subset().images[:40])
    res = D.search_3d(imgs, 2, 2, 2, objective="psnr", channels=4, seed=3)
    assert np.array(res["levels"]).shape == (2, 2, 2)
    for f, sl in enumerate(res["slices"]):
        assert sl["channels"] == [f, f + 2]
        pooled = np.concatenate([D.simulate_responses(imgs, seed=3 + c) for c in sl["channels"]])
        assert sl["levels"] == D.search(pooled, 2, 2, objective="psnr", top=1)["best"][0]["levels"]
    local = D.search_3d(imgs, 2, 2, 2, objective="psnr", channels=4, seed=3, method="local", restarts=4)
    assert [s["score"] for s in local["slices"]] == pytest.approx([s["score"] for s in res["slices"]])
    # the method asked for is the method that runs in every slice (simulate was run as the tables, and said so)
    assert {s["method"] for s in res["slices"]} == {"table"}
    few = D.gray_images(embedded_subset().images[:4])
    sim = D.design_kernel(few, 2, 2, objective="csf_psnr", slices=2, method="simulate")
    assert sim["method"] == "simulate" and {s["method"] for s in sim["slices"]} == {"simulate"}
    with pytest.raises(ValueError, match="method must be one of"):
        D.search_3d(imgs, 2, 2, 2, method="exhaustive")
    with pytest.raises(ValueError, match="channels must be an integer >= slices"):
        D.search_3d(imgs, 4, 2, 2, channels=2)
    with pytest.raises(ValueError, match="slices must be"):
        D.search_3d(imgs, 0, 2, 2)


def test_cli_local_and_3d(capsys):
    import json

    assert main(["design", "--size", "4x4", "--method", "local", "--count", "30", "--restarts", "2", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert np.array(res["best"][0]["levels"]).shape == (4, 4) and len(res["starts"]) == 3  # 2 random + tiled 2x2
    assert main(["design", "--size", "2x2", "--slices", "3", "--count", "30"]) == 0
    out = capsys.readouterr().out
    assert "3 slices over 6 channels" in out and "slice 2 (channels [2, 5])" in out


def test_tiled_start(levels):
    best = D.search(levels, 2, 2, objective="psnr", top=1)["best"][0]["levels"]
    assert D.tiled_start(levels, 4, 6, objective="psnr").tolist() == np.tile(best, (2, 3)).tolist()
    assert D.tiled_start(levels, 3, 4) is None
