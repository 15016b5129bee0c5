import importlib.util
from pathlib import Path

import numpy as np
import pytest

from dither_lab import design as D
from dither_lab.data import embedded_subset
from dither_lab.kernels import make_kernel
from dither_lab.nn.models import build_model, load_pretrained
from dither_lab.study import (
    STUDY_KERNELS,
    feature_map_metrics,
    levels_kernel,
    measured_levels,
    run_kernel_study,
    study_kernel,
)

ROOT = Path(__file__).resolve().parents[1]


def test_study_kernels_are_valid_and_trainable():
    keys = [k.key for k in STUDY_KERNELS]
    assert len(set(keys)) == len(keys) and keys[0] == "sign"
    for k in STUDY_KERNELS:
        if k.spec is not None:
            make_kernel(k.spec)
        build_model("fmnist-net", in_channels=1, image_size=28, width=0.125, activation=k.activation)
    assert study_kernel("bayer-2").spec == "bayer:2"
    with pytest.raises(ValueError, match="valid keys"):
        study_kernel("nope")


# The designed study kernels: this project's exhaustive searches on the paper's simulated responses of the first
# 1,000 embedded images (seed 0), as the study module's docstring and the README give them, in DeSign levels and
# in the authors' batch-norm units (level 0 -> 0.3118, 5 -> 1.3352, 9 -> 2.3419).
DESIGNED = {
    "tv-2x2": (2, "tv", [[0, 9], [9, 0]], [[0.3118, 2.3419], [2.3419, 0.3118]]),
    "tv-3x3": (3, "tv", [[9, 0, 0], [0, 9, 9], [9, 0, 9]],
               [[2.3419, 0.3118, 0.3118], [0.3118, 2.3419, 2.3419], [2.3419, 0.3118, 2.3419]]),
    "psnr-3x3": (3, "psnr", [[5, 5, 5], [5, 5, 5], [5, 5, 5]], [[1.3352]]),  # a constant: one cell does
}


@pytest.fixture(scope="module")
def responses():
    return D.simulate_responses(D.gray_images(embedded_subset().images[:1000]), seed=0)


@pytest.mark.parametrize("key", list(DESIGNED))
def test_designed_study_kernels_come_from_the_search(key, responses):
    size, objective, levels, bn = DESIGNED[key]
    assert D.search(responses, size, size, objective=objective, top=1)["best"][0]["levels"] == levels
    np.testing.assert_allclose(make_kernel(study_kernel(key).spec).values, bn, rtol=1e-12)


def test_feature_map_metrics_sign_against_dithered():
    model, _ = load_pretrained("fashion-mnist-design")
    images = embedded_subset().images[:2]
    sign = feature_map_metrics(model, images, "fashion-mnist", "sign", channels=2)
    dith = feature_map_metrics(model, images, "fashion-mnist", "bayer:4", channels=2)
    assert set(sign) == {"psnr", "ssim", "tv_ratio", "residual_correlation", "density"}
    assert dith["tv_ratio"] > sign["tv_ratio"]  # dithering draws more edges than Sign
    with pytest.raises(ValueError, match="channels must be"):
        feature_map_metrics(model, images, "fashion-mnist", channels=0)
    with pytest.raises(ValueError, match="at least one image"):
        feature_map_metrics(model, images[:0], "fashion-mnist")


def test_feature_maps_read_in_chunks_equal_one_pass(monkeypatch):
    import dither_lab.study

    model, _ = load_pretrained("fashion-mnist-design")
    images = embedded_subset().images[:5]
    whole = feature_map_metrics(model, images, "fashion-mnist", channels=2)
    levels = measured_levels(model, images, "fashion-mnist")
    monkeypatch.setattr(dither_lab.study, "_MAPS_CHUNK", 2)  # chunks of 2, 2 and 1 images
    assert feature_map_metrics(model, images, "fashion-mnist", channels=2) == pytest.approx(whole, rel=1e-6)
    assert measured_levels(model, images, "fashion-mnist") == pytest.approx(levels, rel=1e-6)
    with pytest.raises(ValueError, match="at least one image"):
        measured_levels(model, images[:0], "fashion-mnist")


def test_measured_levels_and_levels_kernel():
    model, _ = load_pretrained("fashion-mnist-design")
    table = measured_levels(model, embedded_subset().images[:20], "fashion-mnist")
    assert list(table) == [0, 1, 3, 5, 7, 9] and list(table.values()) == sorted(table.values())
    k = levels_kernel([[1, 1], [0, 3]], table)
    assert k.values[1, 1] == table[3] and k.shape == (2, 2)
    with pytest.raises(ValueError, match=r"levels must be in \[0, 1, 3, 5, 7, 9\], got \[4.0\]"):
        levels_kernel([[4]], table)


def test_run_kernel_study_rows():
    model, _ = load_pretrained("fashion-mnist-sign")
    data = embedded_subset()
    rows = run_kernel_study(model, data.subset(slice(0, 60)), train=data.subset(slice(1000, 1200)), metric_images=1,
                           learn_steps=2)
    # the rows of the README's study tables, in their order
    assert [r["key"] for r in rows] == [
        "trained", "sign", "design-2x2-a", "design-2x2-b", "design-2x2-c", "design-3x3-a", "design-3x3-b",
        "design-3x3-c", "design3d-2x2x4", "bayer-2", "bayer-4", "blue-noise-8", "tv-2x2", "tv-3x3", "psnr-3x3",
        "learned", "design-2x2-a-scaled"]
    by = {r["key"]: r for r in rows}
    assert by["trained"]["accuracy"] == by["sign"]["accuracy"]  # a Sign model swapped to Sign is itself
    assert by["learned"]["spec"].startswith("custom:")
    no_learn = run_kernel_study(model, data.subset(slice(0, 20)), metric_images=1)
    assert "learned" not in [r["key"] for r in no_learn]


def _script(name):
    """A script of scripts/ imported as a module."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _campaign():
    return _script("campaign")


def test_campaign_plan_and_epochs():
    c = _campaign()
    runs = c.plan()
    names = [r["name"] for r in runs]
    # CIFAR-10: Sign and DeSign, with and without batch-norm scale and shift (4); Fashion-MNIST: the shipped pair
    # (2), seeds 1-2 with scale and shift and seeds 0-2 without, for Sign and DeSign (10), and one run for each of
    # the other 13 study kernels: 29 runs, each named once
    assert len(names) == len(set(names)) == 29
    assert [r["dataset"] for r in runs[:4]] == ["cifar10"] * 4  # longest first
    ship = [r for r in runs if r["group"] == "ship"]
    assert {(r["dataset"], r["model"]["activation"]) for r in ship} == {
        (d, a) for d in ("cifar10", "fashion-mnist") for a in ("sign", "design")}
    probes = [{"spec": {"dataset": "cifar10"}, "step_s": 0.02, "eval_s": 0.2},
              {"spec": {"dataset": "fashion-mnist"}, "step_s": 0.01, "eval_s": 0.1}]
    e = c.choose_epochs(probes, runs, 14, 400.0)
    # By hand, with 15 s to start a run and 0.5 s of overhead an epoch: a CIFAR-10 epoch is ceil(50,000 / 128) =
    # 391 steps of 0.02 s + 0.2 s to evaluate + 0.5 s = 8.52 s, and (400 - 15) / 8.52 = 45.2 -> 45 epochs. The 25
    # Fashion-MNIST runs share the 10 slots the 4 CIFAR-10 runs leave: 3 waves; an epoch is ceil(60,000 / 128) =
    # 469 steps of 0.01 s + 0.1 s + 0.5 s = 5.29 s, and (400 - 3 * 15) / (3 * 5.29) = 22.4 -> 22 epochs.
    assert (e["cifar10"], e["fashion-mnist"]) == (45, 22)
    assert e["per_epoch_s"] == pytest.approx({"cifar10": 8.52, "fashion-mnist": 5.29})
    assert c.choose_epochs(probes, runs, 14, 1.0)["cifar10"] == 1  # never below one epoch


def test_campaign_probe_times_its_warm_epoch(monkeypatch, tmp_path):
    import json

    import dither_lab.data
    from dither_lab.data import Dataset

    c = _campaign()
    rng = np.random.default_rng(0)

    def fake(name, split, path=None):
        n = 300 if split == "train" else 50
        return Dataset(name, split, rng.integers(0, 256, (n, 1, 28, 28), dtype=np.uint8), rng.integers(0, 10, n),
                       [str(i) for i in range(10)], "random")

    monkeypatch.setattr(dither_lab.data, "load_dataset", fake)
    spec = c.run_spec("fashion-mnist", "sign", group="ship")
    c.worker(spec, c.PROBE_EPOCHS, tmp_path, {"fashion-mnist": "unused"}, probe=256)
    r = json.loads((tmp_path / "result.json").read_text())
    hist = r["card"]["history"]
    assert r["probe"] == 256 and len(hist) == c.PROBE_EPOCHS == 2  # the first epoch carries the warm-up
    assert r["step_s"] == pytest.approx(hist[-1]["seconds"] / 2)  # 256 images: two steps of 128


def test_campaign_results_name_the_run_options():
    c = _campaign()
    base = {"budget_s": 505.0, "slots": 2, "epochs": {"cifar10": 40, "fashion-mnist": 40}, "only": ["a", "b"]}
    assert c.run_args({**base, "fixed_epochs": 40, "safety": None}) == "--budget-s 505 --slots 2 --epochs 40 --only a b"
    assert c.run_args(base) == "--budget-s 505 --slots 2 --epochs 40 --only a b"  # an older log: no probe, fixed
    probed = {**base, "only": None, "probe": [{}], "safety": 1.25, "fixed_epochs": None}
    assert c.run_args(probed) == "--budget-s 505 --slots 2 --safety 1.25"
    assert c.run_args({**probed, "cuda_graph": False}) == "--budget-s 505 --slots 2 --safety 1.25 --no-cuda-graph"
    assert c.run_args({**probed, "cuda_graph": True}) == "--budget-s 505 --slots 2 --safety 1.25"


def test_campaign_resume_pack_restores_run_folders(tmp_path):
    import io
    import tarfile

    c = _campaign()
    src = tmp_path / "old"
    (src / "ship" / "a").mkdir(parents=True)
    (src / "ship" / "a" / "checkpoint.pt").write_bytes(b"epoch 5")
    (src / "ship" / "a" / "log.txt").write_text("old log")
    with tarfile.open(tmp_path / "p.tar.gz", "w:gz") as tar:
        tar.add(src, arcname="campaign")
    out = tmp_path / "out"
    (out / "ship" / "a").mkdir(parents=True)
    (out / "ship" / "a" / "log.txt").write_text("newer log")
    assert c.unpack_into(tmp_path / "p.tar.gz", out) == 1
    assert (out / "ship" / "a" / "checkpoint.pt").read_bytes() == b"epoch 5"
    assert (out / "ship" / "a" / "log.txt").read_text() == "newer log"  # what is there is kept
    with pytest.raises(SystemExit, match="is not a file"):
        c.unpack_into(tmp_path / "missing.tar.gz", out)
    (tmp_path / "bad.tar.gz").write_text("not a tar")
    with pytest.raises(SystemExit, match="is not a pack"):
        c.unpack_into(tmp_path / "bad.tar.gz", out)
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(SystemExit, match="is not a pack"):
        c.unpack_into(evil, out)
    assert not (tmp_path / "escape.txt").exists()


def test_campaign_stops_workers_and_reads_their_epochs(tmp_path):
    import subprocess
    import sys

    from dither_lab.io import save_checkpoint

    c = _campaign()
    pool = c.Pool(1, {})
    run_dir = tmp_path / "ship" / "a"
    run_dir.mkdir(parents=True)
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    pool.live["a"] = (proc, open(tmp_path / "log.txt", "w"), run_dir)  # noqa: SIM115 (kill_all closes it)
    assert c._epochs_done(run_dir) == 0
    save_checkpoint({"epoch": 7}, run_dir / "checkpoint.pt")
    assert pool.kill_all() == {"a": run_dir} and proc.poll() is not None and not pool.live
    assert c._epochs_done(run_dir) == 7


def test_campaign_results_are_published_consistently():
    from dither_lab import study
    from dither_lab.io import read_manifest

    files = read_manifest()["files"]
    for ds, arch in (("fashion-mnist", "fmnist-net"), ("cifar10", "resnet-20")):
        # a campaign results file (any tag) holds the published runs, and the page's table puts them first
        rows = study.first_study_rows(ds)
        marked = [r for r in rows if r["shipped"]]
        assert sorted(r["activation"] for r in marked) == ["design", "sign"], ds
        assert {r["campaign"] for r in rows[:2]} == {marked[0]["campaign"]}
        for act, (_, acc) in study.shipped_accuracy(ds).items():
            assert files[f"models/{ds}-{arch}-{act}.safetensors"]["test_accuracy"] == acc


def test_campaigns_lists_every_results_file_longest_first(tmp_path):
    import json

    from dither_lab import study

    def write(tag, epochs, ds="cifar10"):
        runs = [{"group": "ship", "activation": "sign", "affine": True, "epochs": epochs, "test_accuracy": 0.5}]
        (tmp_path / f"campaign_{tag}_{ds}.json").write_text(json.dumps({"runs": runs}))

    write("short", 4), write("ship", 40), write("long_b", 22), write("other", 99, ds="fashion-mnist")
    assert list(study.campaigns("cifar10", folder=tmp_path)) == ["ship", "long_b", "short"]
    assert study.first_study(study.campaigns("cifar10", folder=tmp_path)["ship"])[0]["unit"] is None
    (tmp_path / "campaign_x_cifar10.json").write_text("{")
    with pytest.raises(ValueError, match="campaign_x_cifar10.json is not valid JSON"):
        study.campaigns("cifar10", folder=tmp_path)


def test_shipped_accuracy_reads_the_model_cards():
    import json

    from dither_lab import study

    for ds, arch in (("fashion-mnist", "fmnist-net"), ("cifar10", "resnet-20")):
        got = study.shipped_accuracy(ds)
        assert set(got) == {"sign", "design"}
        card = json.loads((ROOT / "dither_lab" / "assets" / "models" / f"{ds}-{arch}-design.card.json").read_text())
        assert got["design"] == (card["epochs_done"], card["test_accuracy"])


def test_trained_with_and_results_loading(monkeypatch, tmp_path):
    from dither_lab import study

    tw = study.trained_with("fashion-mnist")
    # the saved comparison's 'trained with' column (README, Fashion-MNIST table: Bayer 2x2, 87.29 (4)), and the
    # shipped models' own kernels have none
    assert tw["bayer:2"] == {"accuracy": 0.8729, "epochs": 4} and tw["sign"] == {"accuracy": 0.8903, "epochs": 4}
    assert "trained" not in tw
    assert "custom:" not in "".join(tw)  # the learned kernel differs per model: not looked up by spec
    monkeypatch.setattr(study, "results_dir", lambda: tmp_path)
    assert study.trained_with("fashion-mnist") == {} and study.load_results("kernel_study", "cifar10") is None
    (tmp_path / "kernel_study_cifar10.json").write_text("{")
    with pytest.raises(ValueError, match="not valid JSON"):
        study.load_results("kernel_study", "cifar10")


def test_kernel_runs_join_the_campaign_by_kernel():
    from dither_lab import study

    camp = {"runs": [{"activation": "bayer:2", "affine": True, "seed": 0, "test_accuracy": 0.8, "epochs": 4},
                     {"activation": "bayer:2", "affine": False, "seed": 0, "test_accuracy": 0.1, "epochs": 4},
                     {"activation": "sign", "affine": True, "seed": 1, "test_accuracy": 0.2, "epochs": 4}]}
    assert study.kernel_runs(camp) == {"bayer-2": {"accuracy": 0.8, "epochs": 4}}  # seed 0 with scale/shift only
    saved = study.load_results("kernel_study", "fashion-mnist")  # the saved table was joined the same way
    runs = study.kernel_runs(study.load_results("campaign_short", "fashion-mnist"))
    assert {r["key"]: r["trained_with"] for r in saved["rows"] if r["trained_with"]} == runs


def test_unit_pilot_changes_only_the_unit_and_the_options_given():
    import argparse

    from dither_lab.nn.models import build_model
    from dither_lab.nn.train import shipped_run

    mod = _script("unit_pilot")
    base = shipped_run("cifar10", "design", epochs=3)
    plain = mod.pilot_run("plain", "design", epochs=3)
    assert "unit" not in plain.model and plain.recipe == base.recipe
    assert {k: v for k, v in base.model.items() if k != "unit"} == plain.model
    assert "unit" not in build_model(**plain.model).config  # a plain model, as its files record it
    ste = mod.pilot_run("bn-prelu", "sign", epochs=3, ste="approxsign")
    assert ste.model == {**shipped_run("cifar10", "sign", epochs=3).model, "unit": "bn-prelu", "ste": "approxsign"}
    big = mod.pilot_run("bn-prelu", "sign", epochs=3, batch_size=256, lr=4e-3)
    assert (big.recipe.batch_size, big.recipe.lr, big.recipe.epochs) == (256, 4e-3, 3)
    assert big.model == shipped_run("cifar10", "sign", epochs=3).model
    with pytest.raises(ValueError, match="batch_size"):
        mod.pilot_run("bn-prelu", "sign", epochs=3, batch_size=0)
    ns = argparse.Namespace
    assert mod.suffix(ns(ste="hardtanh", batch_size=None, lr=None), "_") == ""  # the recipe's own results file
    assert mod.suffix(ns(ste="approxsign", batch_size=256, lr=4e-3), "_") == "_approxsign_b256_lr0.004"


def test_finding_pairs_sign_and_design_with_the_chance_band():
    from dither_lab.study import finding

    f = finding("fashion-mnist")
    pairs = {(p["campaign"], p["affine"]): p for p in f["pairs"]}
    # campaign_short_fashion-mnist.json: 3 seeds each; without batch-norm scale and shift Sign 88.38 +- 0.11,
    # DeSign 88.81 +- 0.06 (sample sd): difference +0.43, band 2 sqrt((0.11^2 + 0.06^2) / 3) = 0.14 points
    no_affine = pairs[("short", False)]
    assert no_affine["difference"] == pytest.approx(0.43, abs=0.01) and no_affine["band"] == pytest.approx(0.14, abs=0.02)
    assert no_affine["beyond_chance"] and not pairs[("short", True)]["beyond_chance"]
    assert f["text"].startswith("With learnable batch-norm scale and shift, DeSign and Sign are level")
    assert "Without them, DeSign is ahead" in f["text"]
    c = finding("cifar10")
    # campaign_long_cifar10.json, no scale and shift: Sign 66.11%, DeSign 75.31% (one seed each)
    long_no_affine = next(p for p in c["pairs"] if p["campaign"] == "long" and not p["affine"])
    assert long_no_affine["difference"] == pytest.approx(9.20, abs=0.01) and long_no_affine["beyond_chance"]
    assert "test-set sampling only" in c["text"]


def test_finding_rows_say_which_way_is_better_and_what_is_beyond_chance():
    from dither_lab.study import finding, finding_rows

    rows = finding_rows(finding("fashion-mnist")["pairs"])
    assert list(rows[0]) == ["campaign", "BN scale/shift", "DeSign − Sign (points)", "chance ± (points)",
                             "beyond chance", "Sign (%) ↑", "DeSign (%) ↑", "epochs", "seeds"]  # one unit: no column
    short_off = next(r for r in rows if r["campaign"] == "short" and r["BN scale/shift"] == "off")
    # campaign_short_fashion-mnist.json without scale and shift: Sign 88.38, DeSign 88.81 (3 seeds each)
    assert (short_off["Sign (%) ↑"], short_off["DeSign (%) ↑"], short_off["DeSign − Sign (points)"]) == (88.38, 88.81, 0.43)
    assert short_off["beyond chance"] == "yes, DeSign ahead" and short_off["chance ± (points)"] == 0.14
    assert {r["beyond chance"] for r in rows if r["BN scale/shift"] == "learnable"} == {"no"}
    cifar = finding_rows(finding("cifar10")["pairs"])
    assert {r["unit"] for r in cifar} == {"plain", "bn-prelu"}
    fake = [{"campaign": "x", "unit": "plain", "affine": True, "epochs": 3, "seeds": 1, "sign": 80.0, "design": 78.0,
             "difference": -2.0, "band": 1.0, "beyond_chance": True}]
    assert finding_rows(fake)[0]["beyond chance"] == "yes, Sign ahead"


def test_swap_lesson_reads_the_kernel_comparison(tmp_path):
    from dither_lab.study import load_results, swap_lesson

    lesson = swap_lesson("fashion-mnist")
    rows = {r["key"]: r for r in load_results("kernel_study", "fashion-mnist")["rows"]}
    # kernel_study_fashion-mnist.json: the DeSign model 92.76% with its kernel, 45.94% with Sign swapped in; the Sign
    # model 92.70% with its own, 19.25% with the paper's kernel; 4-epoch runs trained with each: 89.03% and 88.80%
    assert (lesson["design_own"], lesson["design_with_sign"]) == (0.9276, 0.4594) == (
        rows["trained"]["swapped_into_design_model"], rows["sign"]["swapped_into_design_model"])
    assert (lesson["sign_own"], lesson["sign_with_design"], lesson["epochs"]) == (0.927, 0.1925, 4)
    assert "92.76% right with its own kernel and 45.94% with Sign swapped in: the network relies on its dithered " \
           "thresholds" in lesson["text"]
    assert "Sign reached 89.03% and the paper's kernel 88.80%" in lesson["text"]
    assert swap_lesson("fashion-mnist", folder=tmp_path) is None  # no comparison: nothing to say


def test_kernel_rows_and_takeaway_of_the_comparison():
    from dither_lab.study import kernel_rows, kernel_takeaway, load_results

    comp = load_results("kernel_study", "fashion-mnist")
    table = kernel_rows(comp, names={"preset:design-2x2-a": "DeSign 2x2 (paper)"})
    rows = table["rows"]
    assert [r["kernel"] for r in rows[:3]] == ["trained kernels (as shipped)", "Sign", "DeSign 2x2 (paper)"]
    # kernel_study_fashion-mnist.json: the paper's kernel swapped into the Sign model 19.25%, trained with it 88.80%
    assert rows[2]["Sign model (%) ↑"] == 19.25 and rows[2]["trained with it (4 epochs, %) ↑"] == 88.8
    assert rows[0]["trained with it (4 epochs, %) ↑"] is None  # the shipped model has no study run
    assert table["better"]["TV ratio → 1"] == "near 1" and table["better"]["PSNR (dB) ↑"] == "higher"
    assert "penalizes any binary texture" in table["help"]["PSNR (dB) ↑"]
    assert sorted({c for cols in table["parts"].values() for c in cols}) == sorted(rows[0])  # every column shown
    assert table["parts"]["feature maps"][0] == table["parts"]["accuracy"][0] == "kernel"
    text = kernel_takeaway(comp)
    # 4-epoch runs: blue noise 8x8 lowest at 86.06%, Sign highest at 89.03%; into the Sign model (92.70%) the 13
    # fixed kernels (not Sign, the learned one or the data-scaled one) score 8.26% (DeSign3D) to 52.41% (Bayer 4x4)
    assert text.startswith("Trained with it (4-epoch runs, one each), the 15 kernels land between 86.06% "
                           "(blue noise 8x8) and 89.03% (Sign).")
    assert "the study's 13 fixed kernels (every row but the trained, Sign, learned and data-scaled ones) score 8.26% to 52.41%" in text
    cifar = kernel_takeaway(load_results("kernel_study", "cifar10"), names={"preset:design-2x2-a": "DeSign 2x2 (paper)"})
    assert cifar.startswith("Trained with it (12-epoch runs, one each), Sign reached 68.69% and DeSign 2x2 (paper) "
                            "70.23%.")
