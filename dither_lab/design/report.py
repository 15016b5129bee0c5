"""What a kernel search's numbers show, in words: the winner, where the paper's kernels rank, and the degenerate
winners to beware of (a constant kernel, which is Sign moved; a checkerboard of levels 0 and 9, which draws the
same pattern whatever the image).

Examples:
    >>> is_constant([[5, 5], [5, 5]]), is_constant([[1, 1], [0, 3]])
    (True, False)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dither_lab.design import OBJECTIVE_LABELS
from dither_lab.kernels.levels import LEVEL_TO_BN


def is_constant(levels: Any) -> bool:
    """Whether every entry of a kernel (levels or thresholds) is the same: a shifted Sign, not a dither."""
    a = np.asarray(levels)
    return bool(a.size and np.all(a == a.flat[0]))


def _fixed_pattern(levels: Any) -> bool:
    """Only levels 0 (fires at every response) and 9 (only at the largest), both present: the same pattern
    whatever the image."""
    used = set(np.unique(np.asarray(levels)).tolist())
    return used == {0, 9}


def _levels(levels: Any) -> str:
    return str(np.asarray(levels).tolist())


def _score(x: float) -> str:
    return f"{x:.4g}"


def _constant_note(levels: Any) -> str:
    level = int(np.asarray(levels).flat[0])
    return (f"every entry is level {level} (threshold {LEVEL_TO_BN[level]:.2f} in batch-norm units), which is Sign "
            "moved, not a dither")


def search_takeaway(result: dict[str, Any]) -> str:
    """Two or three sentences computed from a search result (:func:`dither_lab.design.search`,
    :func:`~dither_lab.design.local_search` or :func:`~dither_lab.design.search_3d`): the best kernel and its score,
    where the paper's kernels of that size rank, and whether the winner is degenerate.

    Examples:
        >>> res = {"size": [2, 2], "objective": "tv_match", "maximize": False, "count": 1296,
        ...        "best": [{"levels": [[5, 5], [5, 5]], "score": 0.0031, "rank": 1},
        ...                 {"levels": [[5, 5], [3, 5]], "score": 0.0042, "rank": 2}],
        ...        "presets": {"design-2x2-a": {"levels": [[1, 1], [0, 3]], "score": 0.37, "rank": 135}}}
        >>> print(search_takeaway(res))  # doctest: +NORMALIZE_WHITESPACE
        By TV matched to the response (lower is better), the best of all 1,296 2x2 kernels is [[5, 5], [5, 5]]
        (score 0.0031). It is constant: every entry is level 5 (threshold 1.34 in batch-norm units), which is Sign
        moved, not a dither; the best kernel that varies is [[5, 5], [3, 5]] (rank 2, score 0.0042). The paper's
        kernels of this size rank: design-2x2-a 135th (score 0.37).
    """
    objective = OBJECTIVE_LABELS.get(result["objective"], result["objective"])
    how = f"By {objective} ({'higher' if result['maximize'] else 'lower'} is better)"
    if "slices" in result:  # a channel-cycled 3-D kernel: one search per slice
        parts = [f"slice {s['slice']} {_levels(s['levels'])} (score {_score(s['score'])})" for s in result["slices"]]
        text = f"{how}, each slice is the best for its own channels: {'; '.join(parts)}."
        flat = [s["slice"] for s in result["slices"] if is_constant(s["levels"])]
        if flat:
            text += (f" Slice{'s' if len(flat) > 1 else ''} {', '.join(map(str, flat))} "
                     f"{'are' if len(flat) > 1 else 'is'} constant: Sign moved, not a dither, on those channels.")
        return text
    m, n = result["size"]
    best = result["best"][0]
    if "count" in result:
        text = f"{how}, the best of all {result['count']:,} {m}x{n} kernels is {_levels(best['levels'])} " \
               f"(score {_score(best['score'])})."
    else:
        scores = [r["score"] for r in result.get("starts", [])]
        text = (f"{how}, a local search from {len(scores)} starts found {_levels(best['levels'])} (score "
                f"{_score(best['score'])}), a local optimum")
        text += (f"; the starts ended at scores from {_score(min(scores))} to {_score(max(scores))}." if scores else ".")
    if is_constant(best["levels"]):
        text += f" It is constant: {_constant_note(best['levels'])}"
        varying = best_varying(result)
        if varying is not None and "rank" in varying:
            text += (f"; the best kernel that varies is {_levels(varying['levels'])} (rank {varying['rank']:,}, "
                     f"score {_score(varying['score'])}).")
        elif "count" in result:
            text += f"; the best {len(result['best'])} are all constant."
        else:
            text += "."
    elif _fixed_pattern(best["levels"]):
        text += (" It uses only level 0, which fires at every response, and level 9, which fires only at the largest: "
                 "it draws the same pattern whatever the image (why the paper's TV alone is a poor objective).")
    presets = result.get("presets")
    if presets:
        ranked = sorted(presets.items(), key=lambda p: p[1]["rank"])
        text += " The paper's kernels of this size rank: " + ", ".join(
            f"{name} {_ordinal(e['rank'])} (score {_score(e['score'])})" for name, e in ranked) + "."
    elif "count" in result:
        text += f" The paper released no {m}x{n} kernel to compare with."
    return text


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k:,}{suffix}"


def best_varying(result: dict[str, Any]) -> dict[str, Any] | None:
    """The best entry of an exhaustive search whose entries are not all equal (a dither, not a shifted Sign), among
    the ``best`` it reports; None when they are all constant."""
    return next((e for e in result["best"] if not is_constant(e["levels"])), None)


def _note(levels: Any) -> str:
    if is_constant(levels):
        return "constant: Sign moved"
    if _fixed_pattern(levels):
        return "levels 0 and 9 only: a fixed pattern"
    return ""


def search_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Table rows of a search past the exhaustive range: one per slice of a 3-D kernel (its channels, levels, score
    and search), or one per start of a local search (its local optimum, score and sweeps); the score's header says
    which way is better."""
    score = f"score {'↑' if result['maximize'] else '↓'}"
    if "slices" in result:
        return [{"slice": s["slice"], "channels": str(s["channels"]), "levels": str(s["levels"]), score: s["score"],
                 "search": s["method"]} for s in result["slices"]]
    return [{"start": i, "local optimum": str(r["levels"]), score: r["score"], "sweeps": r["sweeps"]}
            for i, r in enumerate(result.get("starts", []))]


def ranking_rows(result: dict[str, Any], *, top: int = 5) -> list[dict[str, Any]]:
    """Table rows of an exhaustive search: the ``top`` best, the best kernel that varies when those are all
    constant, and the paper's kernels of the searched size, each with its levels, rank, score (the header says which
    way is better) and a note on degenerate kernels (a column left out when none is).

    Examples:
        >>> res = {"maximize": False, "best": [{"levels": [[5, 5], [5, 5]], "score": 0.0031, "rank": 1}],
        ...        "presets": {"design-2x2-a": {"levels": [[1, 1], [0, 3]], "score": 0.37, "rank": 135}}}
        >>> [(r["kernel"], r["note"]) for r in ranking_rows(res)]
        [('best #1', 'constant: Sign moved'), ('design-2x2-a (paper)', '')]
        >>> res["best"][0]["levels"] = [[5, 9], [7, 1]]
        >>> "note" in ranking_rows(res)[0]
        False
    """
    score = f"score {'↑' if result['maximize'] else '↓'}"

    def row(kernel: str, e: dict[str, Any]) -> dict[str, Any]:
        return {"kernel": kernel, "levels": _levels(e["levels"]), "rank ↓": e["rank"], score: e["score"],
                "note": _note(e["levels"])}

    rows = [row(f"best #{e['rank']}", e) for e in result["best"][:top]]
    varying = best_varying(result)
    if varying is not None and varying["rank"] > top:
        rows.append(row("best that varies", varying))
    rows += [row(f"{name} (paper)", e) for name, e in sorted(result.get("presets", {}).items(),
                                                             key=lambda p: p[1]["rank"])]
    if not any(r["note"] for r in rows):  # no degenerate kernel: no empty column
        rows = [{k: v for k, v in r.items() if k != "note"} for r in rows]
    return rows


def compared_kernels(result: dict[str, Any]) -> list[tuple[str, list]]:
    """(title, levels) of the kernels to draw beside a search's winner: the winner, the best kernel that varies when
    the winner is constant, and the paper's kernels of the searched size."""
    best = result["best"][0]
    out = [(f"best: {_levels(best['levels'])}", best["levels"])]
    varying = best_varying(result) if is_constant(best["levels"]) else None
    if varying is not None:
        out.append((f"best that varies (rank {varying['rank']:,})", varying["levels"]))
    out += [(f"{name} (paper)", e["levels"]) for name, e in sorted(result.get("presets", {}).items())]
    return out


def result_kernel(result: dict[str, Any]) -> tuple[str, str, list]:
    """A search's winning kernel: its ``levels:`` spec, a short name for the library (``best tv_match 3x3``) and the
    levels of its first slice (the whole kernel when it is 2-D), for drawing.

    Examples:
        >>> result_kernel({"objective": "tv", "best": [{"levels": [[0, 9], [9, 0]]}]})
        ('levels:0,9;9,0', 'best tv 2x2', [[0, 9], [9, 0]])
    """
    from dither_lab.kernels import levels_spec

    levels = np.asarray(result["levels"] if "slices" in result else result["best"][0]["levels"])
    first = levels[0] if levels.ndim == 3 else levels
    return levels_spec(levels), f"best {result['objective']} {'x'.join(map(str, levels.shape))}", first.tolist()
