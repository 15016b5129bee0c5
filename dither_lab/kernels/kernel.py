"""The Kernel type: validated, read-only threshold values with the spec that rebuilds them, and their text form."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dither_lab._checks import MAX_GENERATED_SIDE, check_choice, check_kernel_values

#: ``"bn"``: batch-norm units (activations); ``"unit"``: image units (images in [0, 1]); ``"raw"``: as given.
DOMAINS = ("bn", "unit", "raw")


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


def grid_kernel(values: Any, *, name: str = "custom") -> Kernel:
    """A grid of thresholds edited by hand, (m, n) or (F, m, n), as a Kernel with the ``custom:`` spec that rebuilds
    it; a single slice (1, m, n) gives a 2-D kernel.

    Raises:
        ValueError: values that are not a valid kernel (empty, not finite, too large).

    Examples:
        >>> grid_kernel([[[0.5, -0.5]]]).spec
        'custom:0.5,-0.5'
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 3 and v.shape[0] == 1:
        v = v[0]
    v = check_kernel_values(v, max_side=MAX_GENERATED_SIDE)
    return Kernel(v, spec="custom:" + format_values(v), domain="raw", name=name)


def resize_grid(values: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """A (F, m, n) kernel grid grown or cut to ``shape``: kept entries stay where they were, new ones are 0.

    Examples:
        >>> resize_grid(np.ones((1, 2, 2)), (1, 2, 3)).tolist()
        [[[1.0, 1.0, 0.0], [1.0, 1.0, 0.0]]]
    """
    out = np.zeros(shape)
    f, m, n = (min(a, b) for a, b in zip(np.shape(values), shape, strict=True))
    out[:f, :m, :n] = np.asarray(values)[:f, :m, :n]
    return out


def format_values(values: np.ndarray) -> str:
    """Values as the compact text of the grammar: ``a,b;c,d`` (rows by ';', 3-D slices by '|').

    Examples:
        >>> format_values(np.array([[1, 0.5], [0, 3]]))
        '1,0.5;0,3'
    """
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
