"""The app's router: the page list, the shared sidebar, and where the pages and the entry script are.

A checkout runs ``app.py`` at its root, beside ``app_pages/``; an installed wheel carries both inside the package
(``dither_lab/streamlit_app.py`` and ``dither_lab/app_pages/``), which ``dither-lab app`` runs. Either way the
page files sit in ``app_pages/`` beside the entry script, so the pages' links (``app_pages/<page>.py``) hold.
"""

from __future__ import annotations

from pathlib import Path

import dither_lab

#: (file, title, icon) of every page, in the sidebar's order; the first is the default.
PAGES = (
    ("image_lab.py", "Image lab", ":material/image:"),
    ("kernel_designer.py", "Kernel designer", ":material/grid_on:"),
    ("feature_maps.py", "Feature maps", ":material/layers:"),
    ("accuracy.py", "Accuracy", ":material/speed:"),
    ("study.py", "Kernel study", ":material/leaderboard:"),
    ("learn.py", "Learn", ":material/school:"),
)

_PACKAGE = Path(dither_lab.__file__).resolve().parent


def main_script() -> Path:
    """The app's entry script: the checkout's ``app.py`` when dither_lab runs from a checkout, else the one the
    installed package carries."""
    checkout = _PACKAGE.parent / "app.py"
    if (_PACKAGE.parent / "app_pages").is_dir() and checkout.is_file():
        return checkout
    return _PACKAGE / "streamlit_app.py"


def run() -> None:
    """Configure the page, draw the shared sidebar and run the chosen page (call once, from the entry script)."""
    # Imported before any page runs: plotly finds pandas through sys.modules, so sessions starting together on a
    # cold server could otherwise see it half-initialized while another session is still importing it.
    import pandas  # noqa: F401
    import plotly.graph_objects  # noqa: F401
    import streamlit as st

    from dither_lab.ui import widgets

    st.set_page_config(page_title="dither_lab", page_icon=":material/blur_on:", layout="wide")
    pages = [st.Page(f"app_pages/{file}", title=title, icon=icon, default=i == 0)
             for i, (file, title, icon) in enumerate(PAGES)]
    with st.sidebar:
        st.markdown("### dither_lab")
        st.caption(
            "See, design and measure dithered binary activations. Plain Sign uses one threshold; a dithered Sign "
            "tiles a small threshold kernel over each feature map (DeSign, Monroy et al., arXiv:2405.02220), "
            "which is ordered dithering inside a binary network at no extra inference cost."
        )
        st.caption("New here? Start with **Learn**.")
        widgets.library_panel()
    widgets.link_warnings()
    st.navigation(pages).run()
