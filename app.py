"""dither_lab's Streamlit app (``make app``): the router runs the pages in app_pages/ (not pages/, which Streamlit
would also read as its legacy page folder); all computation lives in dither_lab. An installed wheel runs the same
router from dither_lab/streamlit_app.py (``dither-lab app``)."""

from dither_lab.ui.router import run

run()
