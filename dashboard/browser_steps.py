"""Steps a visitor takes in a real browser (Playwright): open the app, go to a page, wait for it.

Shared by the browser tests (tests/support/browser.py builds on them) and the benchmarks, so the
benchmarks do not depend on the tests; imported only by those two (Playwright is a development
dependency), like server_process.py.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from dashboard.page_registry import HEADINGS

APP_TIMEOUT_MS = 60_000  # a page's first run may load the model and evaluate the test set
MAIN = '[data-testid="stMain"]'
PAGE_HEADINGS = HEADINGS  # the h1 each page starts with, by its title in the sidebar navigation


def wait_for_app(page: Page, timeout: float = APP_TIMEOUT_MS) -> None:
    """Wait until Streamlit has finished the current script run and the main block is there."""
    page.locator(MAIN).wait_for(state="attached", timeout=timeout)
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
        state="attached", timeout=timeout
    )
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=timeout)


def open_app(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator(f"{MAIN} h1").first).to_be_visible(timeout=APP_TIMEOUT_MS)
    wait_for_app(page)


def go_to_page(page: Page, title: str, attempts: int = 3) -> None:
    """Click a page's link in the sidebar navigation and wait for the page to render.

    On a starved machine a click can land while the previous script run is being torn down and
    be dropped; a person would click again, and so does this, up to `attempts` times.
    """
    link = page.locator('[data-testid="stSidebarNavLink"]').filter(has=page.get_by_text(title, exact=True))
    heading = page.locator(f"{MAIN} h1").first
    for attempt in range(attempts):
        link.click()
        try:
            expect(heading).to_have_text(PAGE_HEADINGS[title], timeout=APP_TIMEOUT_MS // attempts)
            break
        except AssertionError:
            if attempt == attempts - 1:
                raise
    wait_for_app(page)
