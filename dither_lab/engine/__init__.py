"""The packed engine: binary networks run as XOR-popcount on bits, with per-pixel (dithered) thresholds.

:func:`compile_model` turns a trained dither_lab BNN into a :class:`PackedProgram`: binary weights packed 64 to a
word, each binary activation a table of thresholds per channel and kernel cell (folded into integer thresholds
on the popcount where a binary convolution feeds it), and the real-valued parts computed as the float model
computes them, so every binary activation equals the float model's bit for bit and the logits agree to about
1e-7 (the classifier sums in another order; no prediction differs on the full test sets). Programs save to a
safetensors file (:func:`save_program`) and run with NumPy and numba alone (:func:`load_program`).

Only :mod:`dither_lab.engine.compile` imports PyTorch, on first use of :func:`compile_model` or
:func:`float_reference`.

Examples:
    >>> import numpy as np
    >>> from dither_lab.engine import PackedProgram
    >>> PackedProgram.__name__
    'PackedProgram'
"""

from __future__ import annotations

import importlib
from typing import Any

from dither_lab.engine.program import FORMAT, VERSION, PackedConv2d, PackedProgram, load_program, save_program

_LAZY = {name: "dither_lab.engine.compile"
         for name in ("compile_model", "compile_conv", "float_reference", "integer_thresholds")}

__all__ = ["FORMAT", "VERSION", "PackedConv2d", "PackedProgram", "load_program", "save_program", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dither_lab.engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
