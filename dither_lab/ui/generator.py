"""The kernel builder: pick a generator and its settings, drawn from the kernel registry, and get the spec they make.

Every generator, its label, its settings and their ranges come from :data:`dither_lab.kernels.GENERATORS` (each
generator's ``params``), and specs go through :func:`~dither_lab.kernels.spec.spec_from_params` and back through
:func:`~dither_lab.kernels.spec.params_from_spec`: a newly registered generator shows up in every builder with no
change here. One implementation serves the kernel designer's generator panel (:func:`panel`, which loads the kernel
into the editor) and the image lab's kernel maker (which adds it to the comparison).

Widget keys are ``{prefix}_gen`` (the generator) and ``{prefix}_{generator}_{setting}``, so each generator keeps
its own settings while another is shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from dither_lab.kernels import GENERATORS
from dither_lab.kernels.spec import Param, params_from_spec, spec_from_params
from dither_lab.ui import state

#: The designer's extra choice beside the generators: the app's current kernel.
CURRENT = "current"
#: The generator a builder starts on.
DEFAULT_GENERATOR = "bayer"


def menu_generators(*, exclude: Sequence[str] = ()) -> list[str]:
    """The registered generators a menu offers, in registration order: those with settings, and those whose spec is
    their name alone (Sign); never one that reads a file."""
    return [n for n, g in GENERATORS.items()
            if (g.params or not (g.needs_arg or g.whole_arg)) and not g.reads_files and n not in exclude]


def setting_key(prefix: str, generator: str, param: str) -> str:
    """The widget key of one setting of one generator in the builder ``prefix``."""
    return f"{prefix}_{generator}_{param}"


def label_of(generator: str) -> str:
    """How a menu names a generator (or the designer's current-kernel choice)."""
    return "Current kernel" if generator == CURRENT else GENERATORS[generator].label


def spec_of(values: Mapping[str, Any], prefix: str, *, current: str | None = None) -> str:
    """The spec that the builder's settings make (``values``: its widget keys; ``current``: the current kernel)."""
    gen = values.get(f"{prefix}_gen", DEFAULT_GENERATOR)
    if gen == CURRENT:
        if current is None:
            raise ValueError("this builder offers no current kernel")
        return current
    return spec_from_params(gen, {p.name: values.get(setting_key(prefix, gen, p.name), p.default)
                                  for p in GENERATORS[gen].params})


def settings_of(spec: str, prefix: str, *, offered: Sequence[str]) -> dict[str, Any] | None:
    """The builder settings (widget key -> value) that make the kernel of ``spec``; None when none does (a custom,
    levels or file kernel, a generator not ``offered``, a size or option outside the menus' ranges)."""
    found = params_from_spec(spec)
    if found is None or found[0] not in offered:
        return None
    gen, values = found
    return {f"{prefix}_gen": gen, **{setting_key(prefix, gen, k): v for k, v in values.items()}}


def shows(values: Mapping[str, Any], spec: str, prefix: str, *, offered: Sequence[str]) -> bool:
    """Whether the builder's settings ``values`` make the kernel of ``spec``."""
    want = settings_of(spec, prefix, offered=offered)
    if want is None:
        return False
    gen = want[f"{prefix}_gen"]
    defaults = {f"{prefix}_gen": DEFAULT_GENERATOR, **{setting_key(prefix, gen, p.name): p.default
                                                      for p in GENERATORS[gen].params}}
    return all(_same(values.get(k, defaults.get(k)), v) for k, v in want.items())


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return round(float(a), 6) == round(float(b), 6)
    return a == b


def _setting(container: Any, p: Param, key: str) -> None:
    """One setting's widget: a slider for a choice of numbers or a float, a select box for named choices, a number
    box for an integer."""
    tip = p.help or None  # the registry says what the setting does
    if p.kind == "choice" and all(isinstance(c, (int, float)) for c in p.choices):
        container.select_slider(p.label, list(p.choices), key=key, help=tip)
    elif p.kind == "choice":
        container.selectbox(p.label, list(p.choices), format_func=p.label_of, key=key, help=tip)
    elif p.kind == "int":
        container.number_input(p.label, min_value=int(p.low), max_value=int(p.high), step=int(p.step or 1), key=key,
                               help=tip)
    else:
        container.slider(p.label, min_value=float(p.low), max_value=float(p.high), step=float(p.step), key=key,
                         help=tip)


def builder(prefix: str, *, offered: Sequence[str], current: str | None = None) -> str:
    """Draw a generator menu and the chosen generator's settings; returns the spec they make.

    Args:
        prefix: the widget keys' prefix (one builder per prefix on a page).
        offered: the generators to offer (:func:`menu_generators`), and :data:`CURRENT` for the current kernel.
        current: the current kernel's spec, when :data:`CURRENT` is offered.
    """
    ss = st.session_state
    options = list(offered)
    ss.setdefault(f"{prefix}_gen", DEFAULT_GENERATOR if DEFAULT_GENERATOR in options else options[0])
    if ss[f"{prefix}_gen"] not in options:
        ss[f"{prefix}_gen"] = options[0]
    for gen in options:  # defaults through session state: a widget given both a value and a key warns
        for p in GENERATORS[gen].params if gen != CURRENT else ():
            ss.setdefault(setting_key(prefix, gen, p.name), p.default)
    gen = st.selectbox("Generator", options, format_func=label_of, key=f"{prefix}_gen",
                       help=None if ss[f"{prefix}_gen"] == CURRENT else GENERATORS[ss[f"{prefix}_gen"]].summary or None)
    params = GENERATORS[gen].params if gen != CURRENT else ()
    if params:
        cols = st.columns(max(2, min(3, len(params))))
        for i, p in enumerate(params):
            _setting(cols[i % len(cols)], p, setting_key(prefix, gen, p.name))
    return spec_of(ss, prefix, current=current)


# ------------------------------------------------------------------------------ the designer's generator panel

#: The designer's builder: its widget-key prefix, and what it offers (every generator, and the current kernel).
PANEL = "des"
_SYNCED = "des_gen_synced"  # the editor version whose kernel the panel was last set to


def panel_offers() -> list[str]:
    return [*menu_generators(), CURRENT]


def load_from_panel() -> None:
    """Callback of "Load into the editor": load what the panel's settings make."""
    state.load_spec(spec_of(st.session_state, PANEL, current=state.current_kernel()), source="generator")


def panel() -> None:
    """Draw the designer's generator panel (inside its expander): the builder, set to the editor's kernel when it
    was just loaded and a setting makes it, and the button that loads what it makes."""
    ss = st.session_state
    offered = panel_offers()
    version = ss.get("des_editor_version", 0)
    work = ss.get(state.K_DESIGNER)
    if work is not None and ss.get(_SYNCED) != version:  # a kernel was loaded since: show its generator
        ss[_SYNCED] = version
        if (settings := settings_of(work["spec"], PANEL, offered=offered)) is not None:
            ss.update(settings)
    made = builder(PANEL, offered=offered, current=state.current_kernel())
    st.button("Load into the editor", type="primary", key="des_load", on_click=load_from_panel)
    if (message := state.designer_message("generator")) is not None:
        st.error(message[1])
    if work is not None:
        held = state.designer_spec(work)
        if settings_of(held, PANEL, offered=offered) is None:
            st.caption(f"The editor holds {work['name']!r}, which no generator here makes; Load into the editor "
                       f"replaces it with `{made}`.")
        elif not shows(ss, held, PANEL, offered=offered):
            st.caption(f"The editor holds `{held}`; Load into the editor replaces it with `{made}`.")
