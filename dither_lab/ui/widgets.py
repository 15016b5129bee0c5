"""Widgets shared by the pages: image source, kernel choice, model choice, the kernel library panel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import streamlit as st

from dither_lab.imaging.samples import PHOTOS, SAMPLES
from dither_lab.io import library_bytes, read_library_bytes
from dither_lab.nn.models import PRETRAINED, available_pretrained, binary_layers
from dither_lab.ui import cached, state

UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "tif", "tiff", "gif"]


def image_input(key: str, *, mode: str = "gray", default_sample: str = "camera") -> tuple[np.ndarray, str]:
    """Sample or upload; returns (float image in [0, 1], a label). Bad uploads fall back to the sample with a message."""
    in_use = state.get(state.K_SAMPLE)
    c1, c2 = st.columns([1, 1])
    name = c1.selectbox("Sample image", list(SAMPLES), help="Test charts drawn by dither_lab, and photos that "
                        "scikit-image ships.", **bound(f"{key}_sample", in_use if in_use in SAMPLES else default_sample,
                                                       state.set_sample))
    state.set_sample(name)
    upload = c2.file_uploader("...or upload an image", type=UPLOAD_TYPES, key=f"{key}_upload",
                              help="PNG, JPEG, WebP, BMP, TIFF or GIF. Large photos are downscaled for computing.")
    if upload is not None:
        try:
            img, info = cached.decode_upload(upload.getvalue(), mode, upload.name)
        except ValueError as exc:
            st.error(f"{exc}. Showing the sample image instead.")
        else:
            for note in info["notes"]:
                st.info(note)
            return img, upload.name
    return cached.sample(name, mode), name


def bound(key: str, value: Any, on_pick: Callable[[Any], None]) -> dict[str, Any]:
    """Keyword arguments that make a widget a view of a value shared by the pages: it shows ``value`` (set before
    it is drawn, so neither another page's change nor a run that stopped before drawing it leaves it showing
    something else: a browser resets a widget a run did not draw to its default), and what the user picks goes
    through ``on_pick`` before the page runs. As with :func:`kept`, the value is set only where the widget does not
    hold it already (an overlapping rerun then never sets it back)."""
    if st.session_state.get(key) != value:
        st.session_state[key] = value
    return {"key": key, "on_change": lambda: on_pick(st.session_state[key])}


def kept(key: str, default: Any, *, fit: Callable[[Any], Any] | None = None) -> dict[str, Any]:
    """Keyword arguments for a widget whose value outlives the runs that do not draw it (a branch the page hides,
    another page): Streamlit forgets such a widget's value, and it came back at its default. ``fit`` turns a kept
    value into one the widget accepts now (a channel past the last of another layer, a layer of another model).

    The value is set only where the widget does not hold it already, so a run that an overlapping rerun replaced
    never sets a slider back while its arrow keys are pressed.
    """
    store = f"dl_kept_{key}"
    value = st.session_state.get(store, default)
    value = fit(value) if fit is not None else value
    if st.session_state.get(key) != value:
        st.session_state[key] = value
    return {"key": key, "on_change": lambda: st.session_state.__setitem__(store, st.session_state[key])}


def from_link(param: str, key: str, parse: Callable[[str], Any]) -> bool:
    """Apply a page's own link parameter (``?channel=29``) to a :func:`kept` widget before it is drawn, once per
    new value: ``parse`` turns the URL's text into the widget's value, or raises ValueError, which is said.
    Returns whether a value was applied."""
    text = state.link_param(param)
    if text is None:
        return False
    try:
        st.session_state[f"dl_kept_{key}"] = parse(text)
    except ValueError as exc:
        st.warning(f"The link's {param} was not used: {exc}")
        return False
    return True


def kernel_choice(label: str, key: str, *, help: str | None = None) -> list[tuple[str, str]]:
    """Pick kernels from the session library; returns [(name, spec)].

    The last kernel picked becomes the kernel in use (:func:`state.set_current_kernel`, in the URL too), so the
    next page opens with it. The page offers again what it picked before, with the kernel in use added when
    another page or a link changed it meanwhile.
    """
    ss = st.session_state
    spec = state.current_kernel()
    current = state.ensure_in_library(spec)
    lib = state.library()
    names = list(lib)
    picked, seen = ss.get(f"dl_picked_{key}", ([], None))
    shown = [n for n in picked if n in names]
    if seen != spec and current not in shown:
        shown.append(current)

    def pick(now: list[str]) -> None:
        if now:
            state.set_current_kernel(state.library()[now[-1]])
        ss[f"dl_picked_{key}"] = (now, state.current_kernel())

    chosen = st.multiselect(label, names, help=help or "Kernels of this session's library. Make more on the Kernel "
                            "designer page.", **bound(key, shown, pick))
    ss[f"dl_picked_{key}"] = (chosen, state.current_kernel())
    return [(n, lib[n]) for n in chosen]


def add_to_choice(key: str, spec: str) -> str:
    """Add the kernel of ``spec`` to the session library (under its library name, or its own name when new) and to
    what the :func:`kernel_choice` of ``key`` has picked, and make it the kernel in use; returns its name. A widget
    callback: it runs before the page draws the choice, which then shows the kernel.

    Raises:
        ValueError: ``spec`` makes no kernel (nothing is added).
    """
    from dither_lab.kernels import make_kernel

    make_kernel(spec, allow_files=False)
    name = state.ensure_in_library(spec)
    picked, _ = st.session_state.get(f"dl_picked_{key}", ([], None))
    picked = [n for n in picked if n != name] + [name]
    state.set_current_kernel(spec)
    st.session_state[f"dl_picked_{key}"] = (picked, spec)
    return name


def named_specs(kernels: list[tuple[str, str]]) -> tuple[tuple[str, ...], dict[str, str]]:
    """The specs of kernels picked as (name, spec), each once, and the name each goes by (the first picked; Sign by
    its library name), so a kernel has one name in every panel, table and download."""
    names: dict[str, str] = {}
    for name, spec in kernels:
        names.setdefault(spec, name)
    sign = state.names_by_spec().get("sign")
    return tuple(names), ({"sign": sign} if sign else {}) | names


def kernel_maker(prefix: str, choice_key: str) -> None:
    """Make a kernel in place and add it to the kernels compared by the :func:`kernel_choice` of ``choice_key``
    (and to the session library): the kernel builder shared with the kernel designer, offering every registered
    generator but Sign (always compared) and the constant kernel (a shifted Sign, whose threshold is given in
    batch-norm units; the designer offers it)."""
    from dither_lab.ui import generator

    offered = generator.menu_generators(exclude=("sign", "constant"))
    spec = generator.builder(prefix, offered=offered)
    c1, c2 = st.columns([1, 2], vertical_alignment="center")
    c1.button("Add to the comparison", key=f"{prefix}_add", type="primary", on_click=_add_made,
              args=(prefix, choice_key))
    c2.caption(f"Adds `{spec}` as **{state.name_for(spec)}** to the kernels compared and to the session library.")
    if (message := st.session_state.pop(f"{prefix}_msg", None)) is not None:
        getattr(st, message[0])(message[1])


def _add_made(prefix: str, choice_key: str) -> None:
    from dither_lab.ui import generator

    ss = st.session_state
    spec = generator.spec_of(ss, prefix)
    had = spec in state.library().values()
    compared = state.name_for(spec) in ss.get(f"dl_picked_{choice_key}", ([], None))[0]
    try:
        name = add_to_choice(choice_key, spec)
    except ValueError as exc:
        ss[f"{prefix}_msg"] = ("error", str(exc))
        return
    if compared:
        ss[f"{prefix}_msg"] = ("info", f"{name!r} is compared already.")
    else:
        where = "the comparison (the library had it already)" if had else "the comparison and the library"
        ss[f"{prefix}_msg"] = ("success", f"Added {name!r} to {where}.")


def viewing_choice(key: str) -> tuple[float, str]:
    """Pick the viewing condition of the eye-weighted metric: a named one (print, the default; screen) or a number
    of pixels per degree; returns (pixels per degree, the condition in words)."""
    from dither_lab.imaging.metrics import DEFAULT_VIEWING, VIEWING, describe_viewing

    options = [*VIEWING, "custom"]
    labels = {n: f"{n} ({v.pixels_per_inch:g} pixels/inch at {v.distance_cm:g} cm)" for n, v in VIEWING.items()}
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    choice = c1.radio(
        "Eye-weighted metric: how the image is seen", options, horizontal=True,
        format_func=lambda n: labels.get(n, "custom pixels per degree"), **kept(key, DEFAULT_VIEWING),
        help="The eye-weighted PSNR filters the error by the eye's contrast sensitivity, which depends on how many "
             "image pixels fall in one degree of vision. Print (the default): halftones are judged printed at 300 "
             "dpi and read from 30 cm, where the eye averages a dither's finest texture away. Screen: the image "
             "shown 1:1 on a 96-pixel-per-inch monitor from 50 cm, where the texture stays visible.")
    if choice == "custom":
        ppd = float(c2.number_input("Pixels per degree", min_value=1.0, max_value=1000.0, step=1.0, format="%.1f",
                                    **kept(f"{key}_ppd", VIEWING[DEFAULT_VIEWING].pixels_per_degree)))
    else:
        ppd = VIEWING[choice].pixels_per_degree
    return ppd, describe_viewing(ppd)


def output_metrics(rows: list[dict[str, Any]], metrics: list[str], *, mean: float, viewing: str,
                   spec: bool = True, output_help: str | None = None) -> None:
    """A table of binarized outputs (:func:`dither_lab.imaging.compare.metrics_table` rows) with the ``metrics``
    (keys of ``METRICS``) as columns: the output's name pinned, its spec shortened, headers with which way is better
    and a tooltip that says what each means (``output_help`` that of the name's column), the best value of each
    column marked (the share of 1s: nearest the input's ``mean``)."""
    from dither_lab.imaging.compare import METRIC_LABELS
    from dither_lab.imaging.metrics import METRICS

    labels = [METRIC_LABELS[k] for k in metrics]
    keep = ["output", *(["spec"] if spec else []), *labels]
    table = [{c: r[c] for c in keep} for r in rows]
    help = {METRIC_LABELS[k]: METRICS[k].help for k in metrics}
    if "csf_psnr" in metrics:
        help[METRIC_LABELS["csf_psnr"]] += f" Here: {viewing}."
    if "density" in metrics:
        help[METRIC_LABELS["density"]] += f" Best near the input's mean, {mean:.3f}."
    help["output"] = output_help or "The kernel's name in the session library (error diffusion: its method)."
    metric_table(table, help=help, better=metric_directions(table), targets={METRIC_LABELS["density"]: mean},
                 pinned=("output",), max_text=OUTPUT_TEXT)


#: How many characters of an output's name and spec the image lab's tables show before cutting them (so that the
#: tone-and-detail table fits a 1400-pixel window; the output's name says what the kernel is).
OUTPUT_TEXT = {"output": 30, "spec": 22}


def kernel_select(label: str, key: str, *, help: str | None = None) -> tuple[str, str]:
    """Pick one kernel from the session library, showing the kernel in use; returns (name, spec). The kernel
    picked becomes the kernel in use (in the URL too), so the next page opens with it."""
    current = state.ensure_in_library(state.current_kernel())
    lib = state.library()
    name = st.selectbox(label, list(lib), help=help or "Kernels of this session's library. Make more on the Kernel "
                        "designer page.", **bound(key, current, lambda n: state.set_current_kernel(state.library()[n])))
    return name, lib[name]


def photo_choice(container: Any, key: str, *, help: str | None = None) -> str:
    """Pick a sample photo in ``container``, showing the sample in use when it is a photo; returns its name."""
    in_use = state.get(state.K_SAMPLE)
    name = container.selectbox("Photo", list(PHOTOS), help=help,
                               **bound(key, in_use if in_use in PHOTOS else next(iter(PHOTOS)), state.set_sample))
    state.set_sample(name)
    return name


def layer_channels(model: Any) -> dict[str, int]:
    """The model's binary layers, in order, with their channel counts."""
    return {n: m.bn.num_features for n, m in binary_layers(model).items()}


def layer_titles(model_name: str) -> dict[str, str]:
    """Each binary layer of a shipped model named for people beside its index (from 0, as the CLI's --layers and
    Python count) and its module: ``"7 · stage 2, block 1, conv 2: 32 channels, 16x16 (features.7.act)"``."""
    return {n: f"{i} · {d} ({n})" for i, (n, d) in enumerate(cached.layer_descriptions(model_name).items())}


def cifar10_hint() -> str:
    """One line for a page that offers CIFAR-10 models without the test images: the one command that gets them,
    or where the archive goes."""
    from dither_lab.data import cifar10_locations, data_root

    if any(p.exists() for p in cifar10_locations()):
        return ""  # there but unreadable: the page says the reason instead
    return (f"No CIFAR-10 test images here: run `dither-lab data download cifar10`, or put `cifar10-jpg.tar.gz` in "
            f"`{data_root()}`, then reload.")


def model_choice(key: str) -> str | None:
    """Pick a shipped pretrained model; None (with a message) when none is installed."""
    names = available_pretrained()
    if not names:
        st.warning("No pretrained model is installed: the files listed in dither_lab/assets/MANIFEST.json are missing. "
                   "Restore them by reinstalling dither_lab, in a checkout with `git checkout -- dither_lab/assets`, or train them with scripts/train_pretrained.py.")
        return None
    wanted = state.get(state.K_MODEL)
    labels = {n: f"{PRETRAINED[n][1]} · trained with {'DeSign (paper 2x2)' if n.endswith('design') else 'Sign'}"
              for n in names}
    name = st.selectbox("Pretrained model", names, format_func=labels.get,
                        help="The same network and recipe trained twice: once with Sign, once with DeSign.",
                        **bound(key, wanted if wanted in names else names[0], state.set_model))
    state.set_model(name)
    return name


def loaded_model(key: str) -> tuple[str, Any, dict[str, Any]]:
    """Pick and load a pretrained model; stops the page with a clear message when it cannot be loaded."""
    name = model_choice(key)
    if name is None:
        st.stop()
    try:
        model, meta = cached.model(name)
    except ValueError as exc:
        show_error(exc)
        st.stop()
    return name, model, meta


def library_panel() -> None:
    """The session's kernel library (for the sidebar): what it holds, a download to keep it, an upload to restore it.

    The library lives in the browser tab's session, which a reload or a closed tab ends; the download is how a
    user keeps what they saved. A loaded library adds its kernels (a name already taken by another kernel gets a
    number), so nothing in the session is replaced. It runs before the page, so the page offers loaded kernels at
    once; pages that save a kernel rerun (:func:`state.save_kernel`) so that the list shows it.
    """
    state.init()
    with st.expander("Kernel library", icon=":material/inventory_2:"):
        listing = st.container()  # drawn above the upload, filled after it so a loaded library shows at once
        up = st.file_uploader("Load a library (.json)", type=["json"], key="lib_upload",
                              help="A file downloaded above, from this or another session. Its kernels are added.")
        if up is not None:
            try:
                incoming = read_library_bytes(up.getvalue(), source=up.name)
            except ValueError as exc:
                show_error(exc)
            else:
                for name, spec in incoming.items():  # adding the same name and spec again changes nothing
                    state.add_to_library(name, spec)
                st.caption(f"The {len(incoming)} kernels of {up.name} are in the library.")
        lib = state.library()
        listing.markdown("\n".join(f"- **{n}**: `{s if len(s) <= 40 else s[:37] + '...'}`" for n, s in lib.items()))
        listing.download_button(f"Download the library ({len(lib)} kernels)", library_bytes(lib),
                                file_name="dither_lab_library.json", mime="application/json", key="lib_download",
                                icon=":material/download:")
        listing.caption("Kernels saved here serve every page, until this tab reloads or closes: download the "
                        "library to keep them.")


def link_warnings() -> None:
    """Say, once, which parameters of the link that opened the page were not used, and why."""
    for message in state.url_errors():
        st.warning(message)


def show_error(exc: Exception) -> None:
    st.error(str(exc))


MISSING = "–"  # what a table shows where nothing was measured (rather than the word None)


def cifar10_missing(exc: ValueError) -> str:
    """Why the CIFAR-10 test images could not be read, and what to do, said for the app's user."""
    from dither_lab.data import cifar10_locations, data_root

    if any(p.exists() for p in cifar10_locations()):  # there but unreadable: the reason is the message
        return str(exc)
    return (f"the CIFAR-10 test images are not shipped, and none are in the data folder `{data_root()}` (set "
            "`DITHER_LAB_DATA` before starting the app to use another). Put there `cifar-10-batches-py/` (the "
            "official python version), a `cifar10/` folder of `train/<class>/` and `test/<class>/` images, or "
            "`cifar10-jpg.tar.gz` (such a tree packed), or run `python -m dither_lab data download cifar10`; then "
            "reload the page")


def decimal_places(values: list[float], most: int = 4) -> int:
    """The decimal places of the longest of ``values`` written to at most ``most`` places (92.7, 88.54: 2)."""
    return max((len(f"{v:.{most}f}".rstrip("0").split(".")[1]) for v in values if np.isfinite(v)), default=0)


def text_width(texts: list[str], *, most: int = 360) -> int:
    """Pixels a table column needs for the longest of ``texts`` (about 6.2 px a character, and padding)."""
    return min(most, int(6.2 * max(map(len, texts))) + 22)


#: Background of the best value of a column (a light green that keeps dark text readable in both themes).
BEST_COLOR = "rgba(46, 160, 67, 0.22)"
#: Text columns longer than this are shortened in the table (the whole text shows on hover).
MAX_TEXT = 36


def metric_table(rows: list[dict[str, Any]], *, help: dict[str, str] | None = None,
                 better: dict[str, str] | None = None, targets: dict[str, float] | None = None,
                 pinned: tuple[str, ...] = (), max_text: int | dict[str, int] = MAX_TEXT,
                 row_best: tuple[tuple[tuple[str, ...], str], ...] = ()) -> None:
    """Rows as a table: whole-number columns with values of 1,000 or more get thousands separators, a column of
    decimals writes each with as many places as its longest (up to 4); ``help`` gives columns a tooltip on their
    header (so a short header can say all it means).

    Args:
        better: column -> which way is better (a :class:`dither_lab.imaging.metrics.MetricInfo` direction: higher,
            lower, near 1, near 0, near the input's mean); the best value of each such column is marked green
            (with every value that ties with it).
        targets: column -> the value a "near the input's mean" column is best at.
        pinned: columns kept in view when the table scrolls sideways (the row's name).
        max_text: text columns are as wide as their longest text up to this many characters (longer texts are cut
            at the column's edge); a dict gives it per column (others: ``MAX_TEXT``).
        row_best: ``(columns, direction)`` pairs: in each row, the best of those columns is marked green (a row
            that compares outputs side by side, as Sign against a kernel in one layer).
    """
    import pandas as pd

    from dither_lab.imaging.metrics import best_indices

    config = {}
    help = help or {}
    for col in dict.fromkeys(k for r in rows for k in r):
        vals = [r.get(col) for r in rows if r.get(col) is not None]
        pin = {"pinned": True} if col in pinned else {}
        if vals and all(isinstance(v, int) and not isinstance(v, bool) for v in vals) and max(map(abs, vals)) >= 1_000:
            config[col] = st.column_config.NumberColumn(format="localized", help=help.get(col), **pin)
        elif vals and all(isinstance(v, float) for v in vals):  # one number of decimals down a column: 92.70, 88.54
            config[col] = st.column_config.NumberColumn(format=f"%.{decimal_places(vals)}f", help=help.get(col), **pin)
        elif vals and all(isinstance(v, str) for v in vals):
            # wide enough for its longest text (up to MAX_TEXT characters; longer ones are shortened, whole on hover)
            most = max_text.get(col, MAX_TEXT) if isinstance(max_text, dict) else max_text
            config[col] = st.column_config.TextColumn(width=text_width([col, *(v[:most] for v in vals)]),
                                                      help=help.get(col), **pin)
        elif col in help or pin:
            config[col] = st.column_config.Column(help=help.get(col), **pin)
    frame = pd.DataFrame(rows)
    data: Any = frame
    def bests(values: list[float | None], direction: str, target: float | None = None) -> list[int]:
        """Every place as good as the best (ties by the direction's score: 0.95 and 1.05 for "near 1"); none when
        all values are one (a lone value, or a tie of all, is no best)."""
        found = best_indices(values, direction, target=target)
        return [] if len(found) == len([v for v in values if v is not None and np.isfinite(v)]) else found

    cells = set()
    for col, direction in (better or {}).items():
        if col in frame:
            values = [None if pd.isna(v) else float(v) for v in frame[col]]
            cells |= {(i, col) for i in bests(values, direction, (targets or {}).get(col))}
    for cols, direction in row_best:
        cols = tuple(c for c in cols if c in frame)
        for i in range(len(frame)) if len(cols) > 1 else ():
            values = [None if pd.isna(frame.at[i, c]) else float(frame.at[i, c]) for c in cols]
            cells |= {(i, cols[j]) for j in bests(values, direction)}
    if cells:
        def style(column: pd.Series) -> list[str]:
            return [f"background-color: {BEST_COLOR}" if (j, column.name) in cells else "" for j in range(len(column))]

        data = frame.style.apply(style, axis=0)
    st.dataframe(data, hide_index=True, width="stretch", height="content", placeholder=MISSING,
                 column_config=config or None)  # every row shown: the tables are short, a scrolled one hid rows


def metric_directions(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Which way is better for every column of ``rows`` named by a metric's table label (``METRIC_LABELS``)."""
    from dither_lab.imaging.compare import METRIC_LABELS
    from dither_lab.imaging.metrics import METRICS

    by_label = {label: METRICS[k].better for k, label in METRIC_LABELS.items()}
    return {c: by_label[c] for c in (rows[0] if rows else {}) if c in by_label}


def download_name(label: str, extension: str) -> str:
    """A file name for a download named ``label`` (the kernel's name): lowercase words joined by '-'.

    Examples:
        >>> download_name("DeSign 2x2 (paper)", "png")
        'design-2x2-paper.png'
    """
    import re

    stem = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    return f"{stem or 'output'}.{extension}"
