"""Kernel libraries: the kernels a user saved in the app (name -> spec), as one versioned JSON file."""

from __future__ import annotations

import json

from dither_lab.io.kernel_files import KERNEL_FORMAT
from dither_lab.kernels import make_kernel

LIBRARY_FORMAT = "dither_lab.library"
LIBRARY_MAX_KERNELS = 500


def library_bytes(library: dict[str, str]) -> bytes:
    """A kernel library (name -> spec, in order) as a versioned JSON file, to keep or share what a session made."""
    doc = {"format": LIBRARY_FORMAT, "version": 1, "kernels": [{"name": n, "spec": s} for n, s in library.items()]}
    return (json.dumps(doc, indent=2) + "\n").encode()


def read_library_bytes(data: bytes, *, source: str = "library file") -> dict[str, str]:
    """Parse a file written by :func:`library_bytes`: name -> spec, every spec checked (``file:`` specs refused).

    Raises:
        ValueError: not a library file, or a kernel in it that does not parse (the message names it).
    """
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError(f"{source}: not a dither_lab kernel library (expected the JSON file the app downloads)") from None
    if not isinstance(doc, dict) or doc.get("format") != LIBRARY_FORMAT:
        hint = " (that is one kernel: load it in the kernel designer)" if isinstance(doc, dict) and doc.get("format") == KERNEL_FORMAT else ""
        raise ValueError(f"{source}: not a dither_lab kernel library{hint}")
    if doc.get("version") != 1:
        raise ValueError(f"{source}: library version {doc.get('version')!r} is not supported (this dither_lab reads 1)")
    kernels = doc.get("kernels")
    if not isinstance(kernels, list) or not 1 <= len(kernels) <= LIBRARY_MAX_KERNELS:
        raise ValueError(f"{source}: 'kernels' must be a list of 1 to {LIBRARY_MAX_KERNELS} entries")
    out: dict[str, str] = {}
    for i, entry in enumerate(kernels):
        if not (isinstance(entry, dict) and isinstance(entry.get("name"), str) and isinstance(entry.get("spec"), str)
                and entry["name"].strip() and len(entry["name"]) <= 100):
            raise ValueError(f"{source}: kernel {i + 1} must have a 'name' (1 to 100 characters) and a 'spec'")
        try:
            make_kernel(entry["spec"], allow_files=False)
        except ValueError as exc:
            raise ValueError(f"{source}: kernel {entry['name']!r}: {exc}") from None
        out[entry["name"].strip()] = entry["spec"]
    return out
