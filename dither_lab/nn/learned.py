"""Learned threshold kernels: train only the kernel(s) of a pretrained BNN through the straight-through estimator.

Every other parameter is frozen and batch norm uses its running statistics, so the network is the trained one
and only the thresholds move. The gradient reaching a kernel entry is ``-sum(dL/db * STE window)`` over the
positions that use it (see :mod:`dither_lab.activation`). The paper names end-to-end kernel design as future
work; this is that experiment, kept small enough to run in the app (a time limit stops it).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dither_lab.data import Dataset, normalize
from dither_lab.kernels import Kernel, as_kernel
from dither_lab.nn.models import binary_layers, resolve_layers


def learn_kernel(model: nn.Module, data: Dataset, *, init: Any = "preset:design-2x2-a", layers: Any = None,
                 shared: bool = True, steps: int = 200, batch_size: int = 128, lr: float = 0.02, seed: int = 0,
                 time_limit: float | None = None, keep_best: int | None = None, check_images: int = 2000,
                 progress: Callable[[float, float], None] | None = None) -> tuple[nn.Module, dict[str, Kernel], list[float]]:
    """Fine-tune threshold kernels of a copy of ``model``; the model passed in is not changed.

    Args:
        model: a pretrained BNN.
        data: training images (uint8 (N, C, H, W)) and labels.
        init: the starting kernel (batch-norm units).
        layers: binary layers to learn (names or indices; None = all).
        shared: one kernel shared by the chosen layers (else one per layer).
        steps: optimizer steps (Adam).
        time_limit: stop after this many seconds.
        keep_best: every this many steps (and at the start and the end) measure the loss of the kernels on a
            fixed sample of ``data`` (``check_images`` of them, seeded), and return the kernels that scored lowest
            rather than the last: the straight-through gradient is noisy, and from a kernel the network was
            trained with, steps at a constant rate wander off it. None returns the last kernels.
        progress: called with (fraction done, running loss) after each step.

    Returns:
        (the fine-tuned copy in eval mode, {layer name: learned Kernel}, loss per step)
    """
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be >= 1, got {steps} and {batch_size}")
    m = copy.deepcopy(model).eval()
    for p in m.parameters():
        p.requires_grad_(False)
    named = binary_layers(m)
    names = resolve_layers(m, layers)
    k0 = as_kernel(init)
    shared_param = nn.Parameter(torch.tensor(k0.values, dtype=torch.float32)) if shared else None
    params = []
    for n in names:
        act = named[n].act
        act.set_kernel(k0, learnable=True)
        if shared_param is not None:
            act.weight = shared_param
        params.append(act.weight)
    unique = list({id(p): p for p in params}.values())
    opt = torch.optim.Adam(unique, lr=lr)
    gen = torch.Generator().manual_seed(seed)
    losses: list[float] = []
    if keep_best is not None:
        if keep_best < 1 or check_images < 1:
            raise ValueError(f"keep_best and check_images must be >= 1, got {keep_best} and {check_images}")
        pick = np.sort(np.random.default_rng(seed).permutation(len(data))[:check_images])
        check_x = normalize(np.asarray(data.images[pick]), data.name)
        check_y = torch.as_tensor(np.asarray(data.labels)[pick])

        def check_loss() -> float:
            with torch.inference_mode():
                return float(sum(F.cross_entropy(m(check_x[i : i + 500]), check_y[i : i + 500], reduction="sum")
                                 for i in range(0, len(check_y), 500)) / len(check_y))

        best = (check_loss(), [p.detach().clone() for p in unique])
    t0 = time.perf_counter()
    for step in range(steps):
        idx = torch.randint(0, len(data), (min(batch_size, len(data)),), generator=gen).numpy()
        x = normalize(np.asarray(data.images[np.sort(idx)]), data.name)
        y = torch.as_tensor(np.asarray(data.labels)[np.sort(idx)])
        with torch.enable_grad():
            loss = F.cross_entropy(m(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        if progress is not None:
            progress((step + 1) / steps, float(np.mean(losses[-20:])))
        stop = step + 1 == steps or (time_limit is not None and time.perf_counter() - t0 > time_limit)
        if keep_best is not None and ((step + 1) % keep_best == 0 or stop):
            loss_now = check_loss()
            if loss_now < best[0]:
                best = (loss_now, [p.detach().clone() for p in unique])
        if stop:
            break
    if keep_best is not None:
        with torch.no_grad():
            for p, kept in zip(unique, best[1], strict=True):
                p.copy_(kept)
    learned = {}
    for n in names:
        learned[n] = Kernel(named[n].act.weight.detach().numpy().astype(np.float64), spec="custom", domain="bn",
                            name=f"learned ({n})")
    return m.eval(), learned, losses


def learn_and_compare(model: nn.Module, data: Dataset, *, init: Any, steps: int = 100, time_limit: float | None = 30.0,
                      keep_best: int | None = 20, seed: int = 0,
                      progress: Callable[[float, float], None] | None = None) -> dict[str, Any]:
    """Learn a kernel on the even-indexed images of ``data`` (keeping the best by their loss, see
    :func:`learn_kernel`) and measure it on the odd-indexed ones.

    The batches and the images the loss is checked on are drawn from ``seed``: the same start, steps and seed give
    the same kernel, unless ``time_limit`` stops a run sooner (``steps`` in the result says how many ran).

    Returns:
        dict with the learned kernel's ``spec`` and ``values``, the start's values (``start_values``), the steps run,
        the ``seed``, and held-out accuracy of the
        trained kernels (``trained``), of ``init`` swapped in (``before``) and of the learned kernel (``after``);
        and :func:`dither_lab.nn.evaluate.paired_change` of the learned kernel against ``init`` (``fixed``,
        ``broken``, ``change`` and the ``chance`` band).
    """
    from dither_lab.nn.evaluate import paired_change, predict, with_kernel

    fit, held = data.subset(slice(0, None, 2)), data.subset(slice(1, None, 2))
    tuned, kernels, losses = learn_kernel(model, fit, init=init, steps=steps, time_limit=time_limit,
                                          keep_best=keep_best, seed=seed, progress=progress)
    k = next(iter(kernels.values()))
    labels = np.asarray(held.labels)
    right = {name: predict(net, held.images, held.name) == labels
             for name, net in (("trained", with_kernel(model, None)[0]), ("before", with_kernel(model, init)[0]),
                               ("after", tuned))}
    return {"spec": k.to_spec_values(), "values": k.values.tolist(), "start_values": as_kernel(init).values.tolist(),
            "steps": len(losses), "seed": seed,
            **{name: float(r.mean()) for name, r in right.items()}, "held_out": len(held),
            **paired_change(right["after"], right["before"])}


def learned_takeaway(res: dict[str, Any], start_name: str) -> str:
    """What :func:`learn_and_compare`'s numbers show, in a sentence or two: whether the learned kernel does better
    than the kernel it started from beyond chance, on the images it did not learn on, or is that kernel itself."""
    change, chance = res["after"] - res["before"], res["chance"]
    pts = f"{100 * change:+.2f} points, chance ±{100 * chance:.2f}"
    n = f"{res['held_out']:,}"
    start = res.get("start_values")
    if start is not None and np.shape(start) == np.shape(res["values"]) and np.allclose(res["values"], start):
        text = (f"The learned kernel is {start_name} itself: of the kernels checked on the learning half, the start "
                "had the lowest loss, so the run kept it. Learning found nothing better here.")
    elif res["fixed"] == res["broken"] == 0:
        text = (f"The learned kernel gives {start_name}'s prediction on every one of the {n} images it did not learn "
                "on: no change.")
    elif abs(change) <= chance:
        text = (f"The learned kernel is within chance of {start_name} on the {n} images it did not learn on ({pts}): "
                "no evidence that learning helped.")
    else:
        text = (f"The learned kernel is {'ahead of' if change > 0 else 'behind'} {start_name} beyond chance on the "
                f"{n} images it did not learn on ({pts}).")
    return text + (f" On those images: the learned kernel {res['after']:.2%}, {start_name} {res['before']:.2%}, the "
                   f"network's trained kernels {res['trained']:.2%}.")
