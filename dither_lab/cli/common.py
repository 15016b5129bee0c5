"""What every command shares: one-line errors, JSON output, the model and test images a command reads."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any


class CliError(Exception):
    """A user mistake reported as one line."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        raise CliError(f"{self.prog}: {message}")


def jsonable(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if isinstance(obj, dict):
        return {k: jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "item") and type(obj).__module__ == "numpy":  # NumPy scalars, without importing NumPy
        return obj.item()
    return obj


def print_json(obj: Any) -> None:
    print(json.dumps(jsonable(obj), indent=2))


def print_table(rows: dict[str, dict[str, Any]]) -> None:
    """Detail metrics as a table: tone and detail first, each header with which way is better, and the viewing
    condition of the eye-weighted metric."""
    from dither_lab.imaging.metrics import METRICS

    keys = ["tone_error", "csf_psnr", "local_correlation", "density", "psnr", "ssim"]
    heads = {k: f"{METRICS[k].label} {METRICS[k].arrow}" for k in keys}
    widths = {k: max(10, len(h) + 2) for k, h in heads.items()}
    print(f"{'output':<28}" + "".join(f"{heads[k]:>{widths[k]}}" for k in keys))
    for name, m in rows.items():
        print(f"{name[:27]:<28}" + "".join(f"{m[k]:>{widths[k]}.4f}" for k in keys))
    first = next(iter(rows.values()))
    print(f"{METRICS['csf_psnr'].label}: {first['viewing']}; {METRICS['density'].label}: best at the input's mean "
          f"({first['reference_mean']:.4f}); PSNR and SSIM count any binary texture as error")


# -------------------------------------------------------------------------------------------- shared options


def add_model_options(p: argparse.ArgumentParser, *, kernel: bool = True, layers: bool = True,
                      required: bool = True) -> None:
    """``--model`` and, for the commands that swap a kernel in, ``--kernel`` (default: the trained kernels) and
    ``--layers``, said alike by every command."""
    p.add_argument("--model", required=required, default=None,
                   help="pretrained name (e.g. fashion-mnist-design) or .safetensors file")
    if kernel:
        p.add_argument("--kernel", default="trained", help="kernel spec, or 'trained' (its own kernels; the default)")
    if layers:
        p.add_argument("--layers", default="all", help="'all' or a comma list of binary-layer indices or names")


def add_output_options(p: argparse.ArgumentParser, *, what: str | None = None, json_help: str | None = None) -> None:
    """``--force`` (overwrite ``what``, the file a command writes) and ``--json``."""
    p.add_argument("--force", action="store_true", help=f"overwrite {what} if it exists" if what else None)
    p.add_argument("--json", action="store_true", help=json_help)


def refuse_overwrite(out: str | None, force: bool) -> None:
    """The one-line error for an output file that exists, unless ``--force`` (nothing to check without a file)."""
    if out is not None and Path(out).exists() and not force:
        raise CliError(f"{out} already exists; pass --force to overwrite it")


# ------------------------------------------------------------------------------------------------- commands


def load_eval_model(name: str, cmd: str = "evaluate") -> tuple[Any, str]:
    from dither_lab.nn.models import PRETRAINED, load_model, load_pretrained

    if name in PRETRAINED:
        model, meta = load_pretrained(name)
        return model, meta["dataset"]
    if Path(name).suffix == ".safetensors":
        model, meta = load_model(name)
        card = meta.get("card") or {}
        dataset = card.get("dataset") or ("fashion-mnist" if model.config["in_channels"] == 1 else "cifar10")
        return model, dataset
    raise CliError(f"dither-lab {cmd}: --model must be one of {', '.join(PRETRAINED)} or a .safetensors file, got {name!r}")


def parse_layers(text: str, has_kernel: bool, cmd: str) -> list[int | str] | None:
    """``--layers``: 'all' (None) or a comma list of binary-layer indices or names; it needs a kernel to place."""
    if text == "all":
        return None
    if not has_kernel:
        raise CliError(f"dither-lab {cmd}: --layers says where --kernel goes; give --kernel too")
    items = [v.strip() for v in text.split(",")]
    if not all(items):
        raise CliError(f"dither-lab {cmd}: --layers must be 'all' or a comma list, got {text!r}")
    return [int(v) if v.lstrip("-").isdigit() else v for v in items]


def test_images(dataset: str, path: str | None, *, full: bool = False) -> Any:
    """The test images a command measures on: the embedded Fashion-MNIST subset unless a path or the full test set
    is asked for (CIFAR-10 always reads its test set from the data folder or ``path``)."""
    from dither_lab.data import embedded_subset, load_dataset

    if full or path or dataset != "fashion-mnist":
        return load_dataset(dataset, "test", path=path)
    return embedded_subset()
