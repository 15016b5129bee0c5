"""Train the shipped pretrained BNNs with one recipe and seed, once with Sign and once with DeSign.

    python scripts/train_pretrained.py --dataset fashion-mnist --activation sign   [--epochs 10] [--device auto]
    python scripts/train_pretrained.py --dataset fashion-mnist --activation design
    python scripts/train_pretrained.py --dataset cifar10 --data PATH/cifar10-jpg.tar.gz --activation sign

Writes dither_lab/assets/models/<dataset>-<arch>-<activation>.safetensors (bit-packed binary layers) and a model card
<same name>.card.json, and records both in dither_lab/assets/MANIFEST.json. The run folder (checkpoints) is runs/<name>/;
rerunning with --resume continues an interrupted run exactly.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import checkout
import torch

from dither_lab.data import load_dataset
from dither_lab.io import atomic_write, record_asset
from dither_lab.nn.models import load_model, model_nbytes
from dither_lab.nn.train import SHIPPED_MODELS, shipped_run, train


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=list(SHIPPED_MODELS), required=True)
    p.add_argument("--activation", choices=["sign", "design"], required=True)
    p.add_argument("--data", default=None, help="dataset path (default: the data folder, see dither_lab.data)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--device", default="auto")
    p.add_argument("--resume", action="store_true")
    checkout.add_assets_option(p)
    a = p.parse_args()
    checkout.use_assets(a.assets)
    if a.threads:
        torch.set_num_threads(a.threads)
    arch = SHIPPED_MODELS[a.dataset]["arch"]
    name = f"{a.dataset}-{arch}-{a.activation}"
    run = shipped_run(a.dataset, a.activation, epochs=a.epochs, seed=a.seed)
    train_set, test_set = load_dataset(a.dataset, "train", path=a.data), load_dataset(a.dataset, "test", path=a.data)
    made_by = f"python scripts/train_pretrained.py --dataset {a.dataset} --activation {a.activation} " \
              f"--epochs {a.epochs} --seed {a.seed}"
    run_dir = Path("runs") / name
    card = train(run, train_set, test_set, run_dir, resume=a.resume, device=a.device, export=run_dir / "model.safetensors")
    publish(run_dir / "model.safetensors", card, dataset=a.dataset, arch=arch, activation=a.activation, made_by=made_by)


def publish(weights: Path, card: dict, *, dataset: str, arch: str, activation: str, made_by: str) -> Path:
    """Copy trained weights into dither_lab/assets/models/<dataset>-<arch>-<activation>.safetensors with their card (plus
    sizes and the command that made them) and record both in the manifest. Returns the published weights."""
    name = f"{dataset}-{arch}-{activation}"
    out = checkout.ASSETS / "models"
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{name}.safetensors"
    data = Path(weights).read_bytes()
    atomic_write(target, lambda fh: fh.write(data), force=True)
    model, _ = load_model(target)
    card = {**card, "bytes": model_nbytes(model), "weights_file_bytes": target.stat().st_size, "made_by": made_by}
    text = (json.dumps(card, indent=2) + "\n").encode()
    atomic_write(out / f"{name}.card.json", lambda fh: fh.write(text), force=True)
    for rel in (f"models/{name}.safetensors", f"models/{name}.card.json"):
        record_asset(rel, made_by=made_by, test_accuracy=card["test_accuracy"], assets_dir=checkout.ASSETS)
    print(f"{name}: test accuracy {card['test_accuracy']:.4f} after {card['epochs_done']} epochs, "
          f"{card['wall_time_s']:.0f} s; weights {target.stat().st_size} bytes")
    return target

if __name__ == "__main__":
    main()
