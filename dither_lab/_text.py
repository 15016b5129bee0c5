"""Small helpers that write numbers and lists the way every sentence and table of dither_lab writes them."""

from __future__ import annotations

from collections.abc import Sequence


def and_list(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``.

    Examples:
        >>> and_list(["Bayer 4x4"]), and_list(["a", "b", "c"])
        ('Bayer 4x4', 'a, b and c')
    """
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def percent(fraction: float | None) -> float | None:
    """A fraction as a percentage to two places, for a table (None stays None: nothing measured).

    Examples:
        >>> percent(0.92765), percent(None)
        (92.77, None)
    """
    return None if fraction is None else round(100 * fraction, 2)


def trained_with_header(epochs: Sequence[int]) -> str:
    """The header of a column of accuracies of networks trained with each kernel (in percent, higher is better):
    their epochs where they agree, so a shorter run says it is one."""
    return f"trained with it ({epochs[0]} epochs, %) ↑" if len(epochs) == 1 else "trained with it (%) ↑"
