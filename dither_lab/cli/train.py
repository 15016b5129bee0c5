"""``dither-lab train``: train a BNN."""

from __future__ import annotations

import argparse
from typing import Any

from dither_lab.cli.common import print_json
from dither_lab.nn.catalog import ACTIVATIONS, ARCHS, UNITS


def _cmd_train(a: argparse.Namespace) -> None:
    from dither_lab.data import balanced_subset, load_dataset
    from dither_lab.nn.models import build_model
    from dither_lab.nn.train import CROP_PADDING, SHIPPED_MODELS, Recipe, RunConfig, train

    if a.threads:
        import torch

        torch.set_num_threads(a.threads)
    cin, size = SHIPPED_MODELS[a.dataset]["in_channels"], SHIPPED_MODELS[a.dataset]["image_size"]
    recipe = Recipe(epochs=a.epochs, batch_size=a.batch_size, optimizer=a.optimizer, lr=a.lr, seed=a.seed,
                    weight_decay=a.weight_decay, label_smoothing=a.label_smoothing,
                    crop_padding=CROP_PADDING[a.dataset])
    model = {"arch": a.arch, "in_channels": cin, "image_size": size, "width": a.width, "activation": a.activation,
             "affine": not a.no_affine, "scale_by_gamma": a.scale_by_gamma}
    if a.unit != "plain":
        model["unit"] = a.unit
    if a.kernel:
        model["kernel"] = a.kernel
    run = RunConfig(model=model, dataset=a.dataset, recipe=recipe)
    build_model(**model)  # a configuration error is reported before the data are read
    tr, te = load_dataset(a.dataset, "train", path=a.data), load_dataset(a.dataset, "test", path=a.data)
    if a.limit:
        tr, te = balanced_subset(tr, a.limit, seed=a.seed), balanced_subset(te, a.limit, seed=a.seed)
    card = train(run, tr, te, a.out, resume=a.resume, device=a.device, export=a.export,
                 cuda_graph=not a.no_cuda_graph, compile=a.compile)
    if a.json:
        print_json(card)
    else:
        print(f"test accuracy {card['test_accuracy']:.4f} after {card['epochs_done']} epochs; card in {a.out}/card.json")


def add_train(sub: Any) -> None:
    """The ``train`` command."""
    tp = sub.add_parser("train", help="train a BNN (checkpoint each epoch, --resume, model card)")
    tp.add_argument("--dataset", choices=["fashion-mnist", "cifar10"], required=True)
    tp.add_argument("--arch", choices=list(ARCHS), required=True)
    tp.add_argument("--activation", default="sign", help=", ".join(ACTIVATIONS) + ", or a kernel spec")
    tp.add_argument("--kernel", default=None, help="kernel of design/learned activations")
    tp.add_argument("--width", type=float, default=1.0)
    tp.add_argument("--unit", choices=list(UNITS), default="plain",
                    help="resnet-20's residual unit: plain, or bn-prelu (batch norm after each binary convolution, "
                         "PReLU after the addition)")
    tp.add_argument("--no-affine", action="store_true", help="batch norm without learnable scale and shift")
    tp.add_argument("--scale-by-gamma", action="store_true", help="thresholds scaled by the batch-norm gamma")
    tp.add_argument("--epochs", type=int, default=10)
    tp.add_argument("--batch-size", type=int, default=128)
    tp.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    tp.add_argument("--lr", type=float, default=2e-3)
    tp.add_argument("--weight-decay", type=float, default=5e-4)
    tp.add_argument("--label-smoothing", type=float, default=0.1)
    tp.add_argument("--seed", type=int, default=0)
    tp.add_argument("--limit", type=int, default=0, help="use a balanced subset of N train and N test images (the same number of each class)")
    tp.add_argument("--threads", type=int, default=0)
    tp.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    tp.add_argument("--no-cuda-graph", action="store_true",
                    help="on a GPU, run every step eagerly instead of replaying full batches from a CUDA graph")
    tp.add_argument("--compile", action="store_true",
                    help="run full batches through torch.compile (fused kernels; compiles first, one process only)")
    tp.add_argument("--data", default=None)
    tp.add_argument("--out", required=True, help="run folder (checkpoint.pt, card.json)")
    tp.add_argument("--export", default=None, help="also save the trained model as .safetensors")
    tp.add_argument("--resume", action="store_true")
    tp.add_argument("--json", action="store_true")
    tp.set_defaults(func=_cmd_train)
