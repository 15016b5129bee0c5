"""A fresh server whose first visitor opens a page's URL directly still shows the app's navigation.

Streamlit starts in its old multipage mode when a folder named ``pages/`` sits beside app.py; the app's pages
live in ``app_pages/`` for that reason. With ``pages/``, this first visit ran the page alone and listed pages by
file name ("study") for every visitor after it.
"""

from __future__ import annotations

import time


def test_first_visit_to_a_page_url_uses_the_apps_navigation(page, server):
    page.goto(f"{server}/study")  # this module's server is fresh: this is its first session
    page.wait_for_selector("[data-testid='stMain'] h1", timeout=90_000)
    time.sleep(2)
    nav = page.locator("[data-testid='stSidebarNav']")
    nav.get_by_text("Kernel study").wait_for(timeout=30_000)
    assert nav.get_by_text("Image lab").count() == 1
    assert page.locator("[data-testid='stSidebar']").get_by_text("New here? Start with").count() == 1  # app.py ran
    assert page.locator("[data-testid='stMain'] h1").first.inner_text() == "Kernel study"
