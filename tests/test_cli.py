import json
import subprocess
import sys

import numpy as np
import pytest

from dither_lab import error_diffusion, load_image, make_kernel, ordered_dither, save_image
from dither_lab.cli import main


@pytest.fixture
def ramp(tmp_path):
    img = np.tile(np.linspace(0, 1, 64, dtype=np.float32), (32, 1))
    return save_image(img, tmp_path / "ramp.png")


# The DeSign paper's default 2x2 kernel, levels [[1, 1], [0, 3]], in the authors' batch-norm units (level 0 ->
# 0.3118, 1 -> 0.6310, 3 -> 0.9671, from their released code), and in image units Phi(t) (normal tables:
# Phi(0.6310) = 0.7359797, Phi(0.3118) = 0.6224037, Phi(0.9671) = 0.8332530).
DESIGN_2X2_BN = [[0.6310, 0.6310], [0.3118, 0.9671]]
DESIGN_2X2_UNIT = [[0.7359797, 0.7359797], [0.6224037, 0.8332530]]


def test_kernel_make_show_convert(tmp_path, capsys):
    from scipy.io import loadmat

    out = tmp_path / "k.json"
    assert main(["kernel", "make", "preset:design-2x2-a", "--out", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {out} (design-2x2-a, shape [2, 2], bn units)")
    doc = json.loads(out.read_text())  # the file itself holds the preset's values
    assert doc["values"] == DESIGN_2X2_BN and doc["levels"] == [[1, 1], [0, 3]] and doc["units"] == "bn"
    assert main(["kernel", "show", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["values"] == DESIGN_2X2_BN and summary["shape"] == [2, 2] and summary["levels"] == [[1, 1], [0, 3]]
    assert (summary["min"], summary["max"]) == (0.3118, 0.9671) and summary["mean"] == pytest.approx(2.5409 / 4)
    # .mat is the authors' layout: the levels themselves, read back as the same thresholds
    assert main(["kernel", "convert", str(out), "--out", str(tmp_path / "k.mat")]) == 0
    assert loadmat(tmp_path / "k.mat")["kernel"].tolist() == [[1.0, 1.0], [0.0, 3.0]]
    capsys.readouterr()
    assert main(["kernel", "show", str(tmp_path / "k.mat")]) == 0
    assert json.loads(capsys.readouterr().out)["values"] == DESIGN_2X2_BN
    unit = tmp_path / "u.npy"
    assert main(["kernel", "make", "preset:design-2x2-a", "--domain", "unit", "--out", str(unit)]) == 0
    np.testing.assert_allclose(np.load(unit), DESIGN_2X2_UNIT, atol=1e-7)


def test_existing_file_needs_force(tmp_path, capsys):
    out = tmp_path / "k.json"
    assert main(["kernel", "make", "bayer:2", "--out", str(out)]) == 0
    before = out.read_bytes()
    assert main(["kernel", "make", "bayer:4", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and len(err.strip().splitlines()) == 1
    assert out.read_bytes() == before  # refused: the file is untouched
    assert main(["kernel", "make", "bayer:4", "--out", str(out), "--force"]) == 0
    assert json.loads(out.read_text())["shape"] == [4, 4]


def test_dither_flat_gray_gives_the_quantized_density(tmp_path, capsys):
    # A flat gray of 77/255 = 0.30196: bayer:4 in image units has thresholds (r + 0.5) / 16, so exactly the ranks
    # r <= 4 fire (16 * 0.30196 + 0.5 = 5.33 -> 5 of 16, density 0.3125), at the places of ranks 0..4 of Bayer's
    # 4x4 index matrix [[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]]; Sign (0.5) fires nowhere.
    # MSE = 5/16 (1 - g)^2 + 11/16 g^2 = 0.2149548, PSNR = 10 log10(1 / 0.2149548) = 6.676528 dB.
    gray = tmp_path / "gray.png"
    save_image(np.full((8, 12), 77 / 255, dtype=np.float32), gray)
    out = tmp_path / "o.png"
    assert main(["dither", str(gray), "--kernel", "bayer:4", "--out", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["shape"] == [8, 12] and set(doc["metrics"]) == {"sign", "bayer:4"}
    m = doc["metrics"]["bayer:4"]
    assert m["density"] == 0.3125 and doc["metrics"]["sign"]["density"] == 0.0
    assert m["mse"] == pytest.approx(0.2149548, rel=1e-6) and m["psnr"] == pytest.approx(6.676528, rel=1e-6)
    cell = [[1, 0, 1, 0], [0, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]
    np.testing.assert_array_equal(load_image(out), np.tile(cell, (2, 3)))
    assert main(["metrics", str(gray), str(out), "--json"]) == 0  # the written file measures the same
    again = json.loads(capsys.readouterr().out)
    assert again["density"] == 0.3125 and again["psnr"] == pytest.approx(6.676528, rel=1e-6)


def test_dither_json_prints_metrics(tmp_path, ramp, capsys):
    out = tmp_path / "o.png"
    assert main(["dither", str(ramp), "--kernel", "bayer:4", "--out", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    m = doc["metrics"]
    assert set(m) == {"sign", "bayer:4"} and doc["shape"] == [32, 64]
    # On a ramp, ordered dithering keeps tone far better than one threshold.
    assert m["bayer:4"]["tone_error"] < m["sign"]["tone_error"]
    # Sign turns on the pixels >= 0.5 of a 0..1 ramp of 64 columns: the right half
    assert m["sign"]["density"] == 0.5
    np.testing.assert_array_equal(load_image(out), ordered_dither(load_image(ramp), make_kernel("bayer:4", domain="unit")))
    assert main(["metrics", str(ramp), str(out), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["psnr"] == pytest.approx(m["bayer:4"]["psnr"])


def test_dither_error_diffusion(tmp_path, capsys):
    # The command diffuses with a serpentine scan; a flat gray keeps its tone to within a row's error.
    gray = tmp_path / "gray.png"
    img = np.full((32, 32), 77 / 255, dtype=np.float32)
    save_image(img, gray)
    out = tmp_path / "fs.png"
    assert main(["dither", str(gray), "--kernel", "diffusion:floyd-steinberg", "--out", str(out), "--json"]) == 0
    m = json.loads(capsys.readouterr().out)["metrics"]["diffusion:floyd-steinberg"]
    written = load_image(out)
    np.testing.assert_array_equal(written, error_diffusion(load_image(gray), serpentine=True))
    assert m["density"] == written.mean() and abs(m["density"] - 77 / 255) < 1 / 32


@pytest.mark.parametrize(
    "argv, match",
    [
        (["kernel"], "required"),
        (["kernel", "make", "bogus:1", "--out", "x.json"], "unknown kernel generator"),
        (["kernel", "make", "bayer:4"], "--out"),
        (["kernel", "show", "missing.json"], "does not exist"),
        (["dither", "missing.png", "--kernel", "bayer:4", "--out", "o.png"], "does not exist"),
        (["dither", "x.png", "--kernel", "bayer:4", "--out", "o.png", "--mode", "cmyk"], "invalid choice"),
        (["metrics", "a.png"], "required"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_errors_are_one_line_exit_2(argv, match, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert match in err
    assert len(err.splitlines()) == 1
    assert "Traceback" not in err


def test_module_entry_point_exit_code(tmp_path):
    r = subprocess.run([sys.executable, "-m", "dither_lab", "kernel", "make", "bayer:3", "--out", str(tmp_path / "k.json")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "power of two" in r.stderr and "Traceback" not in r.stderr


def test_bench_quick_json(capsys):
    import torch

    assert main(["bench", "--quick", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    # timings vary by machine; what they are made of does not: the quick sizes, and each ratio of its two timings
    assert res["dithered_sign_shape"] == [32, 32, 32, 32] and res["ordered_dither_rgb_side"] == 512
    assert res["dithered_sign_vs_sign"] == pytest.approx(res["dithered_sign_s"] / res["sign_int_s"])
    assert res["dithered_sign_vs_float_sign"] == pytest.approx(res["dithered_sign_s"] / res["sign_float_s"])
    for key in ["sign_int_s", "sign_float_s", "dithered_sign_s", "folded_vs_sign", "authors_tconv_vs_sign",
                "ordered_dither_vs_compare", "error_diffusion_512_s", "void_and_cluster_64_s"]:
        assert res[key] > 0, key
    # a void-and-cluster mask is blue noise: little power below a quarter cycle per pixel (white noise gives 1)
    assert res["void_and_cluster_64_low_high_ratio"] < 0.1
    assert "void_and_cluster_128_s" not in res  # the 128 mask is left out of --quick
    assert res["machine"]["threads"] == torch.get_num_threads() and res["machine"]["torch"] == torch.__version__


@pytest.mark.parametrize(
    "argv, match",
    [
        (["evaluate"], "--model"),
        (["evaluate", "--model", "nope"], "must be one of"),
        (["evaluate", "--model", "fashion-mnist-design", "--kernel", "bayer:3"], "power of two"),
        (["evaluate", "--model", "fashion-mnist-design", "--kernel", "bayer:2", "--layers", "99"], "out of range"),
        (["evaluate", "--model", "fashion-mnist-design", "--layers", "0"], "give --kernel too"),
        (["evaluate", "--model", "fashion-mnist-design", "--count", "0"], "count must be"),
        (["evaluate", "--model", "missing.safetensors"], "does not exist"),
        (["evaluate", "--model", "fashion-mnist-design", "--sweep"], "give it with --kernel"),
        (["evaluate", "--model", "fashion-mnist-design", "--kernel", "sign", "--sweep", "0,x"], "comma-separated"),
        (["evaluate", "--model", "fashion-mnist-design", "--kernel", "sign", "--sweep", "0,-1"], "finite numbers >= 0"),
        (["cost"], "--model"),
        (["cost", "--model", "nope"], "cost: --model must be one of"),
        (["cost", "--model", "fashion-mnist-design", "--layers", "0"], "give --kernel too"),
        (["cost", "--model", "fashion-mnist-design", "--kernel", "bayer:2", "--layers", "0,,1"], "comma list"),
        (["cost", "--model", "fashion-mnist-design", "--kernel", "bayer:2", "--layers", "9"], "out of range"),
        (["cost", "--model", "fashion-mnist-design", "--kernel", "zap:2"], "unknown kernel generator"),
        (["cost", "--model", "fashion-mnist-design", "--kernel", "sign", "bayer:2", "--tables", "t.safetensors"],
         "give one --kernel"),
        (["cost", "--model", "fashion-mnist-design", "--arch", "vgg-small"], "not both"),
        (["cost", "--arch", "alexnet"], "invalid choice"),
        (["cost", "--arch", "vgg-small", "--width", "0"], "width must be"),
        (["train", "--dataset", "fashion-mnist"], "--arch"),
        (["train", "--dataset", "mnist", "--arch", "fmnist-net", "--out", "r"], "invalid choice"),
        (["train", "--dataset", "fashion-mnist", "--arch", "fmnist-net", "--out", "r", "--activation", "zap"],
         "unknown kernel generator"),
        (["train", "--dataset", "fashion-mnist", "--arch", "fmnist-net", "--out", "r", "--epochs", "0"], "epochs"),
        (["train", "--dataset", "cifar10", "--arch", "vgg-small", "--out", "r", "--unit", "bn-prelu"], "resnet-20 only"),
        (["train", "--dataset", "cifar10", "--arch", "resnet-20", "--out", "r", "--data", "nowhere"], "not found"),
        (["design", "--objective", "beauty"], "invalid choice"),
        (["design", "--images", "nowhere"], "must be subset"),
        (["design", "--objective", "csf_psnr"], "does not decompose"),
        (["learn-kernel", "--model", "fashion-mnist-design"], "--out"),
        (["learn-kernel", "--model", "x", "--out", "k.json"], "must be one of"),
        (["data", "download"], "required"),
        (["data", "download", "imagenet"], "invalid choice"),
        (["kernel", "convert", "a.json"], "--out"),
        (["kernel", "make", "bayer:4", "--out", "k.txt"], "must end in"),
        (["metrics", "a.png", "b.png"], "does not exist"),
        (["bench", "--fast"], "unrecognized arguments"),
    ],
)
def test_every_subcommand_rejects_bad_arguments(argv, match, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DITHER_LAB_DATA", str(tmp_path / "data"))
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert match in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_evaluate_sweep_matches_the_library(capsys):
    from dither_lab.data import embedded_subset
    from dither_lab.nn.evaluate import strength_sweep
    from dither_lab.nn.models import load_pretrained

    args = ["evaluate", "--model", "fashion-mnist-design", "--kernel", "preset:design-2x2-a", "--count", "100"]
    assert main([*args, "--sweep", "0,1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    model, _ = load_pretrained("fashion-mnist-design")
    want = strength_sweep(model, embedded_subset(), "preset:design-2x2-a", [0, 1], count=100)
    assert [(r["strength"], r["accuracy"]) for r in doc["sweep"]] == [(r["strength"], r["accuracy"]) for r in want]
    assert doc["count"] == 100 and doc["trained_accuracy"] == doc["sweep"][1]["accuracy"]  # trained with this kernel
    assert main([*args, "--sweep"]) == 0  # the default strengths, 0 to 2
    assert capsys.readouterr().out.count("  strength ") == 9


def test_evaluate_json_counts_the_requested_images_and_matches_the_library(capsys):
    from dither_lab.data import embedded_subset
    from dither_lab.nn.evaluate import evaluate
    from dither_lab.nn.models import load_pretrained

    assert main(["evaluate", "--model", "fashion-mnist-design", "--count", "150", "--kernel", "bayer:4",
                 "--layers", "0", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["count"] == 150 and res["kernel"] == "bayer:4" and res["layers"] == ["features.0"]
    correct = res["accuracy"] * 150
    assert correct == pytest.approx(round(correct), abs=1e-9)  # a whole number of the 150 images
    confusion = np.array(res["confusion"])
    assert confusion.sum() == 150 and np.trace(confusion) == round(correct)
    for i, cls in enumerate(res["classes"]):
        assert res["per_class"][cls] == pytest.approx(confusion[i, i] / confusion[i].sum())
    model, _ = load_pretrained("fashion-mnist-design")
    want = evaluate(model, embedded_subset(), kernel="bayer:4", layers=[0], count=150)  # the embedded subset's first 150
    assert res["accuracy"] == want["accuracy"] and res["confusion"] == want["confusion"]


def test_evaluate_prints_accuracy_and_each_class(capsys):
    from dither_lab.data import FASHION_CLASSES

    assert main(["evaluate", "--model", "fashion-mnist-design", "--count", "200"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "its trained kernels: accuracy" in lines[0] and len(lines) == 11
    assert [ln.split("  ")[1].strip() for ln in lines[1:]] == FASHION_CLASSES
    assert sum(int(ln.split("(")[1].split()[0]) for ln in lines[1:]) == 200


def test_evaluate_count_takes_each_class_alike(tmp_path, cifar_tree, capsys):
    import json

    root = cifar_tree(tmp_path / "tree", per_class=3)  # files sorted by class: a first-10 slice is one class
    assert main(["evaluate", "--model", "cifar10-sign", "--data", str(root), "--count", "10", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["count"] == 10 and [sum(row) for row in res["confusion"]] == [1] * 10


def test_train_limit_takes_each_class_alike(tmp_path, cifar_tree, monkeypatch, capsys):
    import dither_lab.nn.train

    root = cifar_tree(tmp_path / "tree", per_class=3)  # sorted by class: a first-20 slice would be 7 classes
    seen = {}

    def fake_train(run, tr, te, out, **kw):
        seen["train"], seen["test"] = np.bincount(tr.labels, minlength=10), np.bincount(te.labels, minlength=10)
        seen["unit"] = run.model.get("unit")
        return {"test_accuracy": 0.1, "epochs_done": 1}

    monkeypatch.setattr(dither_lab.nn.train, "train", fake_train)
    assert main(["train", "--dataset", "cifar10", "--arch", "resnet-20", "--data", str(root), "--limit", "20",
                 "--unit", "bn-prelu", "--out", str(tmp_path / "run")]) == 0
    assert seen["train"].tolist() == [2] * 10 and seen["test"].tolist() == [2] * 10
    assert seen["unit"] == "bn-prelu"


def test_cost_prints_one_row_per_kernel_and_json(capsys):
    assert main(["cost", "--model", "fashion-mnist-sign", "--kernel", "trained", "preset:design-2x2-a", "bayer:4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    first = lines[2:lines.index("")]  # the threshold table, then the packed program's bytes after a blank line
    assert [ln.split()[0] for ln in first] == ["trained", "preset:design-2x2-a", "bayer:4"]
    assert first[0].split()[1] == first[0].split()[2]  # its own kernels are Sign: as many thresholds as Sign
    packed = lines[lines.index("") + 2:]
    assert [ln.split()[0] for ln in packed] == ["trained", "preset:design-2x2-a", "bayer:4"]
    assert main(["cost", "--model", "fashion-mnist-sign", "--kernel", "bayer:4", "--layers", "0", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)["kernels"][0]
    assert [r["kernel"] for r in res["rows"]] == ["bayer:4", "sign", "sign", "sign"]
    assert res["extra_thresholds"] == 15 * res["rows"][0]["channels"] and res["extra_macs"] == 0


def test_cost_writes_threshold_tables_and_keeps_existing_files(tmp_path, capsys):
    from dither_lab.io import load_tensors

    out = tmp_path / "tables.safetensors"
    assert main(["cost", "--model", "fashion-mnist-design", "--kernel", "bayer:4", "--tables", str(out)]) == 0
    assert "3,072 thresholds in 4 layers" in capsys.readouterr().out
    tensors, meta = load_tensors(out)
    assert tensors["features.0.theta"].shape[1:] == (4, 4) and meta["kernel"] == "bayer:4"
    before = out.read_bytes()
    assert main(["cost", "--model", "fashion-mnist-design", "--tables", str(out)]) == 2
    assert "--force" in capsys.readouterr().err and out.read_bytes() == before


def test_cost_of_an_untrained_architecture(capsys):
    # The paper's CIFAR network: 128+128+256+256+512 channels before its five binary convolutions.
    assert main(["cost", "--arch", "vgg-small", "--kernel", "trained", "preset:design-2x2-a", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["model"] == "vgg-small (untrained, width 1, cifar10 input)"
    sign, design = res["kernels"]
    assert sign["thresholds"] == sign["sign_thresholds"] == 1280 and design["thresholds"] == 4 * 1280


def test_cost_of_an_architecture_takes_its_datasets_input(capsys):
    def compares(*args):
        assert main(["cost", "--arch", "fmnist-net", "--json", *args]) == 0
        return json.loads(capsys.readouterr().out)["kernels"][0]["compares"]

    # fmnist-net is made for 28x28 gray images; on CIFAR-10's 32x32 its maps are larger, so more compares
    assert compares() == compares("--dataset", "fashion-mnist") < compares("--dataset", "cifar10")
    assert main(["cost", "--model", "fashion-mnist-design", "--dataset", "cifar10"]) == 2
    assert "its own" in capsys.readouterr().err


def test_cost_json_with_tables_is_one_document(tmp_path, capsys):
    out = tmp_path / "t.safetensors"
    assert main(["cost", "--model", "fashion-mnist-design", "--kernel", "bayer:4", "--tables", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["kernels"][0]["thresholds"] == 3072 and "wrote" in captured.err


def test_bare_command_lists_what_it_can_do(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "COMMAND" in out and "evaluate" in out and "design" in out


def test_maps_summarizes_every_layer_and_draws_one(tmp_path, capsys):
    from dither_lab.data import embedded_subset
    from dither_lab.io import load_image
    from dither_lab.nn.feature_maps import layer_maps, layer_summary
    from dither_lab.nn.models import load_pretrained

    out = tmp_path / "maps.png"
    assert main(["maps", "--model", "fashion-mnist-design", "--kernel", "bayer:4", "--index", "3", "--layer", "1",
                 "--out", str(out), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    model, _ = load_pretrained("fashion-mnist-design")
    maps = layer_maps(model, embedded_subset().images[3:4], "fashion-mnist")
    assert res["layers"] == layer_summary({n: m["bn"][0] for n, m in maps.items()}, "bayer:4")
    # layer 1 (from 0, as --layers counts) has 32 maps of 14x14: a 6x6 grid of them, three montages side by side with a 4-pixel gap
    assert load_image(out).shape == (6 * 15 - 1, 3 * (6 * 15 - 1) + 8)
    assert main(["maps", "--model", "fashion-mnist-design", "--kernel", "bayer:4", "--out", str(out),
                 "--layer", "features.3"]) == 2  # the same layer by name; the file is not overwritten
    assert "--force" in capsys.readouterr().err
    img = tmp_path / "shirt.png"
    save_image(np.linspace(0, 1, 50 * 40, dtype=np.float32).reshape(50, 40), img)
    assert main(["maps", "--model", "fashion-mnist-sign", "--kernel", "sign", "--image", str(img)]) == 0
    text = capsys.readouterr().out
    lines = [ln.split() for ln in text.splitlines() if ln.split()[0].rstrip(":").isdigit()]
    assert [ln[1] for ln in lines] == ["features.0", "features.3", "features.5", "features.8"]
    assert all(ln[-1] == "0.0%" and ln[-2] == ln[-3] for ln in lines)  # Sign against itself flips nothing


@pytest.mark.parametrize("args, match", [
    (["--index", "5000"], "0..1999"),
    (["--index", "1", "--image", "x.png"], "not both"),
    (["--out", "x.png"], "--layer"),
    (["--out", "x.png", "--layer", "9"], "out of range: the model has 4 binary layers"),
    (["--out", "x.png", "--layer", "conv9"], "unknown layer 'conv9'"),
    (["--kernel", "bayer:x"], "size must be an integer"),
])
def test_maps_errors_are_one_line(args, match, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["maps", "--model", "fashion-mnist-sign", *args]
    if "--kernel" not in args:
        argv += ["--kernel", "bayer:4"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert match in err and len(err.strip().splitlines()) == 1


def test_the_viewing_help_says_the_conditions_the_library_has():
    # the parser says them without importing NumPy; the library computes them: the two must agree
    from dither_lab.cli.image import VIEWING_HELP
    from dither_lab.imaging.metrics import VIEWING

    for name, v in VIEWING.items():
        assert f"{name} (" in VIEWING_HELP and f"{v.pixels_per_degree:.1f}" in VIEWING_HELP, name
