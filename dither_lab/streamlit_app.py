"""The app's entry script inside the installed package (``dither-lab app`` runs it with Streamlit); a checkout runs
its own ``app.py``, which does the same."""

from dither_lab.ui.router import run

run()
