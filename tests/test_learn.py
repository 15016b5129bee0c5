import copy

import numpy as np
import pytest
import torch

from dither_lab.data import embedded_subset
from dither_lab.nn.learned import learn_kernel
from dither_lab.nn.models import binary_layers, build_model


def _hits(model, data):
    """Images whose largest logit is their label (inputs standardized with Fashion-MNIST's published statistics,
    mean 0.2860 and standard deviation 0.3530 of [0, 1] pixels: 72.94 and 90.02 on 0..255)."""
    with torch.no_grad():
        logits = model.eval()((torch.from_numpy(np.array(data.images, dtype=np.float32)) - 72.94) / 90.02)
    return int((logits.argmax(1).numpy() == data.labels).sum())


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model("fmnist-net", in_channels=1, image_size=28, width=0.125, activation="design").eval()


def test_only_the_kernel_moves_and_original_is_untouched(model):
    data = embedded_subset().subset(np.arange(0, 2000, 20))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    tuned, kernels, losses = learn_kernel(model, data, steps=15, batch_size=32, lr=0.05)
    assert len(losses) == 15 and len(kernels) == len(binary_layers(model))
    k = next(iter(kernels.values()))
    assert not np.allclose(k.values, [[0.631, 0.631], [0.3118, 0.9671]])  # it learned something
    assert all(np.array_equal(v.values, k.values) for v in kernels.values())  # shared by default
    for name, v in model.state_dict().items():
        assert torch.equal(v, before[name]), name  # the original model is unchanged
    tuned_state = tuned.state_dict()
    for name, v in before.items():
        if "act.weight" not in name:
            assert torch.equal(tuned_state[name], v), name  # frozen


def test_per_layer_kernels_time_limit_and_errors(model):
    data = embedded_subset().subset(np.arange(100))
    _, kernels, losses = learn_kernel(model, data, layers=[0, 1], shared=False, steps=1000, time_limit=0.0)
    assert len(losses) == 1 and len(kernels) == 2
    with pytest.raises(ValueError, match="unknown layer"):
        learn_kernel(model, data, layers=["nope"], steps=1)
    with pytest.raises(ValueError, match="steps"):
        learn_kernel(model, data, steps=0)


def test_learn_and_compare_splits_fit_and_held_out(model):
    from dither_lab.nn.learned import learn_and_compare

    data = embedded_subset().subset(np.arange(200))
    # the last kernel (keep_best=None): on this untrained network the best by loss would be the start itself
    res = learn_and_compare(model, data, init="preset:design-2x2-a", steps=3, keep_best=None)
    assert res["held_out"] == 100 and res["steps"] == 3 and res["spec"].startswith("custom:")
    assert not np.allclose(res["values"], [[0.631, 0.631], [0.3118, 0.9671]])  # it moved
    # held out: the odd-indexed images, counted here from the networks' logits. The model was built with the
    # paper's 2x2 kernel, the init, so "trained" and "before" are the same network.
    held = data.subset(slice(1, None, 2))
    learned = copy.deepcopy(model)
    for layer in binary_layers(learned).values():
        layer.set_kernel(res["spec"])
    assert res["trained"] == _hits(model, held) / 100 == res["before"]
    assert res["after"] == _hits(learned, held) / 100
    # images put right less images put wrong is the change in accuracy, image for image
    assert res["fixed"] - res["broken"] == round(100 * (res["after"] - res["before"]))


def test_keep_best_returns_the_kernel_with_the_lowest_check_loss():
    # Steps far too large wreck a kernel the network was trained with: keeping the best by the loss on the
    # training images returns the start; without it the last, wrecked kernel comes back.
    from dither_lab.nn.evaluate import evaluate
    from dither_lab.nn.models import load_pretrained

    model, _ = load_pretrained("fashion-mnist-design")
    data = embedded_subset().subset(np.arange(300))
    start = [[0.631, 0.631], [0.3118, 0.9671]]
    _, last, _ = learn_kernel(model, data, steps=6, lr=3.0)
    tuned, best, _ = learn_kernel(model, data, steps=6, lr=3.0, keep_best=2)
    assert not np.allclose(next(iter(last.values())).values, start, atol=1e-3)
    assert np.allclose(next(iter(best.values())).values, start, atol=1e-4)
    assert evaluate(tuned, data)["accuracy"] == evaluate(model, data)["accuracy"]  # the network is the start's
    with pytest.raises(ValueError, match="keep_best"):
        learn_kernel(model, data, steps=1, keep_best=0)


def test_a_learned_kernel_is_the_same_from_the_same_start_and_seed(model):
    from dither_lab.nn.learned import learn_and_compare

    data = embedded_subset().subset(np.arange(200))
    runs = [learn_and_compare(model, data, init="preset:design-2x2-a", steps=4, keep_best=None, time_limit=None,
                              seed=s) for s in (0, 0, 1)]
    assert runs[0]["seed"] == 0 and runs[0]["spec"] == runs[1]["spec"] and runs[0]["after"] == runs[1]["after"]
    assert runs[2]["seed"] == 1 and runs[2]["spec"] != runs[0]["spec"]  # other batches, another kernel


def test_learned_takeaway_says_what_the_numbers_show():
    from dither_lab.nn.learned import learned_takeaway

    base = {"held_out": 1000, "trained": 0.928, "values": [[0.5, 0.7], [0.3, 1.0]],
            "start_values": [[0.631, 0.631], [0.3118, 0.9671]]}
    ahead = learned_takeaway(base | {"before": 0.90, "after": 0.92, "fixed": 30, "broken": 10, "chance": 2 * 40**0.5 / 1000},
                             "DeSign 2x2 (paper)")
    assert ahead.startswith("The learned kernel is ahead of DeSign 2x2 (paper) beyond chance on the 1,000 images it did "
                            "not learn on (+2.00 points, chance ±1.26).")
    level = learned_takeaway(base | {"before": 0.90, "after": 0.905, "fixed": 15, "broken": 10, "chance": 0.01}, "X")
    assert "within chance of X" in level and "no evidence that learning helped" in level
    same = learned_takeaway(base | {"values": base["start_values"], "before": 0.928, "after": 0.928, "fixed": 0,
                                    "broken": 0, "chance": 0.0}, "X")
    assert same.startswith("The learned kernel is X itself")
