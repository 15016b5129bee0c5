"""Take the documentation's pictures of the app: the image lab (docs/images/image_lab.png) and the kernel study's
chart (docs/images/study_chart.png), from the app as it runs, in headless Chromium through Playwright.

    python scripts/screenshots.py [--out docs/images] [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _settle(page) -> None:
    """Wait until the page has a title and the script has stopped running."""
    page.wait_for_selector("[data-testid='stMain'] h1", timeout=120_000)
    for _ in range(3):
        time.sleep(1.0)
        page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=120_000)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "images", help="folder for the pictures")
    p.add_argument("--chromium", default="/usr/bin/chromium", help="the Chromium to drive")
    a = p.parse_args()
    from playwright.sync_api import sync_playwright

    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                               "--server.port", str(port), "--server.address", "127.0.0.1",
                               "--browser.gatherUsageStats", "false"], cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                if time.time() > deadline:
                    raise SystemExit("the app did not start within 120 s") from None
                time.sleep(0.5)
        a.out.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=a.chromium, headless=True,
                                         args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.goto(f"{url}/?kernel=blue-noise:64&sample=camera")
            _settle(page)
            page.screenshot(path=str(a.out / "image_lab.png"))
            page.goto(f"{url}/study")
            _settle(page)
            chart = page.locator("[data-testid='stPlotlyChart']").last
            chart.scroll_into_view_if_needed()
            time.sleep(1.0)
            chart.screenshot(path=str(a.out / "study_chart.png"))
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
    print(f"wrote {a.out / 'image_lab.png'} and {a.out / 'study_chart.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
