"""The image lab's metric tables in a real browser: with six outputs at 1400 pixels wide no column is cut (only a
browser lays the columns out), and the takeaway heads the results."""

from __future__ import annotations

from tests.browser.browser_helpers import settle


def test_six_outputs_fit_the_image_labs_tables_at_1400_pixels(page, server, shots):
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{server}/")
    settle(page)
    for name in ["Blue noise 64", "Cluster-dot 4x4", "DeSign 2x2 (paper)", "DeSign 3x3 (paper)", "Sign"]:
        page.locator("[data-testid='stMain'] [data-testid='stMultiSelect'] input").first.click()
        page.keyboard.type(name)
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        settle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    widths = page.evaluate("""() => [...document.querySelectorAll("[data-testid='stMain'] [data-testid='stDataFrame']")]
        .map(d => d.querySelector('.dvn-scroller')).map(s => [s.scrollWidth, s.clientWidth, s.scrollHeight, s.clientHeight])""")
    assert len(widths) == 2, widths
    for scroll_w, client_w, scroll_h, client_h in widths:
        assert scroll_w <= client_w and scroll_h <= client_h, widths  # every column and row in view, none scrolled
    assert page.get_by_text("keeps local tone").first.is_visible()
    page.screenshot(path=str(shots / "image_lab_six_outputs.png"), full_page=True)
