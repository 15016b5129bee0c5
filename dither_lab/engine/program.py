"""Packed programs: the graph of a compiled binary network, its arrays, and the runtime that executes them.

This module needs NumPy, numba and safetensors only (never PyTorch): a program file written by
:func:`save_program` runs anywhere those are installed.

A program is a JSON graph (a list of ops over named values) and a dict of arrays. Values are real-valued maps
(float32, channels last), binary maps (bits packed 64 to a uint64 word along the channels) or vectors. Ops:

* ``threshold``: a binary activation of a real map, ``bit = (x >= theta[i mod m, j mod n, c]) xor flip[c]``
  (the float model's folded batch norm and dithered threshold, ``theta`` one period of its map).
* ``binary_conv``: XOR-popcount convolution of a binary map with packed +-1 weights (zero padding exact: a tap
  outside the input contributes 0), an optional 2x2 max-pool, then either bits against integer thresholds
  (``acc >= k[i mod m, j mod n, o]``, the batch norm and threshold of the next binary activation folded in) or
  real values ``float32(acc) * scale`` (``+ shift``, ``+ residual``, PReLU).
* ``conv``, ``batch_norm`` (with optional ReLU), ``avg_pool``, ``global_mean``, ``flatten``, ``linear``: the
  real-valued parts, rounded as the float model rounds them (:mod:`dither_lab.engine._kernels`).

File format: safetensors (no pickle) holding the arrays, with the graph as JSON in the header metadata under
``dither_lab.packed``; ``format`` is ``"dither_lab.packed_program"`` and ``version`` is 1.
"""

from __future__ import annotations

import json
import os
import threading
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from dither_lab._threads import run_all

FORMAT = "dither_lab.packed_program"
VERSION = 1
_META_KEY = "dither_lab.packed"
MAX_THREADS = 256
STEP_BYTES = 1 << 20  # images per step: as many as keep the largest real-valued map within this
#: summation orders of a real convolution: loops from outer to inner over kernel rows (h), columns (w), channels (c)
CONV_ORDERS = ("hwc", "whc", "chw", "cwh", "hcw", "wch")

def _in_chunks(fn: Any, x: np.ndarray, chunks: list[np.ndarray], *args: Any) -> list[Any]:
    """``fn(x[chunk], *args)`` for each batch chunk, at the same time on the shared worker pool
    (:func:`dither_lab._threads.run_all`; numba's loops release the GIL); the results in chunk order."""
    return run_all([partial(fn, x[c[0] : c[-1] + 1], *args) for c in chunks])


#: op name -> the array fields it may name (each must then exist in the program's arrays)
_ARRAY_FIELDS = {
    "threshold": ("theta", "flip"),
    "binary_conv": ("weights", "thresholds", "flip", "scale", "shift", "prelu"),
    "conv": ("weight", "bn_scale", "bn_shift"),
    "batch_norm": ("scale", "shift"),
    "avg_pool": (),
    "global_mean": (),
    "flatten": (),
    "linear": ("weight", "bias"),
}
#: which arrays count as packed weights and threshold tables in :meth:`PackedProgram.nbytes`
_PACKED_FIELDS = {("binary_conv", "weights")}
_TABLE_FIELDS = {("threshold", "theta"), ("threshold", "flip"), ("binary_conv", "thresholds"), ("binary_conv", "flip")}


def _words(channels: int) -> int:
    return (channels + 63) // 64


def _fail(source: str, what: str) -> ValueError:
    return ValueError(f"{source} is not a valid packed program: {what}")


def _positive(op: dict[str, Any], key: str, source: str, *, low: int = 1, high: int = 1 << 20) -> int:
    v = op.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
        raise _fail(source, f"op {op.get('op')!r} needs an integer {key} in {low}..{high}, got {v!r}")
    return v


class _Layout:
    """The shapes of every value and array a graph implies; raises ValueError on any inconsistency, so the
    compiled loops (which do not check bounds) only ever see arrays of the shapes they index."""

    def __init__(self, graph: Any, arrays: dict[str, np.ndarray], source: str) -> None:
        if not isinstance(graph, dict):
            raise _fail(source, "the graph is not a JSON object")
        if graph.get("format") != FORMAT:
            raise _fail(source, f"format is {graph.get('format')!r}, expected {FORMAT!r}")
        if graph.get("version") != VERSION:
            raise ValueError(f"{source}: packed program version {graph.get('version')!r} is not supported "
                             f"(this dither_lab reads version {VERSION})")
        inp = graph.get("input")
        if not isinstance(inp, list) or len(inp) != 3 or not all(type(v) is int and 1 <= v <= 4096 for v in inp):
            raise _fail(source, f"input must be [C, H, W], got {inp!r}")
        ops = graph.get("ops")
        if not isinstance(ops, list) or not ops:
            raise _fail(source, "no ops")
        self.values: dict[str, tuple[str, int, int, int]] = {"input": ("real", *inp)}
        used: set[str] = set()
        self.layers: list[str] = []
        for k, op in enumerate(ops):
            if not isinstance(op, dict) or op.get("op") not in _ARRAY_FIELDS:
                raise _fail(source, f"op {k} is not one of {', '.join(_ARRAY_FIELDS)}")
            for field in _ARRAY_FIELDS[op["op"]]:
                name = op.get(field)
                if name is None:
                    continue
                if not isinstance(name, str) or name not in arrays:
                    raise _fail(source, f"op {k} ({op['op']}) names array {name!r}, which the file does not hold")
                used.add(name)
            src = op.get("in")
            if src not in self.values:
                raise _fail(source, f"op {k} ({op['op']}) reads {src!r}, which no earlier op writes")
            out = op.get("out")
            if not isinstance(out, str) or out in self.values:
                raise _fail(source, f"op {k} ({op['op']}) must write a new value, got {out!r}")
            layer = op.get("layer")
            if layer is not None:
                if not isinstance(layer, str) or layer in self.layers:
                    raise _fail(source, f"op {k}: layer name {layer!r} is not a new string")
                self.layers.append(layer)
            self.values[out] = getattr(self, "_" + op["op"])(op, self.values[src], arrays, source)
        output = graph.get("output")
        if output not in self.values or self.values[output][0] != "vector":
            raise _fail(source, f"output {output!r} is not a vector the graph computes")
        self.output = output
        self.classes = self.values[output][1]
        extra = sorted(set(arrays) - used)
        if extra:
            raise _fail(source, f"arrays no op uses: {', '.join(extra[:3])}")

    @staticmethod
    def _array(arrays: dict[str, np.ndarray], name: str, shape: tuple[int, ...], dtypes: tuple[str, ...],
               source: str) -> None:
        a = arrays[name]
        if a.dtype.name not in dtypes or tuple(a.shape) != tuple(shape):
            raise _fail(source, f"array {name!r} must be {' or '.join(dtypes)} of shape {tuple(shape)}, "
                                f"got {a.dtype.name} {tuple(a.shape)}")

    @staticmethod
    def _kind(value: tuple[str, int, int, int], kind: str, op: dict[str, Any], source: str) -> None:
        if value[0] != kind:
            raise _fail(source, f"op {op['op']} needs a {kind} input, got a {value[0]} value")

    def _threshold(self, op, value, arrays, source):
        self._kind(value, "real", op, source)
        _, c, h, w = value
        theta = arrays[op["theta"]]
        if theta.ndim != 3 or not (1 <= theta.shape[0] <= h and 1 <= theta.shape[1] <= w):
            raise _fail(source, f"threshold table {op['theta']!r} must be (m, n, {c}) with m <= {h}, n <= {w}")
        self._array(arrays, op["theta"], (theta.shape[0], theta.shape[1], c), ("float32",), source)
        self._array(arrays, op["flip"], (c,), ("uint8",), source)
        return ("bits", c, h, w)

    def _binary_conv(self, op, value, arrays, source):
        self._kind(value, "bits", op, source)
        _, c, h, w = value
        o = _positive(op, "channels_out", source)
        kernel = op.get("kernel")
        if not (isinstance(kernel, list) and len(kernel) == 2 and all(isinstance(v, int) and 1 <= v <= 15 for v in kernel)):
            raise _fail(source, f"binary_conv kernel must be [kh, kw] in 1..15, got {kernel!r}")
        kh, kw = kernel
        stride = _positive(op, "stride", source, high=8)
        pad = _positive(op, "pad", source, low=0, high=7)
        pool = _positive(op, "pool", source, high=2)
        ho, wo = (h + 2 * pad - kh) // stride + 1, (w + 2 * pad - kw) // stride + 1
        if ho < pool or wo < pool or h + 2 * pad < kh or w + 2 * pad < kw:
            raise _fail(source, f"binary_conv {kh}x{kw} does not fit a {h}x{w} input")
        oh, ow = ho // pool, wo // pool
        self._array(arrays, op["weights"], (o, _words(kh * kw * c)), ("uint64",), source)
        mode = op.get("mode")
        if mode == "bits":
            t = arrays.get(op.get("thresholds"))
            if t is None or op.get("flip") is None or t.ndim != 3 or not (1 <= t.shape[0] <= oh and 1 <= t.shape[1] <= ow):
                raise _fail(source, f"binary_conv writing bits needs thresholds (m, n, {o}) and flip ({o},)")
            self._array(arrays, op["thresholds"], (t.shape[0], t.shape[1], o), ("int16", "int32"), source)
            self._array(arrays, op["flip"], (o,), ("uint8",), source)
            if any(op.get(f) is not None for f in ("scale", "shift", "prelu", "residual")):
                raise _fail(source, "binary_conv writing bits takes no scale, shift, residual or prelu")
            return ("bits", o, oh, ow)
        if mode != "real":
            raise _fail(source, f"binary_conv mode must be 'bits' or 'real', got {mode!r}")
        if op.get("scale") is None or op.get("thresholds") is not None or op.get("flip") is not None:
            raise _fail(source, "binary_conv writing real values needs a scale and no thresholds")
        for field in ("scale", "shift", "prelu"):
            if op.get(field) is not None:
                self._array(arrays, op[field], (o,), ("float32",), source)
        res = op.get("residual")
        if res is not None:
            if self.values.get(res) != ("real", o, oh, ow):
                raise _fail(source, f"residual {res!r} must be a real ({o}, {oh}, {ow}) value")
        if pool != 1 and any(op.get(f) is not None for f in ("shift", "prelu", "residual")):
            raise _fail(source, "a pooled binary_conv takes a scale only")
        return ("real", o, oh, ow)

    def _conv(self, op, value, arrays, source):
        self._kind(value, "real", op, source)
        _, c, h, w = value
        wt = arrays[op["weight"]]
        if wt.ndim != 4 or wt.shape[2] != c or not (1 <= wt.shape[0] <= 15 and 1 <= wt.shape[1] <= 15):
            raise _fail(source, f"conv weight {op['weight']!r} must be (kh, kw, {c}, O)")
        self._array(arrays, op["weight"], wt.shape, ("float32",), source)
        stride = _positive(op, "stride", source, high=8)
        pad = _positive(op, "pad", source, low=0, high=7)
        if op.get("order") not in CONV_ORDERS or not isinstance(op.get("fused"), bool):
            raise _fail(source, f"conv needs an order (one of {', '.join(CONV_ORDERS)}) and fused true or false")
        if (op.get("bn_scale") is None) != (op.get("bn_shift") is None):
            raise _fail(source, "conv takes both bn_scale and bn_shift, or neither")
        for field in ("bn_scale", "bn_shift"):
            if op.get(field) is not None:
                self._array(arrays, op[field], (wt.shape[3],), ("float32",), source)
        ho, wo = (h + 2 * pad - wt.shape[0]) // stride + 1, (w + 2 * pad - wt.shape[1]) // stride + 1
        if ho < 1 or wo < 1:
            raise _fail(source, f"conv {wt.shape[0]}x{wt.shape[1]} does not fit a {h}x{w} input")
        return ("real", wt.shape[3], ho, wo)

    def _batch_norm(self, op, value, arrays, source):
        self._kind(value, "real", op, source)
        for field in ("scale", "shift"):
            self._array(arrays, op[field], (value[1],), ("float32",), source)
        if not isinstance(op.get("relu"), bool):
            raise _fail(source, "batch_norm needs relu true or false")
        return value

    def _avg_pool(self, op, value, arrays, source):
        self._kind(value, "real", op, source)
        k = _positive(op, "size", source, high=16)
        if value[2] < k or value[3] < k:
            raise _fail(source, f"avg_pool {k} does not fit a {value[2]}x{value[3]} map")
        return ("real", value[1], value[2] // k, value[3] // k)

    def _global_mean(self, op, value, arrays, source):
        self._kind(value, "real", op, source)
        return ("vector", value[1], 1, 1)

    def _flatten(self, op, value, arrays, source):
        self._kind(value, "real", op, source)
        return ("vector", value[1] * value[2] * value[3], 1, 1)

    def _linear(self, op, value, arrays, source):
        self._kind(value, "vector", op, source)
        wt = arrays[op["weight"]]
        if wt.ndim != 2 or wt.shape[1] != value[1]:
            raise _fail(source, f"linear weight {op['weight']!r} must be (O, {value[1]})")
        self._array(arrays, op["weight"], wt.shape, ("float32",), source)
        self._array(arrays, op["bias"], (wt.shape[0],), ("float32",), source)
        return ("vector", wt.shape[0], 1, 1)


class PackedProgram:
    """A compiled binary network: packed weights, threshold tables and the graph, run with NumPy and numba.

    Build one with :func:`dither_lab.engine.compile_model` or read one with :func:`load_program`.

    Args:
        graph: the JSON graph (see the module docstring).
        arrays: the arrays the graph names.
        threads: how many threads :meth:`predict` uses unless told (each runs a chunk of the batch).
        source: how errors name the program (a file name, say).

    Raises:
        ValueError: a graph or arrays that do not fit together (the message says what).
    """

    def __init__(self, graph: dict[str, Any], arrays: dict[str, np.ndarray], *, threads: int = 1,
                 source: str = "program") -> None:
        try:
            graph = json.loads(json.dumps(graph))  # a copy of plain JSON, as a file would hold it
        except (TypeError, ValueError) as exc:
            raise _fail(source, f"the graph is not plain JSON ({exc})") from None
        layout = _Layout(graph, arrays, source)
        self.graph = graph
        self.arrays = {k: np.array(v, order="C", copy=True) for k, v in arrays.items()}  # the caller's stay theirs
        for a in self.arrays.values():
            a.setflags(write=False)  # shared by every thread that runs the program
        self._layout = layout
        self.threads = threads
        self._prepared: dict[int, dict[str, Any]] = {}
        self._prepare_lock = threading.Lock()

    # ------------------------------------------------------------------------------------------ properties

    @property
    def threads(self) -> int:
        """Threads :meth:`predict` and :meth:`binary_activations` use by default (1..256)."""
        return self._threads

    @threads.setter
    def threads(self, value: int) -> None:
        self._threads = _check_threads(value)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one input image."""
        return tuple(self.graph["input"])

    @property
    def layers(self) -> list[str]:
        """The binary activation layers, in forward order (named as in the float model)."""
        return list(self._layout.layers)

    @property
    def classes(self) -> int:
        """Length of the output vector (the classifier's classes)."""
        return self._layout.classes

    @property
    def metadata(self) -> dict[str, Any]:
        """What the compiler recorded: architecture, kernels per layer, dither_lab version."""
        return dict(self.graph.get("meta", {}))

    def standardize(self, images: Any) -> np.ndarray:
        """uint8 images (N, C, H, W) on 0..255 to the program's input: float32 standardized per channel with the
        mean and standard deviation its file records (``metadata["normalization"]``, written by
        ``dither-lab export``), as the float model's training standardized them.

        Raises:
            ValueError: the program records no normalization, or the images are not (N, C, H, W) of its input.
        """
        norm = self.metadata.get("normalization")
        if not isinstance(norm, dict) or "mean" not in norm or "std" not in norm:
            raise ValueError("this program records no input normalization: standardize the images yourself, as the "
                             "model's training did")
        x = np.asarray(images)
        if x.ndim != 4 or tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"images must be (N, {', '.join(map(str, self.input_shape))}), got shape {x.shape}")
        mean = np.asarray(norm["mean"], dtype=np.float32).reshape(1, -1, 1, 1)
        std = np.asarray(norm["std"], dtype=np.float32).reshape(1, -1, 1, 1)
        return (x.astype(np.float32) - mean) / std

    def __repr__(self) -> str:
        c, h, w = self.input_shape
        return (f"PackedProgram({self.metadata.get('arch', '?')}, input {c}x{h}x{w}, {len(self.layers)} binary "
                f"layers, {self.nbytes()['total']:,} bytes)")

    def nbytes(self) -> dict[str, int]:
        """Bytes the program stores: ``packed_weights`` (binary convolutions, 1 bit per weight),
        ``threshold_tables`` (folded thresholds, one period of each tiled map, and their flip flags),
        ``float_parts`` (real convolutions, batch norms, scales, PReLU, classifier) and ``total``."""
        packed = tables = 0
        for op in self.graph["ops"]:
            for field in _ARRAY_FIELDS[op["op"]]:
                name = op.get(field)
                if name is None:
                    continue
                if (op["op"], field) in _PACKED_FIELDS:
                    packed += self.arrays[name].nbytes
                elif (op["op"], field) in _TABLE_FIELDS:
                    tables += self.arrays[name].nbytes
        total = sum(a.nbytes for a in self.arrays.values())
        return {"packed_weights": packed, "threshold_tables": tables, "float_parts": total - packed - tables,
                "total": total}

    # ----------------------------------------------------------------------------------------------- running

    def predict(self, images: Any, *, threads: int | None = None, batch_size: int = 256) -> np.ndarray:
        """Logits for normalized images (the float model's input).

        Args:
            images: float32 (N, C, H, W) or (C, H, W), normalized as the model was trained.
            threads: threads to use (default :attr:`threads`); each runs a share of every batch.
            batch_size: images per step (bounds memory).

        Returns:
            float32 (N, classes).

        Raises:
            ValueError: images of the wrong shape, or a bad thread or batch count.
        """
        x = self._check_images(images)
        threads = self._threads if threads is None else _check_threads(threads)
        out = np.empty((x.shape[0], self.classes), dtype=np.float32)
        for i in range(0, x.shape[0], _check_batch(batch_size)):
            out[i : i + batch_size] = self._run_threads(x[i : i + batch_size], threads, record=False)[0]
        return out

    def binary_activations(self, images: Any, *, layers: Any = None, threads: int | None = None) -> dict[str, np.ndarray]:
        """Every binary activation (or those of ``layers``), unpacked: bool (N, C, H, W), True for +1.

        Raises:
            ValueError: bad images, or a layer name the program does not have.
        """
        x = self._check_images(images)
        names = self.layers if layers is None else list(layers)
        unknown = [n for n in names if n not in self.layers]
        if unknown:
            raise ValueError(f"unknown layer {unknown[0]!r}; binary layers are: {', '.join(self.layers)}")
        threads = self._threads if threads is None else _check_threads(threads)
        _, bits = self._run_threads(x, threads, record=True)
        out = {}
        for name in names:
            c = self._channels_of(name)
            b = bits[name]
            u = np.unpackbits(b.view(np.uint8), axis=-1, bitorder="little")[..., :c]
            out[name] = np.ascontiguousarray(u.astype(bool).transpose(0, 3, 1, 2))
        return out

    def _channels_of(self, layer: str) -> int:
        for op in self.graph["ops"]:
            if op.get("layer") == layer:
                return self._layout.values[op["out"]][1]
        raise KeyError(layer)

    def _check_images(self, images: Any) -> np.ndarray:
        if not isinstance(images, np.ndarray):
            raise TypeError(f"images must be a numpy array, got {type(images).__name__}")
        x = images[None] if images.ndim == 3 else images
        if x.ndim != 4 or tuple(x.shape[1:]) != self.input_shape or x.shape[0] < 1:
            c, h, w = self.input_shape
            raise ValueError(f"images must be (N, {c}, {h}, {w}) or ({c}, {h}, {w}), got shape {images.shape}")
        if x.dtype.kind != "f":
            raise ValueError(f"images must be float (normalized as the model's input), got dtype {x.dtype}")
        return x

    def _run_threads(self, x: np.ndarray, threads: int, *, record: bool) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        prep = self._prep()
        chunks = [c for c in np.array_split(np.arange(x.shape[0]), min(threads, x.shape[0])) if c.size]
        if len(chunks) == 1:
            return _execute(self.graph, prep, x, record)
        parts = _in_chunks(lambda part: _execute(self.graph, prep, part, record), x, chunks)
        logits = np.concatenate([p[0] for p in parts])
        bits = {k: np.concatenate([p[1][k] for p in parts]) for k in parts[0][1]}
        return logits, bits

    def _prep(self) -> dict[str, Any]:
        """Derived arrays the loops use (weight panels, per-tap bit counts); built once, shared read-only."""
        with self._prepare_lock:
            if not self._prepared:
                self._prepared[0] = _prepare(self.graph, self.arrays, self._layout)
            return self._prepared[0]


class PackedConv2d:
    """One packed binary convolution, on bits in and out: what a program runs inside, exposed for tests and
    benchmarks. Build it with :func:`dither_lab.engine.compile_conv`.

    Its input is a binary map of ``channels`` x ``height`` x ``width`` packed by :meth:`pack`; its output is bits
    (with a folded binary activation, unpacked by :meth:`unpack`) or float32 (N, Ho, Wo, O), channels last.
    """

    def __init__(self, op: dict[str, Any], arrays: dict[str, np.ndarray], shape: tuple[int, int, int]) -> None:
        graph = {"format": FORMAT, "version": VERSION, "input": list(shape), "output": "out",
                 "ops": [{"op": "threshold", "in": "input", "out": "bits", "theta": "sign.theta", "flip": "sign.flip"},
                         {**op, "in": "bits", "out": "conv"}, {"op": "flatten", "in": "conv", "out": "out"}]}
        full = {**arrays, "sign.theta": np.zeros((1, 1, shape[0]), np.float32),
                "sign.flip": np.zeros(shape[0], np.uint8)}
        if op.get("mode") == "bits":  # bits cannot be flattened into the vector a graph ends in: check it alone
            graph["ops"][2] = {"op": "flatten", "in": "input", "out": "out"}
        layout = _Layout(graph, full, "packed convolution")
        self.op = graph["ops"][1]
        self.arrays = full
        self.input_shape = tuple(shape)
        self.output_shape = layout.values["conv"][1:]
        self._prep = _prepare({"ops": [self.op]}, full, layout)[0]

    def pack(self, x: np.ndarray) -> np.ndarray:
        """+-1 (or any real) input (N, C, H, W) -> bits (N, H, W, words): bit set where x >= 0."""
        from dither_lab.engine import _kernels as K

        x = np.asarray(x)
        if x.ndim != 4 or tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"x must be (N, {', '.join(map(str, self.input_shape))}), got shape {x.shape}")
        xl = np.ascontiguousarray(x.transpose(0, 2, 3, 1), dtype=np.float32)
        out = np.empty(xl.shape[:3] + (_words(self.input_shape[0]),), dtype=np.uint64)
        K.threshold_bits(xl, self.arrays["sign.theta"], _pack_flags(self.arrays["sign.flip"]), out)
        return out

    def __call__(self, bits: np.ndarray, *, threads: int = 1) -> np.ndarray:
        """Run the convolution on packed bits (from :meth:`pack` or a previous layer), ``threads`` batch chunks."""
        c, h, w = self.input_shape
        if not (isinstance(bits, np.ndarray) and bits.dtype == np.uint64 and bits.ndim == 4
                and bits.shape[1:] == (h, w, _words(c)) and bits.shape[0] >= 1):
            raise ValueError(f"bits must be uint64 (N, {h}, {w}, {_words(c)}), got "
                             f"{getattr(bits, 'dtype', type(bits).__name__)} {getattr(bits, 'shape', '')}")
        threads = _check_threads(threads)
        chunks = [k for k in np.array_split(np.arange(bits.shape[0]), min(threads, bits.shape[0])) if k.size]
        if len(chunks) == 1:
            return self._run(bits)
        return np.concatenate(_in_chunks(self._run, bits, chunks))

    def _run(self, bits: np.ndarray) -> np.ndarray:
        return _run_binary_conv(self.op, self._prep, self.arrays, bits, {})

    def unpack(self, bits: np.ndarray) -> np.ndarray:
        """Output bits (N, Ho, Wo, words) -> bool (N, O, Ho, Wo), True for +1."""
        o = self.output_shape[0]
        u = np.unpackbits(np.ascontiguousarray(bits).view(np.uint8), axis=-1, bitorder="little")[..., :o]
        return np.ascontiguousarray(u.astype(bool).transpose(0, 3, 1, 2))


def _check_threads(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= int(value) <= MAX_THREADS:
        raise ValueError(f"threads must be an integer in 1..{MAX_THREADS}, got {value!r}")
    return int(value)


def _check_batch(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {value!r}")
    return int(value)


# ------------------------------------------------------------------------------------------------- runtime

_EMPTY_F32 = np.zeros(0, dtype=np.float32)
_EMPTY_RES = np.zeros((0, 1, 1, 1), dtype=np.float32)
_EMPTY_BITS = np.zeros((0, 1, 1, 1), dtype=np.uint64)
_EMPTY_REAL = np.zeros((0, 1, 1, 1), dtype=np.float32)
_EMPTY_K = np.zeros((1, 1, 0), dtype=np.int32)


def _prepare(graph: dict[str, Any], arrays: dict[str, np.ndarray], layout: _Layout) -> dict[Any, Any]:
    from dither_lab.engine._kernels import LANES

    largest = max(4 * c * h * w for kind, c, h, w in layout.values.values() if kind == "real")
    arrays = {name: _aligned(a) for name, a in arrays.items()}
    prep: dict[Any, Any] = {"arrays": arrays, "step": max(1, STEP_BYTES // largest)}
    for k, op in enumerate(graph["ops"]):
        if op["op"] == "threshold":
            prep[k] = {"flipw": _pack_flags(arrays[op["flip"]])}
        if op["op"] == "conv":
            kh, kw, c, _ = arrays[op["weight"]].shape
            prep[k] = {"taps": conv_taps(op["order"], kh, kw, c)}
        if op["op"] != "binary_conv":
            continue
        w = arrays[op["weights"]]
        o, q = w.shape
        kh, kw = op["kernel"]
        c = layout.values[op["in"]][1]
        panels = (o + LANES - 1) // LANES
        wp = np.zeros((panels * LANES, q), dtype=np.uint64)
        wp[:o] = w
        wp = _aligned(wp.reshape(panels, LANES, q).transpose(0, 2, 1))
        prep[k] = {"wp": wp, "popw": _tap_counts(w, kh * kw, c), "channels_in": c,
                   "flipw": _pack_flags(arrays[op["flip"]]) if op.get("flip") else _EMPTY_BITS.reshape(-1)}
    return prep


def _aligned(a: np.ndarray, align: int = 64) -> np.ndarray:
    """A C-contiguous copy of ``a`` whose data starts on an ``align``-byte boundary (a cache line): the loops read
    weights 64 bytes at a time, and a load that straddles two lines costs more. Without this, where an array
    happened to start (0, 16, 32 or 48 bytes into a line) moved a whole network's time by up to 10% from one
    compiled program to the next."""
    a = np.asarray(a)
    buf = np.empty(a.nbytes + align, dtype=np.uint8)
    start = (-buf.ctypes.data) % align
    out = buf[start : start + a.nbytes].view(a.dtype).reshape(a.shape)
    out[...] = a
    return out


def _pack_flags(flags: np.ndarray) -> np.ndarray:
    """(C,) 0/1 flags -> (ceil(C / 64),) uint64, bit c % 64 of word c // 64."""
    words = _words(flags.shape[0])
    out = np.zeros(words * 8, dtype=np.uint8)
    packed = np.packbits(flags.astype(bool), bitorder="little")
    out[: packed.size] = packed
    return out.view("<u8").astype(np.uint64)


def conv_taps(order: str, kh: int, kw: int, c: int) -> np.ndarray:
    """(kh*kw*c, 3) int64 (row, column, channel) in the summation order ``order`` (one of ``CONV_ORDERS``)."""
    sizes = {"h": kh, "w": kw, "c": c}
    grids = np.meshgrid(*(np.arange(sizes[a]) for a in order), indexing="ij")
    cols = {a: g.reshape(-1) for a, g in zip(order, grids, strict=True)}
    return np.ascontiguousarray(np.stack([cols["h"], cols["w"], cols["c"]], axis=1).astype(np.int64))


def _tap_counts(w: np.ndarray, taps: int, channels: int) -> np.ndarray:
    """(taps, O) int64: the set bits of each output channel's weights within each tap."""
    bits = np.unpackbits(w.view(np.uint8).reshape(w.shape[0], -1), axis=1, bitorder="little")
    bits = bits[:, : taps * channels].reshape(w.shape[0], taps, channels)
    return np.ascontiguousarray(bits.sum(axis=2, dtype=np.int64).T)


def _execute(graph: dict[str, Any], prep: dict[str, Any], images: np.ndarray,
             record: bool) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Run the graph on one chunk of images in the calling thread, a few images at a time (so that each map
    stays in cache and its buffer is reused); returns (output, recorded bits)."""
    step = prep["step"]
    if images.shape[0] <= step:
        return _execute_step(graph, prep, images, record)
    parts = [_execute_step(graph, prep, images[i : i + step], record) for i in range(0, images.shape[0], step)]
    return np.concatenate([p[0] for p in parts]), {k: np.concatenate([p[1][k] for p in parts]) for k in parts[0][1]}


def _execute_step(graph: dict[str, Any], prep: dict[str, Any], images: np.ndarray,
                  record: bool) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    from dither_lab.engine import _kernels as K

    arrays = prep["arrays"]
    n = images.shape[0]
    env: dict[str, np.ndarray] = {"input": np.ascontiguousarray(images.transpose(0, 2, 3, 1), dtype=np.float32)}
    bits: dict[str, np.ndarray] = {}
    uses = _last_use(graph)
    for k, op in enumerate(graph["ops"]):
        kind = op["op"]
        x = env[op["in"]]
        if kind == "threshold":
            c = x.shape[3]
            out = np.empty((n, x.shape[1], x.shape[2], _words(c)), dtype=np.uint64)
            K.threshold_bits(x, arrays[op["theta"]], prep[k]["flipw"], out)
        elif kind == "binary_conv":
            out = _run_binary_conv(op, prep[k], arrays, x, env)
        elif kind == "conv":
            wt = arrays[op["weight"]]
            stride, pad = op["stride"], op["pad"]
            ho = (x.shape[1] + 2 * pad - wt.shape[0]) // stride + 1
            wo = (x.shape[2] + 2 * pad - wt.shape[1]) // stride + 1
            out = np.empty((n, ho, wo, wt.shape[3]), dtype=np.float32)
            bn = (arrays[op["bn_scale"]], arrays[op["bn_shift"]]) if op.get("bn_scale") else (_EMPTY_F32, _EMPTY_F32)
            K.real_conv(x, wt, stride, pad, prep[k]["taps"], op["fused"], *bn, out)
        elif kind == "batch_norm":
            out = np.empty_like(x)
            K.batch_norm(x, arrays[op["scale"]], arrays[op["shift"]], op["relu"], out)
        elif kind == "avg_pool":
            s = op["size"]
            out = np.empty((n, x.shape[1] // s, x.shape[2] // s, x.shape[3]), dtype=np.float32)
            K.avg_pool(x, s, out)
        elif kind == "global_mean":
            out = np.empty((n, x.shape[3]), dtype=np.float32)
            K.global_mean(x, out)
        elif kind == "flatten":
            out = x.reshape(n, -1)
        else:  # linear
            wt = arrays[op["weight"]]
            out = np.empty((n, wt.shape[0]), dtype=np.float32)
            K.linear(np.ascontiguousarray(x), wt, arrays[op["bias"]], out)
        env[op["out"]] = out
        if record and op.get("layer") is not None:
            bits[op["layer"]] = out
        for name in uses.get(k, ()):
            if name != graph["output"]:
                env.pop(name, None)
    return env[graph["output"]], bits


def _run_binary_conv(op: dict[str, Any], p: dict[str, Any], arrays: dict[str, np.ndarray], x: np.ndarray,
                     env: dict[str, np.ndarray]) -> np.ndarray:
    from dither_lab.engine import _kernels as K

    n = x.shape[0]
    kh, kw = op["kernel"]
    stride, pad, pool = op["stride"], op["pad"], op["pool"]
    o = op["channels_out"]
    ho = ((x.shape[1] + 2 * pad - kh) // stride + 1) // pool
    wo = ((x.shape[2] + 2 * pad - kw) // stride + 1) // pool
    if op["mode"] == "bits":
        out = np.empty((n, ho, wo, _words(o)), dtype=np.uint64)
        K.binary_conv(x, p["channels_in"], kh, kw, stride, pad, pool, p["wp"], p["popw"], 0,
                      arrays[op["thresholds"]], p["flipw"], _EMPTY_F32, _EMPTY_F32, _EMPTY_RES,
                      _EMPTY_F32, out, _EMPTY_REAL)
        return out
    out = np.empty((n, ho, wo, o), dtype=np.float32)
    K.binary_conv(x, p["channels_in"], kh, kw, stride, pad, pool, p["wp"], p["popw"], 1, _EMPTY_K,
                  p["flipw"], arrays[op["scale"]], arrays[op["shift"]] if op.get("shift") else _EMPTY_F32,
                  env[op["residual"]] if op.get("residual") else _EMPTY_RES,
                  arrays[op["prelu"]] if op.get("prelu") else _EMPTY_F32, _EMPTY_BITS, out)
    return out


def _last_use(graph: dict[str, Any]) -> dict[int, list[str]]:
    """op index -> values no later op reads (freed after it)."""
    last: dict[str, int] = {}
    for k, op in enumerate(graph["ops"]):
        for name in (op["in"], op.get("residual")):
            if name is not None:
                last[name] = k
    out: dict[int, list[str]] = {}
    for name, k in last.items():
        out.setdefault(k, []).append(name)
    return out


# ---------------------------------------------------------------------------------------------------- files


def save_program(program: PackedProgram, path: str | os.PathLike, *, force: bool = False) -> Path:
    """Write a program as safetensors (arrays) with its JSON graph in the header; atomic.

    Raises:
        FileExistsError: ``path`` exists and ``force`` is False.
    """
    from safetensors.numpy import save

    from dither_lab.io import atomic_write

    if not isinstance(program, PackedProgram):
        raise TypeError(f"program must be a PackedProgram, got {type(program).__name__}")
    data = save(dict(program.arrays), metadata={_META_KEY: json.dumps(program.graph)})
    return atomic_write(path, lambda fh: fh.write(data), force=force)


def load_program(path: str | os.PathLike, *, threads: int = 1) -> PackedProgram:
    """Read a program written by :func:`save_program`.

    Raises:
        ValueError: a missing file, or one that is not a packed program of a version this dither_lab reads (a
            foreign safetensors file, a damaged one, any other file); the message names the file.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load

    p = Path(path)
    if not p.is_file():
        raise ValueError(f"packed program {p} does not exist")
    data = p.read_bytes()
    source = f"file {p}"
    if len(data) < 8:
        raise _fail(source, "too short for a safetensors file")
    header_len = int.from_bytes(data[:8], "little")
    if not 2 <= header_len <= min(len(data) - 8, 100_000_000):
        raise _fail(source, "it is not a safetensors file")
    try:
        header = json.loads(data[8 : 8 + header_len])
        meta = header.get("__metadata__") if isinstance(header, dict) else None
        text = meta.get(_META_KEY) if isinstance(meta, dict) else None
        if not isinstance(text, str):
            raise _fail(source, "it holds no packed-program graph (another kind of safetensors file?)")
        graph = json.loads(text)
        arrays = load(data)
    except (SafetensorError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise _fail(source, f"it could not be read ({type(exc).__name__}: {exc})") from None
    return PackedProgram(graph, arrays, threads=threads, source=source)
