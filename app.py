"""dither_lab's Streamlit app: the router. Pages live in pages/; all computation lives in dither_lab."""

import streamlit as st

st.set_page_config(page_title="dither_lab", page_icon="▦", layout="wide")

pages = [
    st.Page("pages/image_lab.py", title="Image lab", icon=":material/image:", default=True),
]
with st.sidebar:
    st.caption(
        "**dither_lab** shows what a dithered Sign keeps that plain Sign loses: one threshold against a small, "
        "periodic threshold kernel (DeSign, arXiv:2405.02220)."
    )
st.navigation(pages).run()
