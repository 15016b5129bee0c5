"""Kernel files: dither_lab's versioned JSON, NumPy .npy, and the DeSign authors' MATLAB .mat.

* JSON, versioned schema ``{"format": "dither_lab.kernel", "version": 1, "name", "spec", "shape", "values",
  "units", "levels"}``; ``units`` is ``"bn"``, ``"unit"``, ``"raw"`` or ``"levels"``.
* ``.npy``: the values array, (m, n) or (F, m, n).
* MATLAB ``.mat`` (v5, as written by MATLAB or ``scipy.io.savemat``) with the variable ``kernel`` shaped
  (m, n) or (m, n, F) — the layout of the DeSign authors' released thresholds, so their files load as they are.
  Entries that are all DeSign levels {0, 1, 3, 5, 7, 9} are read as levels (``units="auto"``).

The format is decided by the file's content, not its extension. Writes are atomic, and an existing file is never
overwritten unless ``force=True``. Importing this module registers the ``file:PATH`` kernel spec.
"""

from __future__ import annotations

import io as _io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from dither_lab._checks import check_choice, check_kernel_values
from dither_lab.io.files import atomic_write
from dither_lab.kernels import LEVEL_TO_BN, Kernel, ParsedSpec, format_values, levels_to_thresholds, register_generator

KERNEL_FORMAT = "dither_lab.kernel"
KERNEL_VERSION = 1
KERNEL_SUFFIXES = (".json", ".npy", ".mat")


def _sniff(data: bytes) -> str:
    if data.startswith(b"\x93NUMPY"):
        return "npy"
    if data[:116].startswith(b"MATLAB"):
        return "mat"
    if data.lstrip()[:1] in (b"{", b"["):
        return "json"
    return "unknown"


def kernel_to_json(kernel: Kernel) -> dict[str, Any]:
    """The versioned JSON document of a kernel."""
    return {
        "format": KERNEL_FORMAT,
        "version": KERNEL_VERSION,
        "name": kernel.name,
        "spec": kernel.spec,
        "shape": list(kernel.shape),
        "units": kernel.domain,
        "values": kernel.values.tolist(),
        "levels": None if kernel.levels is None else kernel.levels.tolist(),
    }


def _kernel_from_json(doc: Any, source: str, domain: str) -> Kernel:
    if isinstance(doc, list):  # a bare nested list of values is accepted too
        return Kernel(check_kernel_values(doc, name=f"kernel in {source}"), spec="custom", domain="raw", name=Path(source).stem)
    if not isinstance(doc, dict):
        raise ValueError(f"{source}: a kernel JSON file must hold an object or a nested list, got {type(doc).__name__}")
    if doc.get("format", KERNEL_FORMAT) != KERNEL_FORMAT:
        raise ValueError(f"{source}: format must be {KERNEL_FORMAT!r}, got {doc.get('format')!r}")
    version = doc.get("version", KERNEL_VERSION)
    if version != KERNEL_VERSION:
        raise ValueError(f"{source}: kernel schema version {version!r} is not supported (this dither_lab reads {KERNEL_VERSION})")
    units = doc.get("units", "raw")
    if units not in ("bn", "unit", "raw", "levels"):
        raise ValueError(f"{source}: units must be 'bn', 'unit', 'raw' or 'levels', got {units!r}")
    if "values" not in doc and units != "levels":
        raise ValueError(f"{source}: the kernel JSON has no 'values'")
    name = str(doc.get("name") or Path(source).stem)
    levels = doc.get("levels")
    if units == "levels":
        lv = check_kernel_values(doc.get("values", levels), name=f"levels in {source}")
        return Kernel(levels_to_thresholds(lv, domain=domain), spec="levels:" + format_values(lv), domain=domain, name=name, levels=lv)
    values = check_kernel_values(doc["values"], name=f"values in {source}")
    if "shape" in doc and list(values.shape) != list(doc["shape"]):
        raise ValueError(f"{source}: 'shape' says {doc['shape']} but 'values' has shape {list(values.shape)}")
    return Kernel(values, spec=str(doc.get("spec") or "custom"), domain=units, name=name, levels=levels)


def _kernel_from_mat(data: bytes, source: str, domain: str, units: str) -> Kernel:
    from scipy.io import loadmat

    try:
        mat = loadmat(_io.BytesIO(data))
    except (ValueError, TypeError, OSError, NotImplementedError) as exc:
        raise ValueError(f"{source}: not a readable MATLAB v5 .mat file ({exc})") from None
    if "kernel" not in mat:
        names = sorted(k for k in mat if not k.startswith("__"))
        raise ValueError(f"{source}: the .mat file has no variable 'kernel' (it has: {', '.join(names) or 'none'})")
    arr = np.asarray(mat["kernel"])
    if arr.dtype.kind not in "fiub":
        raise ValueError(f"{source}: variable 'kernel' must be numeric, got {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim == 3:
        arr = np.moveaxis(arr, -1, 0)  # MATLAB (m, n, F) -> (F, m, n)
    arr = check_kernel_values(arr, name=f"kernel in {source}")
    is_levels = bool(np.all(np.isin(arr, list(LEVEL_TO_BN))))
    if units == "levels" or (units == "auto" and is_levels):
        return Kernel(levels_to_thresholds(arr, domain=domain), spec="levels:" + format_values(arr), domain=domain,
                      name=Path(source).stem, levels=arr)
    return Kernel(arr, spec="custom:" + format_values(arr), domain="raw", name=Path(source).stem)


def read_kernel_bytes(data: bytes, *, source: str = "kernel file", domain: str = "bn", units: str = "auto") -> Kernel:
    """Parse kernel file content (JSON, .npy or .mat, decided by content). Used for uploads and files alike.

    Args:
        data: the file's bytes.
        source: a name for messages.
        domain: domain of level-based kernels (``"bn"`` or ``"unit"``).
        units: for .mat and .npy: ``"auto"`` (all entries are DeSign levels -> levels, else raw), ``"levels"``
            or ``"raw"``.
    """
    check_choice("units", units, ("auto", "levels", "raw"))
    kind = _sniff(data)
    if kind == "json":
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{source}: malformed JSON ({exc})") from None
        return _kernel_from_json(doc, source, domain)
    if kind == "npy":
        try:
            arr = np.load(_io.BytesIO(data), allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise ValueError(f"{source}: not a readable .npy array ({exc})") from None
        arr = check_kernel_values(arr, name=f"kernel in {source}")
        if units == "levels":
            return Kernel(levels_to_thresholds(arr, domain=domain), spec="levels:" + format_values(arr),
                          domain=domain, name=Path(source).stem, levels=arr)
        return Kernel(arr, spec="custom:" + format_values(arr), domain="raw", name=Path(source).stem)
    if kind == "mat":
        return _kernel_from_mat(data, source, domain, units)
    raise ValueError(f"{source}: not a kernel file (expected JSON, .npy or MATLAB .mat content)")


def load_kernel(path: str | os.PathLike, *, domain: str = "bn", units: str = "auto") -> Kernel:
    """Load a kernel file (JSON, .npy or the authors' MATLAB .mat); see :func:`read_kernel_bytes`."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"kernel file {p} does not exist")
    return read_kernel_bytes(p.read_bytes(), source=str(p), domain=domain, units=units)


def kernel_bytes(kernel: Kernel, fmt: str) -> bytes:
    """Serialize a kernel as ``"json"``, ``"npy"`` or ``"mat"`` (MATLAB layout (m, n) or (m, n, F))."""
    check_choice("format", fmt, ("json", "npy", "mat"))
    buf = _io.BytesIO()
    if fmt == "json":
        buf.write((json.dumps(kernel_to_json(kernel), indent=2) + "\n").encode())
    elif fmt == "npy":
        np.save(buf, np.asarray(kernel.values), allow_pickle=False)
    else:
        from scipy.io import savemat

        v = kernel.levels if kernel.levels is not None else kernel.values
        v = np.asarray(v, dtype=np.float64)
        savemat(buf, {"kernel": np.moveaxis(v, 0, -1) if v.ndim == 3 else v})
    return buf.getvalue()


def save_kernel(kernel: Kernel, path: str | os.PathLike, *, force: bool = False) -> Path:
    """Save a kernel atomically; the format follows the suffix (.json, .npy, .mat).

    A .mat file holds the levels when the kernel has them (as the authors' files do), else the values.
    """
    if not isinstance(kernel, Kernel):
        raise TypeError(f"kernel must be a dither_lab Kernel, got {type(kernel).__name__}")
    suffix = Path(path).suffix.lower()
    if suffix not in KERNEL_SUFFIXES:
        raise ValueError(f"kernel file must end in {', '.join(KERNEL_SUFFIXES)}, got {str(path)!r}")
    data = kernel_bytes(kernel, suffix[1:])
    return atomic_write(path, lambda fh: fh.write(data), force=force)


@register_generator("file", syntax="file:PATH", whole_arg=True, reads_files=True,
                    summary="a kernel file: dither_lab JSON, .npy, or the DeSign authors' MATLAB .mat")
def _file_kernel(s: ParsedSpec) -> Kernel:
    return load_kernel(s.arg, domain=s.domain)
