import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dither_lab.data import Dataset, embedded_subset
from dither_lab.nn.evaluate import evaluate
from dither_lab.nn.models import binary_layers, build_model, load_model
from dither_lab.nn.train import Recipe, RunConfig, TrainStep, augment, lr_at, param_groups, train


def _logits(model, images):
    """The model's logits for uint8 Fashion-MNIST images, standardized with the dataset's published statistics
    (mean 0.2860, standard deviation 0.3530 of [0, 1] pixels: 72.94 and 90.02 on 0..255), batch by batch."""
    model.eval()
    with torch.no_grad():
        return torch.cat([model((torch.from_numpy(np.array(images[i : i + 500], dtype=np.float32)) - 72.94) / 90.02)
                          for i in range(0, len(images), 500)])


@pytest.fixture(scope="module")
def tiny():
    ds = embedded_subset()
    tr = ds.subset(np.arange(0, 2000, 10))  # 200 images
    te = ds.subset(np.arange(5, 2000, 20))  # 100 images
    return tr, te


def _run(epochs=2, activation="design"):
    return RunConfig(model={"arch": "fmnist-net", "in_channels": 1, "image_size": 28, "width": 0.125,
                            "activation": activation}, dataset="fashion-mnist",
                     recipe=Recipe(epochs=epochs, batch_size=50, seed=3))


def test_train_writes_card_checkpoint_and_export(tmp_path, tiny):
    tr, te = tiny
    card = train(_run(), tr, te, tmp_path / "run", progress=False, export=tmp_path / "m.safetensors")
    assert card["epochs_done"] == 2 and len(card["history"]) == 2
    on_disk = json.loads((tmp_path / "run" / "card.json").read_text())
    for key in ["model", "dataset", "recipe", "epochs_done", "wall_time_s", "device", "commit", "test_accuracy"]:
        assert key in on_disk
    assert on_disk["cuda_graph"] is False  # CPU training is always eager
    model, meta = load_model(tmp_path / "m.safetensors")
    assert meta["card"]["test_accuracy"] == card["test_accuracy"] == card["history"][-1]["test_acc"]
    # the card's accuracy is the share of the 100 test images whose largest logit is their label
    hits = int((_logits(model, te.images).argmax(1).numpy() == te.labels).sum())
    assert card["test_accuracy"] == hits / 100


def test_resume_continues_exactly(tmp_path, tiny):
    tr, te = tiny
    full = train(_run(3), tr, te, tmp_path / "a", progress=False, export=tmp_path / "a.safetensors")
    train(_run(3), tr, te, tmp_path / "b", progress=False, stop_after_epoch=1)
    resumed = train(_run(3), tr, te, tmp_path / "b", progress=False, resume=True, export=tmp_path / "b.safetensors")
    assert [h["train_loss"] for h in resumed["history"]] == [h["train_loss"] for h in full["history"]]
    a, _ = load_model(tmp_path / "a.safetensors")
    b, _ = load_model(tmp_path / "b.safetensors")
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert ka == kb and torch.equal(va, vb), ka


def _step_pair():
    """Two identical models and Adam optimizers, and three batches (the last one partial)."""
    pairs = []
    for _ in range(2):
        torch.manual_seed(0)
        m = build_model("fmnist-net", in_channels=1, image_size=28, width=0.125, activation="design")
        pairs.append((m, torch.optim.Adam(param_groups(m, 5e-4), lr=1e-2)))
    g = torch.Generator().manual_seed(1)
    data = [(torch.randn(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)) for n in (16, 16, 10)]
    return pairs, data


def _manual_step(model, opt, x, y):
    logits = model(x)
    loss = F.cross_entropy(logits, y, label_smoothing=0.1)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.item(), int((logits.argmax(1) == y).sum())


def test_train_step_is_the_plain_training_step():
    pairs, data = _step_pair()
    (ma, oa), (mb, ob) = pairs
    step = TrainStep(ma, oa, batch_size=16, label_smoothing=0.1)
    for x, y in data:
        n, correct, loss_sum = step(x, y).tolist()
        loss, want_correct = _manual_step(mb, ob, x, y)
        assert n == len(y) and correct == want_correct and loss_sum / n == pytest.approx(loss, rel=1e-6)
    for (ka, va), (_kb, vb) in zip(ma.state_dict().items(), mb.state_dict().items(), strict=True):
        assert torch.equal(va, vb), ka
    assert not step.graphed


def test_train_step_sends_only_full_batches_through_the_fast_module():
    # the compiled module (``fast``) gets full batches only: a partial one would make it compile again
    pairs, data = _step_pair()
    model, opt = pairs[0]
    seen: dict[str, list[int]] = {"fast": [], "net": []}

    class Recorder(torch.nn.Module):
        def __init__(self, inner, name):
            super().__init__()
            self.inner, self.name = inner, name

        def forward(self, x):
            seen[self.name].append(len(x))
            return self.inner(x)

    step = TrainStep(Recorder(model, "net"), opt, batch_size=16, fast=Recorder(model, "fast"))
    for x, y in data:
        step(x, y)
    assert seen == {"fast": [16, 16], "net": [10]}


def test_train_step_eager_batches_keep_the_graph_gradient_buffers():
    # With a captured graph, the partial batch of an epoch runs eagerly: it must train exactly like a plain step
    # and leave the gradients in the buffers the graph writes (else the graph is dropped and captured again).
    # The graph itself needs a GPU (benchmarks/bench_train_gpu.py checks it); here a stand-in marks it captured.
    pairs, data = _step_pair()
    (ma, oa), (mb, ob) = pairs
    step = TrainStep(ma, oa, batch_size=16, label_smoothing=0.1)
    step(*data[0])
    _manual_step(mb, ob, *data[0])
    step.graph, step._grad_ptrs = object(), step._grads()
    x, y = data[2]
    step(x, y)
    _manual_step(mb, ob, x, y)
    assert step.graphed and step._grads() == step._grad_ptrs
    for (ka, va), (_kb, vb) in zip(ma.state_dict().items(), mb.state_dict().items(), strict=True):
        assert torch.allclose(va, vb, atol=1e-6), ka
    step._grad_ptrs = [p + 1 for p in step._grad_ptrs]  # buffers that moved: the graph must be captured again
    step(x, y)
    assert not step.graphed


def test_train_step_replays_full_batches_from_the_first_capture_on(monkeypatch):
    # Capturing records a full batch without training on it, so that batch must be trained by the first replay,
    # and every later full batch by a replay of the same graph. A stand-in graph whose replay runs the recorded
    # step on the static inputs takes the place of CUDA (the real one: benchmarks/bench_train_gpu.py).
    pairs, data = _step_pair()
    (ma, oa), (mb, ob) = pairs
    step = TrainStep(ma, oa, batch_size=16, label_smoothing=0.1, graph=True, warmup=0)

    class StandInGraph:
        def replay(self):
            sx, sy, stats = step._static
            step.opt.zero_grad(set_to_none=False)
            stats.copy_(step._forward_backward(sx, sy))

    def capture(x, y):
        step._static = (x.clone(), y.clone(), torch.zeros(3, dtype=torch.float64))
        step.graph, step._grad_ptrs = StandInGraph(), []

    monkeypatch.setattr(step, "_capture", capture)
    monkeypatch.setattr(step, "_grads", lambda: [])
    for x, y in data:
        n, correct, loss_sum = step(x, y).tolist()
        loss, want_correct = _manual_step(mb, ob, x, y)
        assert n == len(y) and correct == want_correct and loss_sum / n == pytest.approx(loss, rel=1e-5)
    assert step.replays == 2 and step.eager_steps == 1  # two full batches replayed, the partial one eager
    for (ka, va), (_kb, vb) in zip(ma.state_dict().items(), mb.state_dict().items(), strict=True):
        assert torch.allclose(va, vb, atol=1e-6), ka


def test_compiled_training_is_the_same_training(tmp_path, tiny, monkeypatch):
    # compile=True sends full batches through torch.compile and the partial one (200 = 3 x 64 + 8) through the
    # eager module (the routing is tested above). With the aot_eager backend (what the default backend traces, run
    # without code generation, so bit-exact and quick) the whole run must equal the eager one.
    import functools

    tr, te = tiny
    torch._dynamo.reset()
    monkeypatch.setattr(torch, "compile", functools.partial(torch.compile, backend="aot_eager"))
    run = _run(2)
    run.recipe.batch_size = 64
    eager = train(run, tr, te, tmp_path / "e", progress=False)
    compiled = train(run, tr, te, tmp_path / "c", progress=False, compile=True)
    assert compiled["compiled"] and not eager["compiled"]
    assert [h["train_loss"] for h in compiled["history"]] == [h["train_loss"] for h in eager["history"]]
    assert compiled["test_accuracy"] == eager["test_accuracy"]


def test_resume_refuses_other_config(tmp_path, tiny):
    tr, te = tiny
    train(_run(2), tr, te, tmp_path / "r", progress=False, stop_after_epoch=1)
    with pytest.raises(ValueError, match="different configuration"):
        train(_run(2, activation="sign"), tr, te, tmp_path / "r", progress=False, resume=True)


def test_weight_decay_only_on_real_weights():
    m = build_model("fmnist-net", in_channels=1, image_size=28, width=0.125, activation="learned")
    decay, no_decay = param_groups(m, 1e-4)
    ids = {id(p) for p in decay["params"]}
    assert id(m.stem.weight) in ids and id(m.classifier.weight) in ids
    for layer in binary_layers(m).values():
        assert id(layer.act.weight) not in ids and id(layer.bn.weight) not in ids
    assert len(decay["params"]) == 2


def test_lr_schedule_and_augment():
    assert lr_at(0, 100, 10, 1.0) == pytest.approx(0.1)
    assert lr_at(10, 100, 10, 1.0) == pytest.approx(1.0)
    assert lr_at(100, 100, 10, 1.0) == pytest.approx(0.0)
    x = torch.arange(2 * 1 * 4 * 4, dtype=torch.float32).view(2, 1, 4, 4)
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    a, b = augment(x, g1, padding=1, flip=True), augment(x, g2, padding=1, flip=True)
    assert torch.equal(a, b) and a.shape == x.shape
    assert torch.equal(augment(x, g1, padding=0, flip=False), x)


def test_evaluate_swaps_kernel_on_a_copy():
    m = build_model("fmnist-net", in_channels=1, image_size=28, width=0.125, activation="sign").eval()
    ds = embedded_subset()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    res = evaluate(m, ds, kernel="preset:design-2x2-a", layers=[0], count=50)
    assert res["count"] == 50 and res["layers"] == ["features.0"]
    assert sum(sum(r) for r in res["confusion"]) == 50
    assert set(res["per_class"]) == set(ds.classes)
    for layer in binary_layers(m).values():
        assert layer.kernel.shape == (1, 1)
    for k, v in m.state_dict().items():
        assert torch.equal(v, before[k])
    with pytest.raises(ValueError, match="count must be"):
        evaluate(m, ds, count=0)


def test_evaluate_counts_the_images_whose_largest_logit_is_their_label():
    from dither_lab.nn.models import load_pretrained

    model, _ = load_pretrained("fashion-mnist-sign")
    ds = embedded_subset().subset(np.arange(300))
    res = evaluate(model, ds, per_image=True)
    pred = _logits(model, ds.images).argmax(1).numpy()
    np.testing.assert_array_equal(res["predictions"], pred)
    hits = int((pred == ds.labels).sum())
    assert res["accuracy"] == hits / 300 and res["count"] == 300
    confusion = [[0] * 10 for _ in range(10)]
    for true, guess in zip(ds.labels.tolist(), pred.tolist(), strict=True):
        confusion[true][guess] += 1
    assert res["confusion"] == confusion
    for i, cls in enumerate(ds.classes):
        assert res["per_class"][cls] == pytest.approx(confusion[i][i] / sum(confusion[i]))


@pytest.mark.parametrize("card_name, name", [("fashion-mnist-fmnist-net-design", "fashion-mnist-design"),
                                              ("fashion-mnist-fmnist-net-sign", "fashion-mnist-sign")])
def test_shipped_model_reaches_its_card_accuracy(tmp_path, monkeypatch, fashion_full_dir, card_name, name):
    # The model card (written when the model was trained, and listed in the assets manifest) records the accuracy on
    # the full 10,000-image test set; evaluating the shipped weights here must give it again. Up to 2 images may
    # differ: the card was measured on the training GPU, and a threshold within float rounding can flip elsewhere.
    from dither_lab.data import load_dataset
    from dither_lab.io import ASSETS_DIR, read_manifest
    from dither_lab.nn.models import load_pretrained

    card = json.loads((ASSETS_DIR / "models" / f"{card_name}.card.json").read_text())
    manifest = read_manifest()["files"]
    assert manifest[f"models/{card_name}.safetensors"]["test_accuracy"] == card["test_accuracy"]
    assert card["test_split"] == "test (10000 images)"
    monkeypatch.setenv("DITHER_LAB_DATA", str(tmp_path))  # the decoded copy goes to a scratch folder
    test = load_dataset("fashion-mnist", "test", path=fashion_full_dir)
    model, _ = load_pretrained(name)
    res = evaluate(model, test)
    assert res["count"] == 10_000
    assert res["accuracy"] == pytest.approx(card["test_accuracy"], abs=2e-4)


def test_shipped_sign_model_on_the_embedded_subset():
    # The strength-sweep table of docs/studies.md ("into the Sign model (trained with Sign: 91.95%)") records the
    # Sign model with its own kernels on the 2,000 embedded images: 1,839 of them right.
    from dither_lab.nn.models import load_pretrained

    model, _ = load_pretrained("fashion-mnist-sign")
    res = evaluate(model, embedded_subset())
    assert res["count"] == 2000 and res["accuracy"] == 1839 / 2000


def test_the_strength_sweep_table_of_the_docs():
    # docs/studies.md's strength sweep, row by row (the packed engine gives the float model's predictions)
    from dither_lab.nn.evaluate import strength_sweep
    from dither_lab.nn.models import load_pretrained

    table = {"fashion-mnist-design": [44.80, 53.80, 68.70, 87.00, 92.60, 88.45, 62.05, 26.50, 20.15],
             "fashion-mnist-sign": [91.95, 90.20, 76.75, 36.80, 19.20, 16.85, 10.90, 10.00, 10.05]}
    for name, row in table.items():
        sweep = strength_sweep(load_pretrained(name)[0], embedded_subset(), "preset:design-2x2-a", engine="packed")
        assert [r["strength"] for r in sweep] == [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2]
        assert [round(100 * r["accuracy"], 2) for r in sweep] == row


def test_evaluate_per_image_and_paired_change():
    from dither_lab.nn.evaluate import paired_change

    m = build_model("fmnist-net", in_channels=1, image_size=28, width=0.125, activation="sign").eval()
    ds = embedded_subset()
    res = evaluate(m, ds, count=60, per_image=True)
    assert res["correct"].sum() == round(60 * res["accuracy"]) and len(res["predictions"]) == 60
    assert np.array_equal(res["correct"], res["predictions"] == ds.labels[:60])
    assert "correct" not in evaluate(m, ds, count=10)  # the plain result (and the CLI's JSON) stays small
    # 3 images put right, 1 put wrong, 96 alike: +2 points, and chance alone moves it 2 * sqrt(4) = 4 images
    before = np.zeros(100, dtype=bool)
    before[:50] = True
    after = before.copy()
    after[50:53] = True
    after[0] = False
    res = paired_change(after, before)
    assert (res["fixed"], res["broken"]) == (3, 1) and res["change"] == pytest.approx(0.02)
    assert res["chance"] == pytest.approx(0.04)
    assert paired_change(before, before)["chance"] == 0
    with pytest.raises(ValueError, match="equal"):
        paired_change(before, before[:10])


def test_strength_sweep_runs_from_sign_to_scaled_kernels():
    from dither_lab.nn.evaluate import strength_sweep
    from dither_lab.nn.models import load_pretrained

    m, _ = load_pretrained("fashion-mnist-design")
    ds = embedded_subset()
    rows = strength_sweep(m, ds, "preset:design-2x2-a", [0, 1, 2], layers=[1], count=300)
    assert [r["strength"] for r in rows] == [0.0, 1.0, 2.0]
    acc = [evaluate(m, ds, kernel=k, layers=[1], count=300)["accuracy"]
           for k in ("sign", "preset:design-2x2-a", "custom:1.262,1.262;0.6236,1.9342")]  # the paper's 2x2, doubled
    assert [r["accuracy"] for r in rows] == acc
    # the three strengths do differ here, so the sweep is not a constant
    assert acc[0] != acc[1] and acc[1] != acc[2] and acc[0] != acc[2]
    for bad in ([], [-1], [float("nan")], ["x"], list(range(51))):
        with pytest.raises(ValueError, match="strengths"):
            strength_sweep(m, ds, "sign", bad, count=10)


def test_dataset_subset_keeps_metadata():
    images = np.arange(16, dtype=np.uint8).reshape(4, 1, 2, 2)  # every image different
    ds = Dataset("x", "test", images, np.array([3, 1, 2, 0]), ["a", "b", "c", "d"], "mem")
    for indices, picked in (([2, 0], [2, 0]), (slice(1, 3), [1, 2]), (range(3, 4), [3])):
        sub = ds.subset(indices)
        assert (sub.name, sub.split, sub.classes, sub.source) == ("x", "test", ["a", "b", "c", "d"], "mem")
        np.testing.assert_array_equal(sub.images, images[picked])
        assert sub.labels.tolist() == [[3, 1, 2, 0][i] for i in picked] and len(sub) == len(picked)


def test_torchrun_two_cpu_processes_match_one(tmp_path, fashion_idx_dir):
    """Data-parallel training over two gloo processes against the same run in one process."""
    import shutil
    import subprocess
    import sys

    torchrun = str(Path(sys.executable).parent / "torchrun")  # the one beside this interpreter
    if not Path(torchrun).exists():
        torchrun = shutil.which("torchrun") or torchrun
    args = ["-m", "dither_lab", "train", "--dataset", "fashion-mnist", "--arch", "fmnist-net", "--width", "0.125",
            "--activation", "design", "--epochs", "2", "--batch-size", "50", "--limit", "200", "--threads", "1",
            "--data", str(fashion_idx_dir), "--json"]
    single = subprocess.run([sys.executable, *args, "--out", str(tmp_path / "one")], capture_output=True, text=True,
                            timeout=300)
    assert single.returncode == 0, single.stderr[-2000:]
    multi = subprocess.run([torchrun, "--standalone", "--nnodes", "1", "--nproc_per_node", "2", *args,
                            "--out", str(tmp_path / "two")], capture_output=True, text=True, timeout=300)
    assert multi.returncode == 0, multi.stderr[-2000:]
    one = json.loads((tmp_path / "one" / "card.json").read_text())
    two = json.loads((tmp_path / "two" / "card.json").read_text())
    assert two["processes"] == 2 and one["processes"] == 1
    # Same data order, same initial weights, averaged gradients: the first epoch's loss agrees closely; CPU batch
    # norm statistics are per process (PyTorch has no synchronized batch norm on CPU), hence a tolerance.
    assert two["history"][0]["train_loss"] == pytest.approx(one["history"][0]["train_loss"], rel=0.05)
    assert two["history"][-1]["train_loss"] == pytest.approx(one["history"][-1]["train_loss"], rel=0.10)


def test_shipped_run_is_the_one_recipe_of_every_study_run():
    from dither_lab.nn.train import shipped_run

    run = shipped_run("cifar10", "design", epochs=3, seed=2, affine=False)
    assert run.model == {"arch": "resnet-20", "in_channels": 3, "image_size": 32, "width": 1.0, "unit": "bn-prelu",
                         "activation": "design", "affine": False}
    assert (run.recipe.epochs, run.recipe.seed, run.recipe.crop_padding) == (3, 2, 4)
    assert shipped_run("fashion-mnist", "sign", epochs=1, width=0.25).model["width"] == 0.25
    assert shipped_run("fashion-mnist", "sign", epochs=1).recipe.crop_padding == 2
    with pytest.raises(ValueError, match="dataset must be one of"):
        shipped_run("mnist", "sign", epochs=1)


def _right(right: list[int], n: int = 200) -> dict:
    """An evaluate(per_image=True)-like result: the images listed are right, the others wrong."""
    correct = np.zeros(n, dtype=bool)
    correct[right] = True
    return {"accuracy": float(correct.mean()), "correct": correct}


def test_swap_changes_compare_each_kernel_with_the_trained_ones_image_by_image():
    from dither_lab.nn.evaluate import paired_change, swap_changes

    trained = _right(list(range(180)))  # 90%
    ahead = _right(list(range(190)))  # 10 more right, none wrong: +5 points, chance 2 sqrt(10) / 200 = 3.2
    mixed = _right(list(range(10, 186)))  # 6 right, 10 wrong: -2 points, chance 2 sqrt(16) / 200 = 4
    changes = swap_changes([("trained kernels", None, trained), ("A", "bayer:2", ahead), ("B", "sign", mixed)],
                           trained_with={"sign": {"accuracy": 0.89, "epochs": 4}})
    assert [c["name"] for c in changes] == ["trained kernels", "A", "B"]
    assert changes[0]["change"] == 0 and changes[0]["chance"] == 0 and not changes[0]["beyond_chance"]
    assert changes[1]["change"] == pytest.approx(0.05) and changes[1]["chance"] == pytest.approx(2 * 10**0.5 / 200)
    assert changes[1]["beyond_chance"] and changes[1]["trained_with"] is None
    want = paired_change(mixed["correct"], trained["correct"])
    assert (changes[2]["fixed"], changes[2]["broken"]) == (want["fixed"], want["broken"]) == (6, 10)
    assert changes[2]["chance"] == pytest.approx(0.04) and not changes[2]["beyond_chance"]
    assert (changes[2]["trained_with"], changes[2]["epochs"]) == (0.89, 4)
    with pytest.raises(ValueError, match="trained kernels"):
        swap_changes([("A", "bayer:2", ahead)])


def test_swap_rows_say_which_way_is_better_and_the_study_runs_epochs():
    from dither_lab.nn.evaluate import short_spec, swap_changes, swap_rows

    runs = [("trained kernels", None, _right(list(range(180)))), ("Sign", "sign", _right(list(range(90)))),
            ("learned kernel", "custom:0.123456,0.654321;0.111111,0.999999", _right(list(range(181))))]
    table = swap_rows(swap_changes(runs, trained_with={"sign": {"accuracy": 0.8903, "epochs": 4}}))
    rows = table["rows"]
    trained = "trained with it (4 epochs, %) ↑"  # the study run's epochs in the header
    assert list(rows[0]) == ["kernel", "accuracy (%) ↑", "change ↑", "chance ±", "beyond chance", trained,
                             "spec"]
    assert rows[0]["spec"] == "(as trained)" and rows[0]["beyond chance"] == ""
    assert rows[1]["accuracy (%) ↑"] == 45.0 and rows[1]["change ↑"] == -45.0
    assert rows[1]["beyond chance"] == "yes" and rows[2]["beyond chance"] == "no"
    assert rows[1][trained] == 89.03 and rows[2][trained] is None
    assert rows[2]["spec"] == "custom:0.123456,0.654…" == short_spec(runs[2][1]) and len(rows[2]["spec"]) == 22
    assert table["better"] == {"accuracy (%) ↑": "higher", trained: "higher"}
    assert "sign test" in table["help"]["chance ±"]
    mixed = swap_rows(swap_changes(runs, trained_with={"sign": {"accuracy": 0.89, "epochs": 4},
                                                       runs[2][1]: {"accuracy": 0.9, "epochs": 12}}))
    assert "trained with it (%) ↑" in mixed["rows"][0] and mixed["rows"][2]["its epochs"] == 12
    assert "trained with it (%) ↑" not in swap_rows(swap_changes(runs[:2]))["rows"][0]  # no study run: no column


def test_swap_takeaway_is_computed_from_the_numbers():
    from dither_lab.nn.evaluate import swap_changes, swap_takeaway

    trained = ("trained kernels", None, _right(list(range(180))))

    def say(*runs, study=None):
        return swap_takeaway(swap_changes([trained, *runs], trained_with=study), trained_as="DeSign 2x2 (paper)")

    assert "90.00% of these 200 images" in say()
    text = say(("Bayer 2x2", "bayer:2", _right(list(range(190)))))
    assert text.startswith("Bayer 2x2 is ahead of the trained kernels beyond chance: 95.00% against 90.00% "
                           "(+5.00 points, chance ±3.16)")
    text = say(("Sign", "sign", _right(list(range(90)))), study={"sign": {"accuracy": 0.8903, "epochs": 4}})
    assert text.startswith("Swapping Sign in breaks the network: accuracy falls from 90.00% to 45.00%")
    assert "trained for DeSign 2x2 (paper)'s thresholds" in text and "reached 89.03%" in text and "4-epoch" in text
    text = say(("A", "bayer:2", _right(list(range(10, 186)))), ("B", "bayer:4", _right(list(range(181)))))
    assert text.startswith("Every swap is within chance of the trained kernels' 90.00%: the largest change, A's, "
                           "is -2.00 points, chance ±4.00.")
    assert say(("A", "bayer:2", _right(list(range(181))))).startswith("A is within chance")
    text = say(("DeSign 2x2 (paper)", "preset:design-2x2-a", _right(list(range(180)))))
    assert text == "DeSign 2x2 (paper) is the kernel this network was trained with: the same prediction on every image."
    text = say(("C", "bayer:8", _right(list(range(170)))))  # -5 points, chance 2 sqrt(10) / 200: behind, not broken
    assert text == "C falls behind the trained kernels beyond chance (-5.00 points, chance ±3.16)."


def test_running_a_model_leaves_the_callers_model_untouched():
    # Running a model changes it (folded-threshold caches, taps, train/eval mode): the library runs copies, so a
    # model shared between threads (the app's) can be handed to any of these.
    from dither_lab.nn.cost import layer_shapes
    from dither_lab.nn.feature_maps import layer_maps
    from dither_lab.nn.models import binary_layers, build_model

    torch.manual_seed(0)
    model = build_model("fmnist-net", in_channels=1, image_size=28, width=0.25).train()
    data = embedded_subset().subset(np.arange(20))
    evaluate(model, data)
    layer_maps(model, data.images[:2], "fashion-mnist")
    layer_shapes(model)
    assert model.training and all(layer._folded is None for layer in binary_layers(model).values())
