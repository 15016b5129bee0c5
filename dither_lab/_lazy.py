"""Package ``__init__`` modules that import their submodules on first use (PEP 562).

A package lists its public names and the submodule of each; ``import dither_lab.design`` then costs nothing until
a name is used, so the command line can read a package's constants without importing NumPy, SciPy or PyTorch.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str], namespace: dict[str, Any]) -> tuple[
        Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package`` whose name ``n`` lives in submodule ``exports[n]``.

    Args:
        package: the package's ``__name__``.
        exports: public name -> submodule name (relative, e.g. ``"exhaustive"``).
        namespace: the package's ``globals()``; a name, once imported, is stored there.
    """

    def __getattr__(name: str) -> Any:
        sub = exports.get(name)
        if sub is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{sub}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
