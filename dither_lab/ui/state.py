"""One session-state scheme for every page: the current kernel, the session's kernel library, the model.

Keys live under the ``dl_`` prefix. A kernel spec, a sample and a model can arrive in the URL
(``?kernel=bayer:8&sample=zone-plate&model=fashion-mnist-design``) and are applied once per new value, so a
link opens a page preset. The values in use are written back to the URL on every run (the sidebar's navigation
drops the query string), so the view can be shared and a reload keeps it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from dither_lab.kernels import Kernel, make_kernel

DEFAULT_LIBRARY: dict[str, str] = {
    "Sign": "sign",
    "Bayer 4x4": "bayer:4",
    "Blue noise 64": "blue-noise:64",
    "Cluster-dot 4x4": "cluster-dot:4",
    "DeSign 2x2 (paper)": "preset:design-2x2-a",
    "DeSign 3x3 (paper)": "preset:design-3x3-a",
}
DEFAULT_KERNEL = "bayer:4"
K_KERNEL, K_LIBRARY, K_MODEL, K_SAMPLE = "dl_kernel", "dl_library", "dl_model", "dl_sample"
URL_KEYS = {"kernel": K_KERNEL, "sample": K_SAMPLE, "model": K_MODEL}


def init() -> None:
    """Create the shared keys, apply URL parameters that are new since the last run, and keep the kernel, sample
    and model in use in the URL (the sidebar's page navigation drops the query string)."""
    ss = st.session_state
    ss.setdefault(K_LIBRARY, dict(DEFAULT_LIBRARY))
    ss.setdefault(K_KERNEL, DEFAULT_KERNEL)
    for param, key in URL_KEYS.items():
        value = st.query_params.get(param)
        if value and ss.get(f"dl_url_{param}") != value:
            ss[f"dl_url_{param}"] = value
            if (problem := _url_problem(param, value)) is not None:
                ss.setdefault("dl_url_errors", []).append(f"The link's {param} was not used: {problem}")
                if ss.get(key) is None:  # nothing in use to show in its place: the URL drops it
                    del st.query_params[param]
            else:
                if param == "kernel":
                    ensure_in_library(value)
                ss[key] = value
        _to_url(param, ss.get(key))


def _url_problem(param: str, value: str) -> str | None:
    """Why a URL parameter cannot be used, or None."""
    if param == "kernel":
        try:
            make_kernel(value, allow_files=False)
        except ValueError as exc:
            return str(exc)
        return None
    if param == "sample":
        from dither_lab.imaging.samples import SAMPLES

        valid = SAMPLES
    else:
        from dither_lab.nn.models import available_pretrained

        valid = tuple(available_pretrained())
    if value in valid:
        return None
    return f"{value!r} is not one of the {param}s; valid {param}s: {', '.join(valid) or 'none (none is installed)'}."


def _to_url(param: str, value: str | None) -> None:
    """Put a value in use in the URL (only when it is not there: each write is a message to the browser)."""
    if value is not None and st.query_params.get(param) != value:
        st.query_params[param] = value
    if value is not None:
        st.session_state[f"dl_url_{param}"] = value  # in the URL by now: not a new link value on the next run


def link_param(param: str) -> str | None:
    """A page's own link parameter (Feature maps' ``layer``, ``channel``, ``index``): its value when the URL
    brings a new one, once; else None.

    The page never writes these into the URL (a rerun that arrows on a slider fires carries the URL the browser
    had, which would set the slider back); :func:`leave_link` takes one out once the view differs from it, and
    a run without it forgets it, so the same link followed again applies again.
    """
    value = st.query_params.get(param)
    if not value:
        st.session_state.pop(f"dl_url_{param}", None)
        return None
    if st.session_state.get(f"dl_url_{param}") != value:
        st.session_state[f"dl_url_{param}"] = value
        return value
    return None


def leave_link(param: str, value: str | None, *, same: Any = None) -> None:
    """Take a page's own link parameter out of the URL once the page shows something else (``value``, as the
    parameter would give it; ``same`` tells whether the URL's text names it, by default equality), so the URL
    never names a view the page has left."""
    text = st.query_params.get(param)
    if text and not (same(text, value) if same is not None else text == value):
        del st.query_params[param]


def url_errors() -> list[str]:
    """Messages about bad URL parameters, each shown once."""
    return st.session_state.pop("dl_url_errors", [])


def current_kernel() -> str:
    return st.session_state[K_KERNEL]


def set_current_kernel(spec: str) -> None:
    """Make ``spec`` the shared current kernel (in the library too) and put it in the URL."""
    ensure_in_library(spec)
    st.session_state[K_KERNEL] = spec
    _to_url("kernel", spec)


def set_sample(name: str) -> None:
    """Make ``name`` the sample image in use, and put it in the URL."""
    st.session_state[K_SAMPLE] = name
    _to_url("sample", name)


def set_model(name: str) -> None:
    """Make ``name`` the pretrained model in use, and put it in the URL."""
    st.session_state[K_MODEL] = name
    _to_url("model", name)


def library() -> dict[str, str]:
    """The session's kernel library: name -> spec."""
    return st.session_state[K_LIBRARY]


def add_to_library(name: str, spec: str) -> str:
    """Add a kernel under ``name`` (made unique, never overwriting another); returns the name used."""
    lib = library()
    base, i = name.strip() or "kernel", 2
    final = base
    while final in lib and lib[final] != spec:
        final = f"{base} ({i})"
        i += 1
    lib[final] = spec
    return final


def names_by_spec() -> dict[str, str]:
    """Each spec of the library under the first name it has there (the name every page gives it)."""
    names: dict[str, str] = {}
    for name, spec in library().items():
        names.setdefault(spec, name)
    return names


def name_for(spec: str) -> str:
    """The name ``spec`` has in the library (:func:`names_by_spec`), else the name :func:`ensure_in_library` would
    add it under (the kernel's own name, or "current kernel"; a name another kernel holds gets a number when added)."""
    if (name := names_by_spec().get(spec)) is not None:
        return name
    try:
        own = make_kernel(spec, allow_files=False).name
    except ValueError:
        own = "current kernel"
    return own if own not in ("custom", "levels") else "current kernel"


def ensure_in_library(spec: str) -> str:
    """The library's name for ``spec``, adding it under the kernel's own name (or "current kernel") if missing."""
    name = name_for(spec)
    return name if library().get(name) == spec else add_to_library(name, spec)


def save_kernel(name: str, spec: str, *, page: str) -> None:
    """Add a kernel to the library and rerun, so that the sidebar (drawn before the page) lists it too;
    :func:`saved` then gives the page the name it was saved under, once."""
    st.session_state[f"dl_saved_{page}"] = add_to_library(name, spec)
    st.session_state[f"dl_used_name_{page}"] = name  # a name typed and used: the next kernel may offer its own
    st.rerun()


def saved(page: str) -> str | None:
    """The name :func:`save_kernel` saved a kernel under on ``page`` in the run before, once."""
    return st.session_state.pop(f"dl_saved_{page}", None)


def get(key: str, default: Any = None) -> Any:
    return st.session_state.get(key, default)


K_DESIGNER = "dl_designer"


def keep_unsaved(name: str, spec: str) -> str | None:
    """Keep a kernel the user made but did not save (it is about to be replaced): add it under ``name`` unless the
    library already holds it; returns the name it was kept under, or None."""
    return None if spec in library().values() else add_to_library(name, spec)


def designer_spec(work: dict[str, Any]) -> str:
    """The spec of what the kernel designer's grid holds: the loaded kernel's, or ``custom:...`` once edited."""
    from dither_lab.kernels import format_values

    return work["spec"] if work["spec"] != "custom" else "custom:" + format_values(work["values"])


def mark_designer_edited() -> None:
    """The designer's grid no longer holds the kernel it was loaded with: its spec becomes custom, and at the first
    edit its name says so ("Bayer 4x4 (edited)")."""
    ss = st.session_state
    work = ss[K_DESIGNER]
    if work["spec"] != "custom":
        field = name_field_key()
        # offer the new name unless the user typed one of their own that is not used yet
        if ss.get(field, work["name"]) in (work["name"], ss.get("dl_used_name_designer")):
            ss[field] = f"{work['name']} (edited)"
        work["name"] = f"{work['name']} (edited)"
        work["spec"] = "custom"


def name_field_key() -> str:
    """The key of the designer's name field: one field for each kernel loaded (it starts at that kernel's name;
    what the user types in it stays, through edits of the grid)."""
    return f"des_name_{st.session_state.get('des_editor_version', 0)}"


def resize_designer(shape: tuple[int, int, int]) -> np.ndarray:
    """Grow or cut the designer's grid to ``shape`` (F, m, n), keeping the entries that stay (new ones are 0); a
    change of shape is an edit. Returns the grid."""
    from dither_lab.kernels import resize_grid

    work = st.session_state[K_DESIGNER]
    if work["values"].shape != tuple(shape):
        work["values"] = resize_grid(work["values"], tuple(shape))
        mark_designer_edited()
    return work["values"]


def edit_designer(slice_index: int, edited: Any) -> tuple[Kernel, str | None]:
    """Put the edited cells of one slice into the designer's grid; returns (the kernel to preview, why the edit is
    not a valid kernel or None). An invalid edit (an empty or non-numeric cell) leaves the grid's kernel as it was
    and the preview on the last valid kernel; the grid widget keeps what the user typed."""
    from dither_lab.kernels import grid_kernel

    ss = st.session_state
    work = ss[K_DESIGNER]
    values = work["values"]
    candidate = values.copy()
    try:
        candidate[slice_index] = np.asarray(edited, dtype=float)
        kernel = grid_kernel(candidate, name=work["name"])
    except (ValueError, TypeError) as exc:
        last = ss.get("dl_designer_valid") or Kernel(values[0] if values.shape[0] == 1 else values)
        return last, str(exc)
    if not np.array_equal(candidate, values):
        work["values"] = candidate
        mark_designer_edited()
        kernel = grid_kernel(candidate, name=work["name"])
    ss["dl_designer_valid"] = kernel
    return kernel, None


def load_into_designer(kernel: Kernel, name: str | None = None) -> None:
    """Put a kernel into the kernel designer's grid (held as (F, m, n)) and start a fresh editor for it.

    A grid the user edited and did not save is kept in the library first (under its name), so loading another
    kernel never loses it; :func:`kept_edit` says so once.
    """
    ss = st.session_state
    old = ss.get(K_DESIGNER)
    if old is not None and old["spec"] == "custom" and (kept := keep_unsaved(old["name"], designer_spec(old))):
        ss["dl_kept_edit"] = kept
    ss[K_DESIGNER] = {"values": np.array(kernel.values if kernel.is_3d else kernel.values[None]), "spec": kernel.spec,
                      "name": name or kernel.name}
    ss["des_editor_version"] = ss.get("des_editor_version", 0) + 1


def load_spec(spec: str, name: str | None = None, *, source: str) -> None:
    """Load the kernel of ``spec`` into the designer's grid (a widget callback: it runs before the page, so the page
    draws the editor and the generator panel for it); a bad spec leaves the grid as it was, and
    :func:`designer_message` gives ``source``'s widgets the reason, once."""
    try:
        kernel = make_kernel(spec, allow_files=False)
    except ValueError as exc:
        st.session_state[f"dl_designer_msg_{source}"] = ("error", str(exc))
    else:
        load_into_designer(kernel, name)


def open_designer() -> None:
    """On the designer's first visit, put the kernel in use (a link's, or the one another page chose) into its
    grid, or the paper's 2x2 where that cannot be loaded; later visits keep the grid, edits and all."""
    if K_DESIGNER not in st.session_state:
        load_spec(current_kernel(), source="generator")
    if K_DESIGNER not in st.session_state:
        st.session_state.pop("dl_designer_msg_generator", None)
        load_spec("preset:design-2x2-a", source="generator")


def load_upload(key: str, *, source: str) -> None:
    """Callback of a kernel file uploader: load the uploaded kernel into the designer's grid, or keep the reason it
    could not be read for :func:`designer_message`."""
    from dither_lab.io import read_kernel_bytes

    up = st.session_state.get(key)
    if up is None:  # the file was removed from the uploader: the grid keeps what it holds
        return
    try:
        kernel = read_kernel_bytes(up.getvalue(), source=up.name)
    except ValueError as exc:
        st.session_state[f"dl_designer_msg_{source}"] = ("error", str(exc))
    else:
        load_into_designer(kernel)
        st.session_state[f"dl_designer_msg_{source}"] = ("success", f"Loaded {up.name}: shape {list(kernel.shape)}.")


def designer_message(source: str) -> tuple[str, str] | None:
    """("error" or "success", text) about the last load from ``source``'s widgets, once."""
    return st.session_state.pop(f"dl_designer_msg_{source}", None)


def kept_edit() -> str | None:
    """The library name an edited grid was kept under when another kernel was loaded over it, once."""
    return st.session_state.pop("dl_kept_edit", None)
