"""Shipped assets (package data): pretrained models, blue-noise masks, the Fashion-MNIST subset, study results.

They live in the package (``dither_lab/assets``), found through :mod:`importlib.resources`, so an installed wheel
works from any folder. Each file is listed in ``MANIFEST.json`` with its sha256, size and the command that made
it; readers check the sum before use. Importing this module registers the shipped blue-noise masks with
:mod:`dither_lab.kernels`, so large blue-noise kernels are read instead of computed.
"""

from __future__ import annotations

import json
import os
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from dither_lab.io.files import atomic_write, sha256_file
from dither_lab.kernels import register_mask_source

#: The shipped assets: package data of dither_lab.
ASSETS_DIR = Path(str(files("dither_lab") / "assets"))
MANIFEST_NAME = "MANIFEST.json"
#: How a user gets a missing or damaged asset back, said in the errors.
RESTORE = ("restore it by reinstalling dither_lab (`pip install --force-reinstall dither-lab`), in a checkout with "
           "`git checkout -- dither_lab/assets`,")


def read_manifest(*, assets_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    """The assets manifest: ``{"files": {relative path: {"sha256", "bytes", "made_by", ...}}}``."""
    root = Path(assets_dir) if assets_dir is not None else ASSETS_DIR
    p = root / MANIFEST_NAME
    if not p.is_file():
        return {"files": {}}
    try:
        doc = json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{p} is not valid JSON ({exc}); restore it with `make assets` or from git") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), dict):
        raise ValueError(f"{p} has no 'files' table; restore it with `make assets` or from git")
    return doc


def record_asset(relpath: str, *, made_by: str, assets_dir: str | os.PathLike | None = None, **info: Any) -> None:
    """Add or update one file's entry (sha256, size, how it was made) in the manifest, atomically."""
    root = Path(assets_dir) if assets_dir is not None else ASSETS_DIR
    doc = read_manifest(assets_dir=root)
    path = root / relpath
    doc["files"][relpath] = {"sha256": sha256_file(path), "bytes": path.stat().st_size, "made_by": made_by, **info}
    doc["files"] = dict(sorted(doc["files"].items()))
    text = (json.dumps(doc, indent=2) + "\n").encode()
    atomic_write(root / MANIFEST_NAME, lambda fh: fh.write(text), force=True)


def verified_asset(relpath: str, *, assets_dir: str | os.PathLike | None = None) -> Path:
    """Path of a shipped asset after checking its sha256 against the manifest.

    Raises:
        ValueError: the asset is missing, unlisted or damaged (the message says how to restore it).
    """
    root = Path(assets_dir) if assets_dir is not None else ASSETS_DIR
    entry = read_manifest(assets_dir=root)["files"].get(relpath)
    path = root / relpath
    if entry is None:
        raise ValueError(f"asset {relpath} is not listed in {root / MANIFEST_NAME}")
    if not path.is_file():
        raise ValueError(f"asset {path} is missing; {RESTORE} or {_remake(entry['made_by'])}")
    if sha256_file(path) != entry["sha256"]:
        raise ValueError(f"asset {path} is damaged (sha256 differs from the manifest); {RESTORE} or "
                         f"{_remake(entry['made_by'])}")
    return path


def _remake(made_by: str) -> str:
    """The command that made an asset, quoted so it can be pasted, and any note about it after the quote."""
    command, _, note = made_by.partition(" (")
    return f"`{command}`" + (f" ({note}" if note else "")


def load_asset_array(relpath: str, *, assets_dir: str | os.PathLike | None = None) -> np.ndarray:
    """Load a verified .npy asset (no pickle)."""
    return np.load(verified_asset(relpath, assets_dir=assets_dir), allow_pickle=False)


def _shipped_blue_noise(n: int, seed: int, sigma: float) -> np.ndarray | None:
    """The shipped void-and-cluster mask of this size, seed and sigma, or None (not shipped, or damaged)."""
    if n < 256:  # small masks take well under a second to compute; only 256 and 512 are shipped
        return None
    try:
        return load_asset_array(f"blue_noise/void_and_cluster_{n}_seed{seed}_sigma{sigma:g}.npy")
    except ValueError:
        return None


register_mask_source(_shipped_blue_noise)
