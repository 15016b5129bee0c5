"""The kernel-spec grammar, shared by the CLI, the app and its links, and the registry of generators behind it.

A spec is ``NAME[:ARG][:key=value]...``, for example ``bayer:8``, ``blue-noise:64:seed=3`` or
``preset:design-2x2-a:strength=0.5``. Each name is a registered generator: one function that builds the Kernel
from the parsed spec, and one :func:`register_generator` call that gives its syntax, options and examples. The
registry is the only list of generators: the grammar, the CLI's help, the app's menus and the error that lists
the valid specs all read it. Values are written ``a,b;c,d`` (rows by ';', 3-D slices by '|').

Examples:
    >>> make_kernel("bayer:2", domain="unit").values.tolist()
    [[0.125, 0.625], [0.875, 0.375]]
    >>> sorted(GENERATORS)[:3]
    ['bayer', 'blue-noise', 'cluster-dot']
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dither_lab._checks import check_choice, check_kernel_values
from dither_lab.kernels.kernel import Kernel, format_values


@dataclass(frozen=True)
class Param:
    """One setting of a generator, for menus (the app builds its widgets from these).

    Attributes:
        name: the option's key (``seed``) or, for the spec's argument, a name its ``arg_format`` uses (``size``).
        label: a short label for people.
        kind: ``"choice"`` (one of ``choices``), ``"int"`` or ``"float"`` (between ``low`` and ``high``, by ``step``).
        default: the value a menu starts at (for an option: the value the generator uses when it is absent).
        option: True for a ``key=value`` option, False for part of the argument.
        labels: for a choice, how a menu names each of ``choices`` (in their order); empty: the choices themselves.
        help: what the setting does, for a menu's tooltip (empty: none).
    """

    name: str
    label: str
    kind: str
    default: Any
    choices: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    step: float | None = None
    option: bool = True
    labels: tuple[str, ...] = ()
    help: str = ""

    def label_of(self, value: Any) -> str:
        """How a menu names ``value``: its entry of ``labels``, else the value itself."""
        if self.labels and value in self.choices:
            return self.labels[self.choices.index(value)]
        return str(value)

    def accepts(self, value: Any) -> bool:
        """Whether a menu of this setting can show ``value``."""
        if self.kind == "choice":
            return value in self.choices
        if self.low is not None and value < self.low or self.high is not None and value > self.high:
            return False
        if self.step is not None and self.low is not None:
            steps = (value - self.low) / self.step
            return abs(steps - round(steps)) < 1e-6
        return True


#: The strength setting every ranked generator takes (0 is plain Sign, 1 the kernel as generated).
STRENGTH = Param("strength", "Strength", "float", 1.0, low=0.0, high=2.0, step=0.05,
                 help="Scales the thresholds: 0 gives plain Sign, 1 the kernel as generated.")


@dataclass(frozen=True)
class Generator:
    """A registered kernel generator.

    Attributes:
        name: the spec's first word.
        build: makes the Kernel from a :class:`ParsedSpec`.
        syntax: how a spec of it is written, for help texts (``bayer:N (N a power of two)``).
        options: the ``key=value`` options it takes.
        needs_arg: whether the spec needs an argument after the name.
        whole_arg: the argument is everything after ``NAME:`` (a path), with no options.
        reads_files: it opens a file named in the spec (refused where ``allow_files=False``).
        examples: example specs for menus and help.
        summary: one sentence for people.
        label: the generator's name in menus.
        params: its settings for menus (:class:`Param`); empty for generators a menu does not offer.
        arg_format: how the argument is written from the argument settings (``"{size}"``, ``"{rows}x{cols}"``).
    """

    name: str
    build: Callable[[ParsedSpec], Kernel] = field(repr=False)
    syntax: str
    options: tuple[str, ...] = ()
    needs_arg: bool = True
    whole_arg: bool = False
    reads_files: bool = False
    examples: tuple[str, ...] = ()
    summary: str = ""
    label: str = ""
    params: tuple[Param, ...] = ()
    arg_format: str = ""


#: name -> Generator, in registration order. Add to it with :func:`register_generator` only.
GENERATORS: dict[str, Generator] = {}

#: Generators that another part of the package registers, by the module that does: imported the first time a spec
#: names one (the entry-point pattern), so that kernel files are read by :mod:`dither_lab.io` without this package
#: importing it.
PLUGINS: dict[str, str] = {"file": "dither_lab.io.kernel_files"}


def _load_plugins(name: str | None = None) -> None:
    for gen, module in PLUGINS.items():
        if (name is None or gen == name) and gen not in GENERATORS:
            importlib.import_module(module)


def register_generator(name: str, *, syntax: str, options: tuple[str, ...] = (), needs_arg: bool = True,
                       whole_arg: bool = False, reads_files: bool = False, examples: tuple[str, ...] = (),
                       summary: str = "", label: str = "", params: tuple[Param, ...] = (),
                       arg_format: str = "") -> Callable[[Callable[[ParsedSpec], Kernel]], Callable[[ParsedSpec], Kernel]]:
    """Decorator registering ``build(parsed_spec) -> Kernel`` as the generator ``name``.

    Raises:
        ValueError: ``name`` is taken or not a lowercase word (letters, digits, '-').
    """
    if not name or not all(c.isalnum() or c == "-" for c in name) or name != name.lower():
        raise ValueError(f"generator name must be a lowercase word of letters, digits and '-', got {name!r}")
    if name in GENERATORS:
        raise ValueError(f"kernel generator {name!r} is registered already")

    def register(build: Callable[[ParsedSpec], Kernel]) -> Callable[[ParsedSpec], Kernel]:
        GENERATORS[name] = Generator(name, build, syntax, tuple(options), needs_arg, whole_arg, reads_files,
                                     tuple(examples), summary, label or name, tuple(params), arg_format)
        return build

    return register


def spec_help() -> str:
    """One sentence listing every valid spec form (for error messages and help)."""
    _load_plugins()
    with_strength = [g.name for g in GENERATORS.values() if "strength" in g.options]
    return ("valid kernel specs: " + ", ".join(g.syntax for g in GENERATORS.values())
            + (f"; {', '.join(with_strength)} kernels take :strength=X" if with_strength else ""))


@dataclass(frozen=True)
class ParsedSpec:
    """A spec split into generator, argument and options, with typed accessors whose errors name the spec."""

    text: str
    generator: str
    arg: str | None
    options: dict[str, str]
    domain: str = "bn"

    def number(self, key: str, default: float | int, kind: type = float) -> Any:
        """Option ``key`` as ``kind`` (int or float), ``default`` when absent."""
        return _num(self.text, key, self.options.get(key, str(default)), kind)

    def int_arg(self, what: str = "size") -> int:
        """The argument as an integer."""
        return _num(self.text, what, self.arg or "", int)

    def float_arg(self, what: str = "value") -> float:
        """The argument as a finite number."""
        return _num(self.text, what, self.arg or "", float)

    @property
    def strength(self) -> float:
        return self.number("strength", 1.0)

    def canonical(self, arg: str | None = None, *, keep: tuple[str, ...] | None = None) -> str:
        """``name:arg`` and the options given (in the generator's order): the spec a Kernel records."""
        order = GENERATORS[self.generator].options if keep is None else keep
        text = self.generator + (f":{self.arg if arg is None else arg}" if (arg or self.arg) else "")
        return text + "".join(f":{k}={self.options[k]}" for k in order if k in self.options)


def _num(spec: str, key: str, text: str, kind: type) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f"kernel spec {spec!r}: {key} must be {'an integer' if kind is int else 'a number'}, got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise ValueError(f"kernel spec {spec!r}: {key} must be finite, got {text!r}")
    return value


def parse_spec(spec: str) -> tuple[str, str | None, dict[str, str]]:
    """Split a spec into (generator, argument, options); raises ValueError naming what is valid."""
    if not isinstance(spec, str):
        raise TypeError(f"kernel spec must be a string, got {type(spec).__name__}")
    text = spec.strip()
    if not text:
        raise ValueError(f"kernel spec must not be empty; {spec_help()}")
    name, _, rest = text.partition(":")
    name = name.strip().lower()
    _load_plugins(name)
    gen = GENERATORS.get(name)
    if gen is None:
        raise ValueError(f"unknown kernel generator {name!r}; {spec_help()}")
    if gen.whole_arg:
        if not rest:
            raise ValueError(f"kernel spec {name + ':'!r} needs an argument: {gen.syntax}")
        return name, rest, {}
    parts = [p.strip() for p in rest.split(":")] if rest else []
    arg = None
    options: dict[str, str] = {}
    for i, part in enumerate(parts):
        if "=" in part:
            key, _, val = part.partition("=")
            key = key.strip().lower()
            if key not in gen.options:
                valid = ", ".join(gen.options) or "none"
                raise ValueError(f"kernel spec {spec!r}: unknown option {key!r} for {name} (valid options: {valid})")
            options[key] = val.strip()
        elif i == 0:
            arg = part
        else:
            raise ValueError(f"kernel spec {spec!r}: unexpected part {part!r}; options are written key=value")
    if gen.needs_arg and not arg:
        raise ValueError(f"kernel spec {spec!r}: {name} needs an argument: {gen.syntax}")
    if not gen.needs_arg and arg:
        raise ValueError(f"kernel spec {spec!r}: {name} takes no argument: {gen.syntax}")
    return name, arg, options


def make_kernel(spec: str, *, domain: str = "bn", allow_files: bool = True) -> Kernel:
    """Build a kernel from a spec string.

    Args:
        spec: ``NAME[:ARG][:key=value]...`` of a registered generator (see :data:`GENERATORS`).
        domain: ``"bn"`` (activations, batch-norm units) or ``"unit"`` (images in [0, 1]).
        allow_files: whether specs that read a file may (the app passes False: it never opens typed paths).

    Returns:
        The Kernel; its ``spec`` is the canonical form of ``spec``.

    Raises:
        ValueError: unknown generator or option, bad parameter, or an invalid kernel.

    Examples:
        >>> make_kernel("preset:design-2x2-a").values.tolist()
        [[0.631, 0.631], [0.3118, 0.9671]]
    """
    check_choice("domain", domain, ("bn", "unit"))
    name, arg, options = parse_spec(spec)
    gen = GENERATORS[name]
    if gen.reads_files and not allow_files:
        raise ValueError(f"{name}: kernel specs are not accepted here; upload the kernel file instead")
    return gen.build(ParsedSpec(spec.strip(), name, arg, options, domain))


def as_kernel(kernel: Any, *, domain: str = "bn") -> Kernel:
    """Accept a Kernel, a spec string, an array of values or a tensor, and return a Kernel."""
    if isinstance(kernel, Kernel):
        return kernel
    if isinstance(kernel, str):
        return make_kernel(kernel, domain=domain)
    if type(kernel).__module__.partition(".")[0] == "torch":  # a tensor, without importing torch for arrays
        kernel = kernel.detach().cpu().numpy()
    return Kernel(check_kernel_values(kernel), spec="custom", domain="raw", name="custom")


def spec_from_params(name: str, values: dict[str, Any]) -> str:
    """The spec a menu's settings make: ``name``, the argument written by the generator's ``arg_format``, and every
    option whose value differs from its default (so ``bayer:4`` rather than ``bayer:4:strength=1``).

    Examples:
        >>> spec_from_params("blue-noise", {"size": 16, "seed": 3, "sigma": 1.5, "strength": 0.5})
        'blue-noise:16:seed=3:strength=0.5'
    """
    gen = GENERATORS[name]
    v = {p.name: values.get(p.name, p.default) for p in gen.params}
    arg = gen.arg_format.format(**v) if gen.arg_format else ""
    opts = "".join(f":{p.name}={_text(v[p.name])}" for p in gen.params if p.option and v[p.name] != p.default)
    return name + (f":{arg}" if arg else "") + opts


def params_from_spec(spec: str) -> tuple[str, dict[str, Any]] | None:
    """The generator and menu settings that make ``spec`` (the inverse of :func:`spec_from_params`), or None when no
    menu setting does (a custom or file kernel, a size or option outside the menus' range)."""
    try:
        name, arg, options = parse_spec(spec)
    except (TypeError, ValueError):
        return None
    gen = GENERATORS[name]
    if not gen.params and name != "sign":
        return None
    values: dict[str, Any] = {}
    if gen.arg_format:
        pattern = "^" + re.sub(r"\\\{(\w+)\\\}", lambda m: f"(?P<{m.group(1)}>[^:]+?)", re.escape(gen.arg_format)) + "$"
        match = re.match(pattern, arg or "")
        if match is None:
            return None
        values.update(match.groupdict())
    values.update({k: v for k, v in options.items() if k in {p.name for p in gen.params}})
    out = {}
    for p in gen.params:
        raw = values.get(p.name, p.default)
        try:
            value = _typed(p, raw)
        except ValueError:
            return None
        if not p.accepts(value):
            return None
        out[p.name] = value
    return name, out


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _typed(p: Param, raw: Any) -> Any:
    if p.kind == "int" or (p.kind == "choice" and isinstance(p.default, int)):
        return int(raw)
    if p.kind == "float":
        return float(raw)
    return raw


def levels_spec(levels: Any) -> str:
    """The spec of a kernel given in the DeSign paper's levels (a search result), ``levels:a,b;c,d``.

    Examples:
        >>> levels_spec([[1, 1], [0, 3]])
        'levels:1,1;0,3'
    """
    return "levels:" + format_values(np.asarray(levels))


def list_specs() -> list[str]:
    """Example specs of every registered generator, for menus and help text."""
    return [s for g in GENERATORS.values() for s in g.examples]
