"""``dither-lab app``: start the Streamlit app from the installed package."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def _cmd_app(a: argparse.Namespace) -> None:
    from dither_lab.ui.router import main_script

    cmd = [sys.executable, "-m", "streamlit", "run", str(main_script()), "--server.port", str(a.port),
           "--server.address", a.address, "--server.fileWatcherType", "none",
           "--browser.gatherUsageStats", "false", "--server.headless", "true" if a.headless else "false"]
    os.environ["PYTHONUNBUFFERED"] = "1"
    sys.stdout.flush()
    # Streamlit takes this process's place: a signal to it (a supervisor's SIGTERM) stops the server itself, where
    # a child server outlived its parent
    os.execv(sys.executable, cmd)


def add_app(sub: Any) -> None:
    """The ``app`` command."""
    ap = sub.add_parser("app", help="start the app in the browser (Streamlit), from wherever dither_lab is installed")
    ap.add_argument("--port", type=int, default=8501)
    ap.add_argument("--address", default="localhost",
                    help="the address to listen on (localhost by default; 0.0.0.0 exposes it to the network)")
    ap.add_argument("--headless", action="store_true", help="do not open a browser")
    ap.set_defaults(func=_cmd_app)
