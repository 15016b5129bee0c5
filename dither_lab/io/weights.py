"""Tensors and weights: safetensors files with JSON metadata (no pickle), and training checkpoints."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dither_lab.io.files import atomic_write


def save_tensors(tensors: dict[str, Any], path: str | os.PathLike, *, metadata: dict[str, Any] | None = None,
                 force: bool = False) -> Path:
    """Write tensors as safetensors, with ``metadata`` stored as JSON in the header; atomic."""
    from safetensors.torch import save

    data = save(tensors, metadata={"dither_lab": json.dumps(metadata or {})})
    return atomic_write(path, lambda fh: fh.write(data), force=force)


def load_tensors(path: str | os.PathLike, *, sha256: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read a safetensors file (no pickle) and its JSON metadata; check its sha256 when given.

    Raises:
        ValueError: missing, damaged (sha256 mismatch) or not a safetensors file; the message names the file.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load

    p = Path(path)
    if not p.is_file():
        raise ValueError(f"weights file {p} does not exist")
    data = p.read_bytes()
    if sha256 is not None:
        import hashlib

        if hashlib.sha256(data).hexdigest() != sha256:
            raise ValueError(f"weights file {p} is damaged: its sha256 differs from the manifest")
    try:
        tensors = load(data)
        header_len = int.from_bytes(data[:8], "little")
        header = json.loads(data[8 : 8 + header_len])
        meta = json.loads(header.get("__metadata__", {}).get("dither_lab", "{}"))
    except (SafetensorError, ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"weights file {p} is not a readable safetensors file ({exc})") from None
    return tensors, meta


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write a training checkpoint atomically (torch.save; read back with ``weights_only=True``)."""
    import torch

    return atomic_write(path, lambda fh: torch.save(state, fh), force=True)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True`` (no arbitrary pickle)."""
    import pickle

    import torch

    p = Path(path)
    if not p.is_file():
        raise ValueError(f"checkpoint {p} does not exist")
    try:
        return torch.load(p, map_location="cpu", weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, EOFError, ValueError, OSError) as exc:
        raise ValueError(f"checkpoint {p} is damaged or not a dither_lab checkpoint ({str(exc).splitlines()[0]})") from None
