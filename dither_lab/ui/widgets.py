"""Widgets shared by the pages: image source, kernel choice, model choice, the kernel library panel."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from dither_lab.imaging.samples import SAMPLES
from dither_lab.io import library_bytes, read_library_bytes
from dither_lab.nn.models import PRETRAINED, available_pretrained
from dither_lab.ui import cached, state

UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "tif", "tiff", "gif"]


def image_input(key: str, *, mode: str = "gray", default_sample: str = "camera") -> tuple[np.ndarray, str]:
    """Sample or upload; returns (float image in [0, 1], a label). Bad uploads fall back to the sample with a message."""
    ss_sample = state.get(state.K_SAMPLE)
    samples = list(SAMPLES)
    default = ss_sample if ss_sample in samples else default_sample
    c1, c2 = st.columns([1, 1])
    name = c1.selectbox("Sample image", samples, index=samples.index(default), key=f"{key}_sample",
                        help="Test charts drawn by dither_lab, and photos that scikit-image ships.")
    st.session_state[state.K_SAMPLE] = name
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


def kernel_choice(label: str, key: str, *, default: list[str] | None = None, help: str | None = None) -> list[tuple[str, str]]:
    """Pick kernels from the session library; returns [(name, spec)]."""
    if default is None:  # the current kernel, which the library holds (state keeps it there)
        default = [state.ensure_in_library(state.current_kernel())]
    lib = state.library()
    names = list(lib)
    picked = st.multiselect(label, names, default=[d for d in default if d in names], key=key,
                            help=help or "Kernels of this session's library. Make more on the Kernel designer page.")
    return [(n, lib[n]) for n in picked]


def model_choice(key: str) -> str | None:
    """Pick a shipped pretrained model; None (with a message) when none is installed."""
    names = available_pretrained()
    if not names:
        st.warning("No pretrained model is installed: the files listed in dither_lab/assets/MANIFEST.json are missing. "
                   "Restore them by reinstalling dither_lab, in a checkout with `git checkout -- dither_lab/assets`, or train them with scripts/train_pretrained.py.")
        return None
    wanted = state.get(state.K_MODEL)
    index = names.index(wanted) if wanted in names else 0
    labels = {n: f"{PRETRAINED[n][1]} · trained with {'DeSign (paper 2x2)' if n.endswith('design') else 'Sign'}"
              for n in names}
    name = st.selectbox("Pretrained model", names, index=index, key=key, format_func=labels.get,
                        help="The same network and recipe trained twice: once with Sign, once with DeSign.")
    st.session_state[state.K_MODEL] = name
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


def metric_table(rows: list[dict[str, Any]], *, help: dict[str, str] | None = None) -> None:
    """Rows as a table: whole-number columns with values of 1,000 or more get thousands separators, a column of
    decimals writes each with as many places as its longest (up to 4); ``help`` gives columns a tooltip on their
    header (so a short header can say all it means)."""
    config = {}
    help = help or {}
    for col in dict.fromkeys(k for r in rows for k in r):
        vals = [r.get(col) for r in rows if r.get(col) is not None]
        if vals and all(isinstance(v, int) and not isinstance(v, bool) for v in vals) and max(map(abs, vals)) >= 1_000:
            config[col] = st.column_config.NumberColumn(format="localized", help=help.get(col))
        elif vals and all(isinstance(v, float) for v in vals):  # one number of decimals down a column: 92.70, 88.54
            config[col] = st.column_config.NumberColumn(format=f"%.{decimal_places(vals)}f", help=help.get(col))
        elif vals and all(isinstance(v, str) for v in vals):
            # wide enough for its longest text: a table that grew kept the widths of its first rows
            config[col] = st.column_config.TextColumn(width=text_width([col, *vals]), help=help.get(col))
        elif col in help:
            config[col] = st.column_config.Column(help=help[col])
    st.dataframe(rows, hide_index=True, width="stretch", height="content", placeholder=MISSING,
                 column_config=config or None)  # every row shown: the tables are short, a scrolled one hid rows


def resize_grid(values: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """A (F, m, n) kernel grid grown or cut to ``shape``: kept entries stay where they were, new ones are 0."""
    out = np.zeros(shape)
    f, m, n = (min(a, b) for a, b in zip(values.shape, shape, strict=True))
    out[:f, :m, :n] = values[:f, :m, :n]
    return out
