"""The kernel designer's generator panel: its widgets, the spec they make, and the settings that show a spec.

The panel shows the generator of the kernel the editor holds whenever one of its settings makes that kernel: a
kernel loaded into the editor (from a link, the panel, a file or a search) sets the panel's widgets before they are
drawn, on the run after it was loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from dither_lab.kernels import PRESET_HELP, PRESETS, parse_spec
from dither_lab.ui import state

#: Panel label -> kernel generator ("current": the app's current kernel).
GENERATORS = {"Bayer": "bayer", "Blue noise": "blue-noise", "Cluster-dot": "cluster-dot", "Random": "random",
              "Paper preset": "preset", "Sign (all zeros)": "sign", "Current kernel": "current"}
SIZES = {"bayer": [2, 4, 8, 16], "blue-noise": [4, 8, 16], "cluster-dot": [2, 3, 4, 6, 8, 12, 16]}
SIZE_KEYS = {"bayer": "des_bayer", "blue-noise": "des_bn", "cluster-dot": "des_cd"}
SEED_MAX, SIDES, SIGMAS = 10_000, (2, 16), (0.5, 4.0)
STRENGTHS = (0.0, 2.0, 0.05)
#: The generators whose thresholds the panel's strength slider scales.
SCALED = ("bayer", "blue-noise", "cluster-dot", "random")
DEFAULTS: dict[str, Any] = {"des_gen": "Bayer", "des_bayer": 4, "des_bn": 8, "des_bn_seed": 0, "des_bn_sigma": 1.5,
                            "des_cd": 4, "des_r_m": 3, "des_r_n": 3, "des_r_seed": 0, "des_preset": "design-2x2-a",
                            "des_strength": 1.0}
_SYNCED = "des_gen_synced"  # the editor version whose kernel the panel was last set to


def spec_of(values: Mapping[str, Any], current: str) -> str:
    """The kernel spec the panel's settings make (``values``: its widget keys; ``current``: the current kernel)."""
    v = {**DEFAULTS, **{k: values[k] for k in DEFAULTS if k in values}}
    gen = GENERATORS[v["des_gen"]]
    if gen == "current":
        return current
    if gen == "sign":
        return "sign"
    if gen == "preset":
        return f"preset:{v['des_preset']}"
    if gen == "blue-noise":
        spec = f"blue-noise:{v['des_bn']}:seed={int(v['des_bn_seed'])}:sigma={float(v['des_bn_sigma']):g}"
    elif gen == "random":
        spec = f"random:{int(v['des_r_m'])}x{int(v['des_r_n'])}:seed={int(v['des_r_seed'])}"
    else:
        spec = f"{gen}:{v[SIZE_KEYS[gen]]}"
    strength = round(float(v["des_strength"]), 4)
    return spec if strength == 1.0 else f"{spec}:strength={strength:g}"


def settings_of(spec: str) -> dict[str, Any] | None:
    """The panel settings (widget key -> value) that make the kernel of ``spec``; None when none does (a custom,
    levels or file kernel, a size or option the panel does not offer)."""
    try:
        gen, arg, opts = parse_spec(spec)
        strength = float(opts.get("strength", "1"))
        seed = int(opts.get("seed", "0"))
        sigma = float(opts.get("sigma", "1.5"))
    except (TypeError, ValueError):
        return None
    label = next((k for k, g in GENERATORS.items() if g == gen), None)
    steps = (strength - STRENGTHS[0]) / STRENGTHS[2]
    if label is None or not STRENGTHS[0] <= strength <= STRENGTHS[1] or abs(steps - round(steps)) > 1e-6:
        return None
    if strength != 1.0 and gen not in SCALED:
        return None
    out: dict[str, Any] = {"des_gen": label}
    if gen in SCALED:
        out["des_strength"] = round(strength, 4)
    if gen in SIZES:
        if not (arg or "").isdigit() or int(arg) not in SIZES[gen]:
            return None
        out[SIZE_KEYS[gen]] = int(arg)
    if gen == "blue-noise":
        if not (0 <= seed <= SEED_MAX and SIGMAS[0] <= sigma <= SIGMAS[1]):
            return None
        out |= {"des_bn_seed": seed, "des_bn_sigma": sigma}
    elif gen == "random":
        sides = (arg or "").lower().split("x")
        sides = sides * 2 if len(sides) == 1 else sides
        if len(sides) != 2 or not all(s.isdigit() and SIDES[0] <= int(s) <= SIDES[1] for s in sides):
            return None
        if not 0 <= seed <= SEED_MAX:
            return None
        out |= {"des_r_m": int(sides[0]), "des_r_n": int(sides[1]), "des_r_seed": seed}
    elif gen == "preset":
        if (arg or "").lower() not in PRESETS:
            return None
        out["des_preset"] = arg.lower()
    return out


def shows(values: Mapping[str, Any], spec: str) -> bool:
    """Whether the panel's settings ``values`` make the kernel of ``spec``."""
    want = settings_of(spec)
    return want is not None and all(_same(values.get(k, DEFAULTS[k]), v) for k, v in want.items())


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return round(float(a), 4) == round(float(b), 4)
    return a == b


def load_from_panel() -> None:
    """Callback of "Load into the editor": load what the panel's settings make."""
    state.load_spec(spec_of(st.session_state, state.current_kernel()), source="generator")


def panel() -> None:
    """Draw the generator panel (inside its expander): its settings, set to the editor's kernel when it was just
    loaded and a setting makes it, and the button that loads what they make."""
    ss = st.session_state
    for k, v in DEFAULTS.items():  # defaults through session state: a widget given both warns
        ss.setdefault(k, v)
    version = ss.get("des_editor_version", 0)
    work = ss.get(state.K_DESIGNER)
    if work is not None and ss.get(_SYNCED) != version:  # a kernel was loaded since: show its generator
        ss[_SYNCED] = version
        if (settings := settings_of(work["spec"])) is not None:
            ss.update(settings)
    g = st.selectbox("Generator", list(GENERATORS), key="des_gen")
    gen = GENERATORS[g]
    c1, c2, c3 = st.columns(3)
    if gen in ("bayer", "cluster-dot"):
        c1.select_slider("Size", SIZES[gen], key=SIZE_KEYS[gen])
    elif gen == "blue-noise":
        c1.select_slider("Size", SIZES[gen], key="des_bn")
        c2.number_input("Seed", 0, SEED_MAX, key="des_bn_seed")
        c3.number_input("Sigma", *SIGMAS, step=0.1, key="des_bn_sigma")
    elif gen == "random":
        c1.number_input("Rows", *SIDES, key="des_r_m")
        c2.number_input("Columns", *SIDES, key="des_r_n")
        c3.number_input("Seed", 0, SEED_MAX, key="des_r_seed")
    elif gen == "preset":
        c1.selectbox("Preset", list(PRESETS), format_func=PRESET_HELP.get, key="des_preset")
    if gen in SCALED:
        c1.slider("Strength", STRENGTHS[0], STRENGTHS[1], step=STRENGTHS[2], key="des_strength",
                  help="Scales the thresholds; 0 gives plain Sign.")
    st.button("Load into the editor", type="primary", key="des_load", on_click=load_from_panel)
    if (message := state.designer_message("generator")) is not None:
        st.error(message[1])
    if work is not None:
        held = state.designer_spec(work)
        made = spec_of(ss, state.current_kernel())
        if settings_of(held) is None:
            st.caption(f"The editor holds {work['name']!r}, which no generator here makes; Load into the editor "
                       f"replaces it with `{made}`.")
        elif not shows(ss, held):
            st.caption(f"The editor holds `{held}`; Load into the editor replaces it with `{made}`.")
