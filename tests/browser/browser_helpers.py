"""What the browser tests share."""

from __future__ import annotations

import time
from typing import Any


def settle(pg: Any) -> None:
    """Wait until the page has a title and the script has stopped running."""
    pg.wait_for_selector("[data-testid='stMain'] h1", timeout=90_000)
    for _ in range(3):  # the running indicator can blink between reruns
        time.sleep(0.7)
        pg.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=90_000)
