"""Kernel generators: Bayer, cluster-dot, blue noise (void-and-cluster), random, and the paper's presets.

Each spec generator is one function registered with :func:`dither_lab.kernels.spec.register_generator`; rank
generators (Bayer, cluster-dot, blue noise) give ranks ``0..N-1`` that :mod:`dither_lab.kernels.levels` maps to
thresholds in either domain. To add a generator, write its function here and register it below the others.

References:
    Bayer, "An optimum method for two-level rendition of continuous-tone pictures", ICC 1973.
    Ulichney, "The void-and-cluster method for dither array generation", SPIE 1913, 1993.
    Monroy et al., "Designed Dithering Sign Activation for Binary Neural Networks", arXiv:2405.02220.
"""

from __future__ import annotations

import functools
import importlib
import math
from collections.abc import Callable

import numpy as np

from dither_lab._checks import MAX_GENERATED_SIDE, MAX_KERNEL_SIDE, check_positive_int
from dither_lab.kernels.kernel import Kernel, format_values, parse_values
from dither_lab.kernels.levels import (
    PRESET_HELP,
    PRESETS,
    levels_to_thresholds,
    quantiles_to_thresholds,
    ranks_to_quantiles,
)
from dither_lab.kernels.spec import STRENGTH, Param, ParsedSpec, register_generator

#: Callables ``(n, seed, sigma) -> ranks or None`` consulted before computing a blue-noise mask; the package's
#: I/O layer registers the shipped masks here (see :func:`register_mask_source`).
MASK_SOURCES: list[Callable[[int, int, float], np.ndarray | None]] = []
#: The module that registers the shipped masks, imported before the first mask is made (as spec plugins are).
MASK_PLUGINS = ("dither_lab.io.assets",)


def register_mask_source(source: Callable[[int, int, float], np.ndarray | None]) -> None:
    """Add a source of precomputed blue-noise ranks (it returns None for masks it does not hold)."""
    if source not in MASK_SOURCES:
        MASK_SOURCES.append(source)
        _blue_noise_cached.cache_clear()


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
    for module in MASK_PLUGINS:
        importlib.import_module(module)
    for source in MASK_SOURCES:  # precomputed masks (the shipped ones): the same ranks, without the wait
        ranks = source(n, seed, sigma)
        if ranks is not None:
            ranks = np.asarray(ranks, dtype=np.int64)
            break
    if ranks is None:
        ranks = blue_noise(n, seed=seed, sigma=sigma)
    ranks.setflags(write=False)
    return ranks


def blue_noise_mask(n: int, *, seed: int = 0, sigma: float = 1.5) -> np.ndarray:
    """Blue-noise ranks as :func:`blue_noise`, cached per process, taken from a registered mask source (the
    shipped 256 and 512 masks, which :mod:`dither_lab.io` registers) when one has them."""
    return _blue_noise_cached(int(n), int(seed), float(sigma)).copy()


def random_uniform(shape: tuple[int, ...], *, seed: int = 0) -> np.ndarray:
    """Seeded uniform quantiles in (0, 1), shape (m, n) or (F, m, n)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 1.0, size=shape)


# ---------------------------------------------------------------------------------------------- registrations


def _named(s: ParsedSpec, name: str) -> str:
    """A kernel's name, with its strength when that is not 1 (so a scaled kernel is never named as the original)."""
    return name if s.strength == 1.0 else f"{name}, strength {s.strength:g}"


def _ranked(s: ParsedSpec, ranks: np.ndarray, name: str, arg: str | None = None) -> Kernel:
    values = quantiles_to_thresholds(ranks_to_quantiles(ranks), domain=s.domain, strength=s.strength)
    return Kernel(values, spec=s.canonical(arg), domain=s.domain, name=_named(s, name))


@register_generator("sign", syntax="sign", needs_arg=False, examples=("sign",), label="Sign (one threshold)",
                    summary="plain Sign: one threshold (0 in batch-norm units, 0.5 for images)")
def _sign(s: ParsedSpec) -> Kernel:
    return Kernel(np.full((1, 1), 0.5 if s.domain == "unit" else 0.0), spec="sign", domain=s.domain, name="Sign")


@register_generator("bayer", syntax="bayer:N (N a power of two)", options=("strength",),
                    examples=("bayer:2", "bayer:4", "bayer:8"), summary="Bayer's recursive ordered-dither matrix",
                    label="Bayer", arg_format="{size}",
                    params=(Param("size", "Size", "choice", 4, choices=(2, 4, 8, 16), option=False), STRENGTH))
def _bayer(s: ParsedSpec) -> Kernel:
    n = s.int_arg()
    return _ranked(s, bayer(n), f"Bayer {n}x{n}", str(n))


@register_generator("blue-noise", syntax="blue-noise:N[:seed=S][:sigma=X]", options=("seed", "sigma", "strength"),
                    examples=("blue-noise:16", "blue-noise:64"), summary="void-and-cluster blue noise (Ulichney)",
                    label="Blue noise", arg_format="{size}",
                    params=(Param("size", "Size", "choice", 16, choices=(4, 8, 16, 32, 64, 128, 256), option=False),
                            Param("seed", "Seed", "int", 0, low=0, high=10_000, step=1,
                                  help="The random start of void-and-cluster: another seed, another mask."),
                            Param("sigma", "Sigma", "float", 1.5, low=0.5, high=4.0, step=0.1,
                                  help="Width (in pixels) of the Gaussian that void-and-cluster uses to find the "
                                       "tightest cluster and the largest void: larger spreads the thresholds over "
                                       "coarser distances (1.5 is the usual choice)."), STRENGTH))
def _blue_noise(s: ParsedSpec) -> Kernel:
    n = check_positive_int("blue-noise size", s.int_arg(), low=2, high=MAX_GENERATED_SIDE)
    seed = s.number("seed", 0, int)
    return _ranked(s, blue_noise_mask(n, seed=seed, sigma=s.number("sigma", 1.5)), f"blue noise {n}x{n} (seed {seed})",
                   str(n))


@register_generator("cluster-dot", syntax="cluster-dot:N", options=("strength",),
                    examples=("cluster-dot:4", "cluster-dot:8"), summary="a round dot growing from the cell's centre",
                    label="Cluster-dot", arg_format="{size}",
                    params=(Param("size", "Size", "choice", 4, choices=(2, 3, 4, 6, 8, 12, 16), option=False),
                            STRENGTH))
def _cluster_dot(s: ParsedSpec) -> Kernel:
    n = s.int_arg()
    return _ranked(s, cluster_dot(n), f"cluster-dot {n}x{n}", str(n))


@register_generator("random", syntax="random:MxN[:seed=S] or random:FxMxN", options=("seed", "strength"),
                    examples=("random:3x3:seed=0",), summary="seeded uniform random thresholds (white noise)",
                    label="Random", arg_format="{rows}x{cols}",
                    params=(Param("rows", "Rows", "int", 3, low=1, high=16, step=1, option=False),
                            Param("cols", "Columns", "int", 3, low=1, high=16, step=1, option=False),
                            Param("seed", "Seed", "int", 0, low=0, high=10_000, step=1), STRENGTH))
def _random(s: ParsedSpec) -> Kernel:
    try:
        shape = tuple(int(v) for v in s.arg.lower().split("x"))
    except ValueError:
        raise ValueError(f"kernel spec {s.text!r}: random needs a shape like 3x3 or 4x2x2, got {s.arg!r}") from None
    if len(shape) == 1:
        shape = shape * 2
    if len(shape) not in (2, 3) or min(shape) < 1 or max(shape) > MAX_KERNEL_SIDE:
        raise ValueError(f"kernel spec {s.text!r}: random shape must be MxN or FxMxN with sides 1..{MAX_KERNEL_SIDE}")
    seed = s.number("seed", 0, int)
    values = quantiles_to_thresholds(random_uniform(shape, seed=seed), domain=s.domain, strength=s.strength)
    spec = f"random:{s.arg}:seed={seed}" + (f":strength={s.options['strength']}" if "strength" in s.options else "")
    return Kernel(values, spec=spec, domain=s.domain, name=_named(s, f"random {s.arg} (seed {seed})"))


@register_generator("constant", syntax="constant:V", examples=("constant:0.5",),
                    summary="one threshold V everywhere: a shifted Sign", label="Constant (a shifted Sign)",
                    arg_format="{value}", params=(Param("value", "Threshold", "float", 0.5, low=-3.0, high=3.0, step=0.05,
                                                        option=False),))
def _constant(s: ParsedSpec) -> Kernel:
    v = s.float_arg()
    return Kernel(np.full((1, 1), v), spec=f"constant:{s.arg}", domain="raw", name=f"constant {v:g}")


@register_generator("preset", syntax="preset:NAME (" + ", ".join(PRESETS) + ")", options=("strength",),
                    examples=tuple(f"preset:{p}" for p in PRESETS), summary="a kernel the DeSign authors released",
                    label="Paper preset", arg_format="{name}",
                    params=(Param("name", "Preset", "choice", "design-2x2-a", choices=tuple(PRESETS), option=False,
                                  labels=tuple(PRESET_HELP.get(p, p) for p in PRESETS)),
                            STRENGTH))
def _preset(s: ParsedSpec) -> Kernel:
    name = s.arg.lower()
    if name not in PRESETS:
        raise ValueError(f"unknown preset {s.arg!r}; valid presets: {', '.join(PRESETS)}")
    levels = PRESETS[name]
    values = levels_to_thresholds(levels, domain=s.domain, strength=s.strength)
    return Kernel(values, spec=s.canonical(name), domain=s.domain, name=_named(s, name), levels=levels)


@register_generator("levels", syntax="levels:1,1;0,3", options=("strength",), examples=("levels:1,1;0,3",),
                    summary="DeSign levels {0, 1, 3, 5, 7, 9} mapped to thresholds")
def _levels(s: ParsedSpec) -> Kernel:
    levels = parse_values(s.arg, name="levels")
    values = levels_to_thresholds(levels, domain=s.domain, strength=s.strength)
    return Kernel(values, spec=s.canonical(format_values(levels)), domain=s.domain, name=_named(s, "levels"),
                  levels=levels)


@register_generator("custom", syntax="custom:0.1,-0.2;0.3,0", examples=("custom:0.1,-0.2;0.3,0",),
                    summary="threshold values as given (rows by ';', 3-D slices by '|')")
def _custom(s: ParsedSpec) -> Kernel:
    values = parse_values(s.arg, name="custom kernel")
    return Kernel(values, spec=f"custom:{format_values(values)}", domain="raw", name="custom")
