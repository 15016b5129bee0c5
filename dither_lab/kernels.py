"""Threshold kernels: generators, the paper's presets, rank-to-threshold mappings, the spec grammar, tiling.

A threshold kernel is a small array tiled periodically over an image or a feature map: shape (m, n), or
(F, m, n) for the 3-D variant whose slice ``c mod F`` applies to channel ``c`` (DeSign3D).

Two domains of threshold values exist, because the same kernel is used in two places:

* ``"bn"``: batch-norm units, for activations ``sign(y - T)`` where ``y`` is roughly standard normal.
* ``"unit"``: image units, for ordered dithering ``image >= T`` of images in [0, 1].

Generators produce one of three raw forms, each mapped to a domain in one documented way:

* ranks ``r`` in ``0..N-1`` (Bayer, blue noise, cluster-dot) and uniform quantiles ``u`` (``random``, ``sign``):
  ``u = (r + 0.5) / N``; unit domain ``T = 0.5 + strength * (u - 0.5)``; bn domain ``T = strength * Phi^-1(u)``
  (Gaussian quantiles, so over a standard-normal input the tiled map keeps the mean density of +1s at 1/2).
* levels of the DeSign paper in {0, 1, 3, 5, 7, 9} (presets, ``levels:``): bn domain uses the authors' table
  ``0->0.3118, 1->0.6310, 3->0.9671, 5->1.3352, 7->1.7656, 9->2.3419`` times ``strength``; unit domain maps that
  value ``t`` to ``Phi(strength * t)``, the quantile it cuts from a standard normal.
* raw values (``constant:``, ``custom:``, ``file:``, arrays): used as they are in either domain.

Spec grammar (shared by the CLI, the app and URLs)::

    sign | bayer:N | blue-noise:N[:seed=S][:sigma=X] | cluster-dot:N | random:MxN[:seed=S] | random:FxMxN
    constant:V | preset:NAME | levels:1,1;0,3 | custom:0.1,-0.2;0.3,0 | file:PATH
    (rows separated by ';', 3-D slices by '|'; ranked, random, preset and levels kernels take :strength=X)

References:
    Bayer, "An optimum method for two-level rendition of continuous-tone pictures", ICC 1973.
    Ulichney, "The void-and-cluster method for dither array generation", SPIE 1913, 1993.
    Monroy et al., "Designed Dithering Sign Activation for Binary Neural Networks", arXiv:2405.02220.
"""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import ndtr, ndtri

from dither_lab._checks import (
    MAX_GENERATED_SIDE,
    MAX_KERNEL_SIDE,
    check_choice,
    check_kernel_values,
    check_positive_int,
)

DOMAINS = ("bn", "unit", "raw")

#: The level set of the DeSign search: values a ReLU'd 3x3 binary convolution of a binary image can take.
LEVELS = (0, 1, 3, 5, 7, 9)
#: The authors' mapping of levels to batch-norm units (from their released code).
LEVEL_TO_BN = {0: 0.3118, 1: 0.6310, 3: 0.9671, 5: 1.3352, 7: 1.7656, 9: 2.3419}

#: The kernels the DeSign authors released, in levels.
PRESETS: dict[str, np.ndarray] = {
    "design-2x2-a": np.array([[1, 1], [0, 3]]),
    "design-2x2-b": np.array([[1, 1], [3, 3]]),
    "design-2x2-c": np.array([[1, 3], [1, 3]]),
    "design-3x3-a": np.array([[3, 1, 3], [1, 0, 1], [3, 1, 3]]),
    "design-3x3-b": np.array([[5, 1, 3], [1, 0, 1], [3, 1, 5]]),
    "design-3x3-c": np.array([[3, 0, 3], [0, 1, 0], [3, 0, 3]]),
    "design3d-2x2x4": np.array([[[1, 1], [0, 3]], [[3, 3], [1, 5]], [[5, 5], [3, 7]], [[7, 7], [5, 9]]]),
}
PRESET_HELP = {
    "design-2x2-a": "DeSign 2x2 [[1,1],[0,3]], the authors' default",
    "design-2x2-b": "DeSign 2x2 [[1,1],[3,3]]",
    "design-2x2-c": "DeSign 2x2 [[1,3],[1,3]]",
    "design-3x3-a": "DeSign 3x3 symmetric [[3,1,3],[1,0,1],[3,1,3]]",
    "design-3x3-b": "DeSign 3x3 [[5,1,3],[1,0,1],[3,1,5]]",
    "design-3x3-c": "DeSign 3x3 [[3,0,3],[0,1,0],[3,0,3]]",
    "design3d-2x2x4": "DeSign3D 2x2x4, each channel slice one level up",
}

GENERATORS = (
    "sign", "bayer", "blue-noise", "cluster-dot", "random", "constant", "preset", "levels", "custom", "file",
)


# --------------------------------------------------------------------------------------------- rank generators


@functools.lru_cache(maxsize=16)
def _bayer_cached(n: int) -> np.ndarray:
    b = np.zeros((1, 1), dtype=np.int64)
    while b.shape[0] < n:
        b = np.block([[4 * b, 4 * b + 2], [4 * b + 3, 4 * b + 1]])
    b.setflags(write=False)
    return b


def bayer(n: int) -> np.ndarray:
    """Bayer's recursive index matrix: ranks 0..n*n-1 of an n x n ordered-dither cell.

    ``B_1 = [[0]]`` and ``B_2k = [[4B, 4B+2], [4B+3, 4B+1]]``.

    Args:
        n: side, a power of two from 1 to 256.

    Returns:
        int64 array (n, n), a permutation of ``range(n * n)``.

    Examples:
        >>> bayer(2).tolist()
        [[0, 2], [3, 1]]
    """
    n = check_positive_int("bayer size", n, high=MAX_KERNEL_SIDE)
    if n & (n - 1):
        raise ValueError(f"bayer size must be a power of two (1, 2, 4, ..., 256), got {n}")
    return _bayer_cached(n).copy()


def cluster_dot(n: int) -> np.ndarray:
    """Clustered-dot halftone cell: ranks that grow one round dot from the centre of an n x n cell.

    Pixels are ordered by the classic Euclidean spot function ``1 - (x^2 + y^2)`` on cell coordinates in
    [-1, 1] (centre first), ties broken by angle so the dot grows evenly.

    Args:
        n: side, 2..256.

    Returns:
        int64 array (n, n), a permutation of ``range(n * n)``.
    """
    n = check_positive_int("cluster-dot size", n, low=2, high=MAX_KERNEL_SIDE)
    c = (np.arange(n) + 0.5) / n * 2.0 - 1.0
    y, x = np.meshgrid(c, c, indexing="ij")
    spot = np.round(1.0 - (x * x + y * y), 12)
    angle = np.round(np.arctan2(y, x), 12)
    order = np.lexsort((angle.ravel(), -spot.ravel()))
    ranks = np.empty(n * n, dtype=np.int64)
    ranks[order] = np.arange(n * n)
    return ranks.reshape(n, n)


def _toroidal_gaussian(n: int, sigma: float) -> np.ndarray:
    d = np.minimum(np.arange(n), n - np.arange(n)).astype(np.float64)
    g1 = np.exp(-(d**2) / (2.0 * sigma**2))
    return np.outer(g1, g1)


def blue_noise(n: int, *, seed: int = 0, sigma: float = 1.5) -> np.ndarray:
    """Blue-noise ranks by Ulichney's void-and-cluster method, on a torus so the mask tiles without seams.

    Energy is the toroidal Gaussian filter (``sigma``) of the binary pattern. The initial pattern (10% of the
    pixels, seeded) is relaxed by moving the tightest cluster into the largest void until stable; its pixels are
    then ranked by removing tightest clusters, and the rest by filling largest voids (phases 1-3 of the paper;
    phase 3 as void filling, which is the same choice as Ulichney's cluster removal on the inverted pattern).

    Args:
        n: side, 2..512 (512 takes about two minutes; the shipped assets hold 256 and 512 masks, seed 0).
        seed: seed of the initial pattern.
        sigma: Gaussian width in pixels, > 0 (Ulichney uses 1.5).

    Returns:
        int64 array (n, n), a permutation of ``range(n * n)``.

    References:
        Ulichney, "The void-and-cluster method for dither array generation", Proc. SPIE 1913, 1993.
    """
    n = check_positive_int("blue-noise size", n, low=2, high=MAX_GENERATED_SIDE)
    sigma = float(sigma)
    if not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"blue-noise sigma must be a positive number, got {sigma}")
    total = n * n
    g = _toroidal_gaussian(n, sigma)
    big = np.tile(g, (2, 2))  # big[n - r : 2n - r, n - c : 2n - c] is g shifted to (r, c)

    def bump(r: int, c: int) -> np.ndarray:
        return big[n - r : 2 * n - r, n - c : 2 * n - c]

    rng = np.random.default_rng(seed)
    ones = max(1, total // 10)
    pattern = np.zeros((n, n), dtype=bool)
    pattern.flat[rng.choice(total, size=ones, replace=False)] = True
    energy = np.real(np.fft.ifft2(np.fft.fft2(pattern) * np.fft.fft2(g)))
    inf = np.inf

    def tightest(p: np.ndarray, e: np.ndarray) -> tuple[int, int]:
        return divmod(int(np.argmax(np.where(p, e, -inf))), n)

    def largest_void(p: np.ndarray, e: np.ndarray) -> tuple[int, int]:
        return divmod(int(np.argmin(np.where(p, inf, e))), n)

    for _ in range(total):  # relax the initial pattern; converges long before this bound
        r, c = tightest(pattern, energy)
        pattern[r, c] = False
        energy -= bump(r, c)
        vr, vc = largest_void(pattern, energy)
        pattern[vr, vc] = True
        energy += bump(vr, vc)
        if (vr, vc) == (r, c):
            break

    ranks = np.empty((n, n), dtype=np.int64)
    p1, e1 = pattern.copy(), energy.copy()
    for rank in range(ones - 1, -1, -1):
        r, c = tightest(p1, e1)
        p1[r, c] = False
        e1 -= bump(r, c)
        ranks[r, c] = rank
    # Void filling: keep a score map with +inf on occupied pixels so each step is one argmin.
    score = np.where(pattern, inf, energy)
    for rank in range(ones, total):
        idx = int(np.argmin(score))
        r, c = divmod(idx, n)
        ranks[r, c] = rank
        score += bump(r, c)
        score[r, c] = inf
    return ranks


@functools.lru_cache(maxsize=32)
def _blue_noise_cached(n: int, seed: int, sigma: float) -> np.ndarray:
    ranks = None
    if n >= 256:  # large masks are shipped (generated once by scripts/make_assets.py)
        from dither_lab.io import load_asset_array  # local: io imports this module

        try:
            ranks = load_asset_array(f"blue_noise/void_and_cluster_{n}_seed{seed}_sigma{sigma:g}.npy").astype(np.int64)
        except ValueError:
            ranks = None  # not shipped or damaged: generate (same result, slower)
    if ranks is None:
        ranks = blue_noise(n, seed=seed, sigma=sigma)
    ranks.setflags(write=False)
    return ranks


def blue_noise_mask(n: int, *, seed: int = 0, sigma: float = 1.5) -> np.ndarray:
    """Blue-noise ranks as :func:`blue_noise`, cached per process and read from the shipped masks when present."""
    return _blue_noise_cached(int(n), int(seed), float(sigma)).copy()


def random_uniform(shape: tuple[int, ...], *, seed: int = 0) -> np.ndarray:
    """Seeded uniform quantiles in (0, 1), shape (m, n) or (F, m, n)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 1.0, size=shape)


# ------------------------------------------------------------------------------------------------- mappings


def ranks_to_quantiles(ranks: np.ndarray) -> np.ndarray:
    """Uniform quantiles ``(r + 0.5) / N`` of ranks ``0..N-1`` (N = number of entries)."""
    ranks = np.asarray(ranks, dtype=np.float64)
    return (ranks + 0.5) / ranks.size


def quantiles_to_thresholds(u: np.ndarray, *, domain: str, strength: float = 1.0) -> np.ndarray:
    """Map uniform quantiles to thresholds: ``0.5 + strength (u - 0.5)`` (unit) or ``strength Phi^-1(u)`` (bn)."""
    check_choice("domain", domain, ("bn", "unit"))
    u = np.asarray(u, dtype=np.float64)
    if domain == "unit":
        return 0.5 + strength * (u - 0.5)
    return strength * ndtri(u)


def levels_to_bn(levels: Any) -> np.ndarray:
    """Map DeSign levels {0, 1, 3, 5, 7, 9} to the authors' batch-norm units."""
    arr = np.asarray(levels)
    bad = sorted({float(v) for v in np.unique(arr)} - set(LEVEL_TO_BN))
    if bad:
        raise ValueError(f"levels must be in {list(LEVELS)}, got {bad}")
    table = np.zeros(10)
    for k, v in LEVEL_TO_BN.items():
        table[k] = v
    return table[arr.astype(np.int64)]


def levels_to_thresholds(levels: Any, *, domain: str, strength: float = 1.0) -> np.ndarray:
    """Levels to thresholds: ``strength * bn(level)`` (bn) or ``Phi(strength * bn(level))`` (unit)."""
    check_choice("domain", domain, ("bn", "unit"))
    t = strength * levels_to_bn(levels)
    return t if domain == "bn" else ndtr(t)


# --------------------------------------------------------------------------------------------------- Kernel


@dataclass(frozen=True, eq=False)
class Kernel:
    """A validated threshold kernel.

    Attributes:
        values: float64 thresholds, (m, n) or (F, m, n); read-only.
        spec: a spec string that rebuilds it (``custom:...`` for hand-made kernels).
        domain: ``"bn"``, ``"unit"`` or ``"raw"`` (values used as they are).
        name: a short human label.
        levels: the DeSign levels it was made from, if any.
    """

    values: np.ndarray
    spec: str = "custom"
    domain: str = "raw"
    name: str = "custom"
    levels: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        vals = check_kernel_values(self.values, max_side=MAX_GENERATED_SIDE)
        vals.setflags(write=False)
        object.__setattr__(self, "values", vals)
        check_choice("domain", self.domain, DOMAINS)
        if self.levels is not None:
            lv = np.array(self.levels, dtype=np.int64)
            lv.setflags(write=False)
            object.__setattr__(self, "levels", lv)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.values.shape)

    @property
    def is_3d(self) -> bool:
        return self.values.ndim == 3

    @property
    def key(self) -> str:
        """Content hash of the values (for caches)."""
        h = hashlib.sha1(self.values.tobytes())
        h.update(repr(self.shape).encode())
        return h.hexdigest()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Kernel) and self.shape == other.shape and bool(np.array_equal(self.values, other.values))

    def __hash__(self) -> int:
        return hash(self.key)

    def to_spec_values(self) -> str:
        """The ``custom:`` spec that reproduces these exact values."""
        return "custom:" + format_values(self.values)

    def summary(self) -> dict[str, Any]:
        """JSON-ready description: name, spec, shape, domain and value statistics."""
        v = self.values
        return {
            "name": self.name,
            "spec": self.spec,
            "shape": list(self.shape),
            "domain": self.domain,
            "min": float(v.min()),
            "max": float(v.max()),
            "mean": float(v.mean()),
            "values": v.tolist(),
            "levels": None if self.levels is None else self.levels.tolist(),
        }


def format_values(values: np.ndarray) -> str:
    """Values as the compact text of the grammar: ``a,b;c,d`` (rows by ';', 3-D slices by '|')."""
    v = np.asarray(values)
    slices = v if v.ndim == 3 else v[None]
    return "|".join(";".join(",".join(f"{x:.10g}" for x in row) for row in s) for s in slices)


def parse_values(text: str, *, name: str = "values") -> np.ndarray:
    """Parse ``a,b;c,d`` (rows by ';', 3-D slices by '|') into a validated array."""
    try:
        slices = [[[float(c) for c in row.split(",")] for row in s.split(";")] for s in text.split("|")]
    except ValueError:
        raise ValueError(f"{name} must be numbers separated by ',' (columns), ';' (rows), '|' (slices), got {text!r}") from None
    shapes = {(len(s), len(s[0])) for s in slices}
    if any(len({len(r) for r in s}) != 1 for s in slices):
        raise ValueError(f"{name} has rows of different lengths: {text!r}")
    if len(shapes) != 1:
        raise ValueError(f"{name} has 3-D slices of different shapes {sorted(shapes)}: {text!r}")
    arr = np.array(slices)
    return check_kernel_values(arr[0] if arr.shape[0] == 1 else arr, name=name)


# ------------------------------------------------------------------------------------------------ spec grammar

_OPTIONS = {
    "sign": (),
    "bayer": ("strength",),
    "blue-noise": ("seed", "sigma", "strength"),
    "cluster-dot": ("strength",),
    "random": ("seed", "strength"),
    "constant": (),
    "preset": ("strength",),
    "levels": ("strength",),
    "custom": (),
    "file": (),
}
_NEEDS_ARG = {"bayer", "blue-noise", "cluster-dot", "random", "constant", "preset", "levels", "custom", "file"}

SPEC_HELP = (
    "valid kernel specs: sign, bayer:N (N a power of two), blue-noise:N[:seed=S][:sigma=X], cluster-dot:N, "
    "random:MxN[:seed=S] or random:FxMxN, constant:V, preset:NAME (" + ", ".join(PRESETS) + "), "
    "levels:1,1;0,3, custom:0.1,-0.2;0.3,0, file:PATH; ranked/random/preset/levels kernels take :strength=X"
)


def parse_spec(spec: str) -> tuple[str, str | None, dict[str, str]]:
    """Split a spec into (generator, argument, options); raises ValueError naming what is valid."""
    if not isinstance(spec, str):
        raise TypeError(f"kernel spec must be a string, got {type(spec).__name__}")
    text = spec.strip()
    if not text:
        raise ValueError(f"kernel spec must not be empty; {SPEC_HELP}")
    gen, _, rest = text.partition(":")
    gen = gen.strip().lower()
    if gen == "file":
        if not rest:
            raise ValueError("kernel spec 'file:' needs a path, as in file:kernel.json")
        return gen, rest, {}
    if gen not in _OPTIONS:
        raise ValueError(f"unknown kernel generator {gen!r}; {SPEC_HELP}")
    parts = [p.strip() for p in rest.split(":")] if rest else []
    arg = None
    options: dict[str, str] = {}
    for i, part in enumerate(parts):
        if "=" in part:
            key, _, val = part.partition("=")
            key = key.strip().lower()
            if key not in _OPTIONS[gen]:
                valid = ", ".join(_OPTIONS[gen]) or "none"
                raise ValueError(f"kernel spec {spec!r}: unknown option {key!r} for {gen} (valid options: {valid})")
            options[key] = val.strip()
        elif i == 0:
            arg = part
        else:
            raise ValueError(f"kernel spec {spec!r}: unexpected part {part!r}; options are written key=value")
    if gen in _NEEDS_ARG and not arg:
        raise ValueError(f"kernel spec {spec!r}: {gen} needs an argument; {SPEC_HELP}")
    if gen == "sign" and arg:
        raise ValueError(f"kernel spec {spec!r}: sign takes no argument (use constant:V for a shifted Sign)")
    return gen, arg, options


def _num(spec: str, key: str, text: str, kind: type) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f"kernel spec {spec!r}: {key} must be {'an integer' if kind is int else 'a number'}, got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise ValueError(f"kernel spec {spec!r}: {key} must be finite, got {text!r}")
    return value


def _int_arg(spec: str, text: str) -> int:
    return _num(spec, "size", text, int)


def make_kernel(spec: str, *, domain: str = "bn", allow_files: bool = True) -> Kernel:
    """Build a kernel from a spec string.

    Args:
        spec: see the module docstring for the grammar.
        domain: ``"bn"`` (activations, batch-norm units) or ``"unit"`` (images in [0, 1]).
        allow_files: whether ``file:PATH`` may be read (the app passes False: it never opens typed paths).

    Returns:
        The Kernel; its ``spec`` is the canonical form of ``spec``.

    Raises:
        ValueError: unknown generator or option, bad parameter, or an invalid kernel.

    Examples:
        >>> make_kernel("bayer:2", domain="unit").values.tolist()
        [[0.125, 0.625], [0.875, 0.375]]
        >>> make_kernel("preset:design-2x2-a").values.tolist()
        [[0.631, 0.631], [0.3118, 0.9671]]
    """
    check_choice("domain", domain, ("bn", "unit"))
    gen, arg, opts = parse_spec(spec)
    strength = _num(spec, "strength", opts.get("strength", "1"), float)
    seed = _num(spec, "seed", opts.get("seed", "0"), int)
    suffix = "".join(f":{k}={opts[k]}" for k in _OPTIONS[gen] if k in opts)

    def ranked(ranks: np.ndarray, name: str) -> Kernel:
        values = quantiles_to_thresholds(ranks_to_quantiles(ranks), domain=domain, strength=strength)
        return Kernel(values, spec=f"{gen}:{arg}{suffix}", domain=domain, name=name)

    if gen == "sign":
        return Kernel(np.full((1, 1), 0.5 if domain == "unit" else 0.0), spec="sign", domain=domain, name="Sign")
    if gen == "bayer":
        return ranked(bayer(_int_arg(spec, arg)), f"Bayer {arg}x{arg}")
    if gen == "cluster-dot":
        return ranked(cluster_dot(_int_arg(spec, arg)), f"cluster-dot {arg}x{arg}")
    if gen == "blue-noise":
        sigma = _num(spec, "sigma", opts.get("sigma", "1.5"), float)
        n = check_positive_int("blue-noise size", _int_arg(spec, arg), low=2, high=MAX_GENERATED_SIDE)
        return ranked(blue_noise_mask(n, seed=seed, sigma=sigma), f"blue noise {n}x{n} (seed {seed})")
    if gen == "random":
        try:
            shape = tuple(int(s) for s in arg.lower().split("x"))
        except ValueError:
            raise ValueError(f"kernel spec {spec!r}: random needs a shape like 3x3 or 4x2x2, got {arg!r}") from None
        if len(shape) == 1:
            shape = shape * 2
        if len(shape) not in (2, 3) or min(shape) < 1 or max(shape) > MAX_KERNEL_SIDE:
            raise ValueError(f"kernel spec {spec!r}: random shape must be MxN or FxMxN with sides 1..{MAX_KERNEL_SIDE}")
        u = random_uniform(shape, seed=seed)
        values = quantiles_to_thresholds(u, domain=domain, strength=strength)
        return Kernel(values, spec=f"random:{arg}:seed={seed}" + (f":strength={opts['strength']}" if "strength" in opts else ""),
                      domain=domain, name=f"random {arg} (seed {seed})")
    if gen == "constant":
        v = _num(spec, "value", arg, float)
        return Kernel(np.full((1, 1), v), spec=f"constant:{arg}", domain="raw", name=f"constant {v:g}")
    if gen == "preset":
        name = arg.lower()
        if name not in PRESETS:
            raise ValueError(f"unknown preset {arg!r}; valid presets: {', '.join(PRESETS)}")
        levels = PRESETS[name]
        values = levels_to_thresholds(levels, domain=domain, strength=strength)
        return Kernel(values, spec=f"preset:{name}{suffix}", domain=domain, name=name, levels=levels)
    if gen == "levels":
        levels = parse_values(arg, name="levels")
        values = levels_to_thresholds(levels, domain=domain, strength=strength)
        return Kernel(values, spec=f"levels:{format_values(levels)}{suffix}", domain=domain, name="levels", levels=levels)
    if gen == "custom":
        values = parse_values(arg, name="custom kernel")
        return Kernel(values, spec=f"custom:{format_values(values)}", domain="raw", name="custom")
    # file
    if not allow_files:
        raise ValueError("file: kernel specs are not accepted here; upload the kernel file instead")
    from dither_lab.io import load_kernel  # local: io imports this module

    return load_kernel(arg, domain=domain)


def as_kernel(kernel: Any, *, domain: str = "bn") -> Kernel:
    """Accept a Kernel, a spec string or an array of values, and return a Kernel."""
    if isinstance(kernel, Kernel):
        return kernel
    if isinstance(kernel, str):
        return make_kernel(kernel, domain=domain)
    try:
        import torch

        if isinstance(kernel, torch.Tensor):
            kernel = kernel.detach().cpu().numpy()
    except ImportError:  # pragma: no cover - torch is a hard dependency
        pass
    return Kernel(check_kernel_values(kernel), spec="custom", domain="raw", name="custom")


def list_specs() -> list[str]:
    """Example specs of every kind, for menus and help text."""
    return [
        "sign", "bayer:2", "bayer:4", "bayer:8", "blue-noise:16", "blue-noise:64", "cluster-dot:4", "cluster-dot:8",
        "random:3x3:seed=0", *(f"preset:{p}" for p in PRESETS),
    ]


# --------------------------------------------------------------------------------------------------- tiling


def resolve_phase(phase: Any, kernel_shape: tuple[int, ...], height: int, width: int) -> tuple[int, int]:
    """Tile offset (pi, pj) so that pixel (i, j) uses kernel entry ((i + pi) mod m, (j + pj) mod n).

    ``"origin"`` anchors the tile at the top-left pixel (pi = pj = 0). ``"center"`` matches the DeSign authors'
    TensorFlow code, which tiles to ``ceil(H/m)*m`` and centre-crops: ``pi = (ceil(H/m)*m - H) // 2``.
    A pair of integers is used as given.
    """
    m, n = kernel_shape[-2:]
    if isinstance(phase, str):
        check_choice("phase", phase, ("origin", "center"))
        if phase == "origin":
            return 0, 0
        return ((-(-height // m) * m - height) // 2) % m, ((-(-width // n) * n - width) // 2) % n
    try:
        pi, pj = (int(p) for p in phase)
    except (TypeError, ValueError):
        raise ValueError(f"phase must be 'origin', 'center' or a pair of integers, got {phase!r}") from None
    return pi % m, pj % n


def tile(kernel: Any, height: int, width: int, *, channels: int | None = None, phase: Any = "origin") -> np.ndarray:
    """The periodic threshold map of a kernel over an H x W grid.

    Shape: (H, W) for a 2-D kernel with ``channels=None``, else (C, H, W); a 3-D kernel (F, m, n) gives channel
    ``c`` the slice ``c mod F`` (``channels`` defaults to F).

    Examples:
        >>> tile([[0, 1], [2, 3]], 3, 3).astype(int).tolist()
        [[0, 1, 0], [2, 3, 2], [0, 1, 0]]
    """
    k = as_kernel(kernel).values
    height = check_positive_int("height", height)
    width = check_positive_int("width", width)
    pi, pj = resolve_phase(phase, k.shape, height, width)
    m, n = k.shape[-2:]
    rows = (np.arange(height) + pi) % m
    cols = (np.arange(width) + pj) % n
    if k.ndim == 2:
        t = k[rows[:, None], cols[None, :]]
        return t if channels is None else np.broadcast_to(t, (channels, height, width)).copy()
    c = k.shape[0] if channels is None else check_positive_int("channels", channels)
    return k[(np.arange(c) % k.shape[0])[:, None, None], rows[None, :, None], cols[None, None, :]]
