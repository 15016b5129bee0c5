"""Write dither_lab/assets/models/README.md, the human-readable model card, from the JSON cards next to the weights.

    python scripts/model_card.py
"""

from __future__ import annotations

import argparse
import json

import checkout

from dither_lab.io import atomic_write


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    checkout.add_assets_option(p)
    checkout.use_assets(p.parse_args().assets)
    cards = sorted((checkout.ASSETS / "models").glob("*.card.json"))
    lines = [
        "# Model card: the shipped pretrained BNNs",
        "",
        "Each model was trained by this project's own script, with the command in its row; its JSON card (beside",
        "the weights) holds the full recipe, the per-epoch history, the machine and the commit. Weights are",
        "safetensors with the binary convolutions bit-packed (1 bit per weight plus one float scale per output",
        "channel); their sha256 sums are in ../MANIFEST.json and are checked at load.",
        "",
        "| model | architecture | activation | epochs | test accuracy (full test set) | wall time | parameters in bytes (binary packed) | file bytes | command |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for path in cards:
        c = json.loads(path.read_text())
        m = c["model"]
        lines.append(
            f"| {path.name.removesuffix('.card.json')} | {m['arch']} (width {m['width']}"
            f"{', ' + m.get('unit', 'plain') + ' units' if m['arch'] == 'resnet-20' else ''}) | {m['activation']} | "
            f"{c['epochs_done']} | {100 * c['test_accuracy']:.2f}% | {c['wall_time_s'] / 60:.0f} min on {c['device']} | "
            f"{c['bytes']['total']:,} | {c['weights_file_bytes']:,} | `{c['made_by']}` at commit {c['commit']} |")
    lines += [
        "",
        "Data: Fashion-MNIST (Xiao, Rasul and Vollgraf 2017, MIT licence) from its official IDX files, and CIFAR-10",
        "(Krizhevsky 2009) from a JPEG copy (quality about 75; accuracy reported as 'CIFAR-10 (JPEG copy)'); test",
        "accuracy is on the full 10,000-image test set, as measured on the training device. Recipe (each pair identical",
        "but for the activation): Adam, learning rate 2e-3 with half an epoch of warm-up then cosine decay, batch 128,",
        "random crop (padding 2 for Fashion-MNIST, 4 for CIFAR-10) and flip, label smoothing 0.1, weight decay 5e-4 on",
        "real-valued weights only, seed 0, learnable batch-norm scale and shift. The DeSign models use the paper's 2x2",
        "kernel [[1,1],[0,3]] in the authors' batch-norm units in every binary layer.",
        "",
        "ResNet-20 units (`dither_lab.nn.models.UNITS`): `plain` adds each binary convolution's output to its real-valued",
        "shortcut; `bn-prelu` puts a batch norm after the binary convolution and a PReLU after the addition. The",
        "shipped CIFAR-10 pair has bn-prelu units, the recipe's since a CPU pilot found them learning faster",
        "(`python scripts/unit_pilot.py --data PATH`, results in benchmarks/results/unit_pilot_cifar10.json); the",
        "pair before it, plain units trained for 44 epochs, reached 76.75% (Sign) and 77.39% (DeSign)",
        "(dither_lab/assets/study/campaign_long_cifar10.json).",
        "",
        "Trained on a GPU (TF32 convolutions), evaluated on a CPU in float32 the same files give Fashion-MNIST 92.70%",
        "(Sign) and 92.76% (DeSign), CIFAR-10 80.29% (Sign) and 80.15% (DeSign): `python -m dither_lab evaluate --model",
        "NAME --full --data PATH`. The CIFAR-10 pair is below the 86.5-88.0% the literature reports for 1W1A ResNet-20:",
        "it was trained for 40 epochs,",
        "and the network still underfits (training accuracy 82.2-82.4% at the end, augmented). The longer schedule",
        "gave more: 22 epochs of the same recipe reached 77.87% / 77.30%, 40 epochs 79.98% / 80.18%",
        "(dither_lab/assets/study/campaign_bnprelu22_cifar10.json, campaign_ship_cifar10.json). What 200 epochs",
        "give was not measured; carried on log-linearly in epochs from those two pairs (2.45 and 3.34 points a",
        "doubling), 200 epochs would give about 85.7% (Sign) and 87.9% (DeSign): an estimate from two points, not a",
        "measurement. `python scripts/train_pretrained.py --dataset cifar10 --data PATH --activation design",
        "--epochs 200` is that run; `scripts/campaign.py run --epochs 200 --keep-checkpoints` trains it in several",
        "calls, each inside its time budget, that resume packed checkpoints (docs/models.md, Longer schedules).",
        "",
    ]
    text = "\n".join(lines).encode()
    atomic_write(checkout.ASSETS / "models" / "README.md", lambda fh: fh.write(text), force=True)
    print(f"wrote {checkout.ASSETS / 'models' / 'README.md'}")


if __name__ == "__main__":
    main()
