"""dither_lab's Streamlit app: the router. Pages live in app_pages/ (not pages/, which Streamlit would also read
as its legacy page folder); all computation lives in dither_lab."""

# Imported before any page runs: plotly finds pandas through sys.modules, so sessions starting together on a
# cold server could otherwise see it half-initialized while another session is still importing it.
import pandas  # noqa: F401
import plotly.graph_objects  # noqa: F401
import streamlit as st

from dither_lab.ui import widgets

st.set_page_config(page_title="dither_lab", page_icon=":material/blur_on:", layout="wide")

pages = [
    st.Page("app_pages/image_lab.py", title="Image lab", icon=":material/image:", default=True),
    st.Page("app_pages/kernel_designer.py", title="Kernel designer", icon=":material/grid_on:"),
    st.Page("app_pages/feature_maps.py", title="Feature maps", icon=":material/layers:"),
    st.Page("app_pages/accuracy.py", title="Accuracy", icon=":material/speed:"),
    st.Page("app_pages/study.py", title="Kernel study", icon=":material/leaderboard:"),
    st.Page("app_pages/learn.py", title="Learn", icon=":material/school:"),
]
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
