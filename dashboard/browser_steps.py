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


def go_to_page(page: Page, title: str) -> None:
    """Click a page's link in the sidebar navigation, once the app is idle, and wait for the page to render.

    The click waits for the current script run to end: a click that lands while a run is being torn
    down can be dropped, and a person clicks when the page has settled.
    """
    wait_for_app(page)
    link = page.locator('[data-testid="stSidebarNavLink"]').filter(has=page.get_by_text(title, exact=True))
    link.click()
    expect(page.locator(f"{MAIN} h1").first).to_have_text(PAGE_HEADINGS[title], timeout=APP_TIMEOUT_MS)
    wait_for_app(page)
