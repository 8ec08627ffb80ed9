"""Small named steps for driving the dashboard in Chromium (Playwright, sync API).

In the style of streamlit-drawable-canvas's e2e tests: each helper does one thing a user does
(or one check), and waits on what the page shows rather than sleeping. Used by the browser tests
(tests/browser/), with their fixtures in tests/browser/conftest.py.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Error, Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from core.runs import RunInfo, RunStore
from dashboard.browser_steps import (  # noqa: F401 (re-exported: the steps benchmarks share)
    APP_TIMEOUT_MS,
    MAIN,
    PAGE_HEADINGS,
    go_to_page,
    open_app,
    wait_for_app,
)
from dashboard.sidebar import LEARNING_RATES

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_ROOT / "artifacts" / "screenshots"

DEFAULT_TIMEOUT_MS = 30_000  # of every Playwright action
SELECT_ATTEMPTS = 3  # opening a selectbox's list again when a rerun closed it
CANVAS_SIZE = 280  # pages/draw.py draws a 280 × 280 canvas
MAX_SCREENSHOT_HEIGHT = 6_000

SIDEBAR = '[data-testid="stSidebar"]'
PLOTLY_CHART = '[data-testid="stPlotlyChart"]'


# Console errors that are not the app's. Each entry: (reason, pattern on the text, pattern on the URL).
# The favicon is a local file (dashboard/favicon.png), so nothing is fetched from outside.
IGNORED_CONSOLE_ERRORS: list[tuple[str, re.Pattern, re.Pattern]] = [
    (
        # Opened on a page's own path (a shared link such as /draw?run=…), Streamlit's client looks
        # for the server under that path first, and the 404 it gets is logged before it falls back
        # to the root.
        "Streamlit probes for its server under a deep link's path",
        re.compile(r"status of 404"),
        re.compile(r"/[a-z_]+/_stcore/(host-config|health)$"),
    ),
]


# ---- console ---------------------------------------------------------------------------------------


class ConsoleLog:
    """Collects a page's console errors and uncaught exceptions, minus the documented ignores."""

    def __init__(self, page: Page):
        self.errors: list[str] = []
        self.ignored: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        for reason, text_pattern, url_pattern in IGNORED_CONSOLE_ERRORS:
            if text_pattern.search(message.text) and url_pattern.search(url):
                self.ignored.append(f"{reason}: {message.text} ({url})")
                return
        self.errors.append(f"console.error: {message.text} ({url})")

    def _on_page_error(self, error: Error) -> None:
        self.errors.append(f"uncaught exception: {error.name}: {error.message}\n{error.stack}")

    def assert_clean(self) -> None:
        assert not self.errors, "browser console errors:\n" + "\n".join(self.errors)


# ---- waiting and navigating --------------------------------------------------------------------------


def wait_for_images(page: Page) -> None:
    """Wait until every image of the main block has loaded (and none is broken).

    Before a session leaves a page: Streamlit serves st.image files only while the page that
    shows them is current, so an image still loading when the session moves on answers 404.
    """
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stMain"] img')]
            .every(img => img.complete && img.naturalWidth > 0)""",
        timeout=APP_TIMEOUT_MS,
    )


def sidebar(page: Page) -> Locator:
    return page.locator(SIDEBAR)


def open_expander(expander: Locator) -> None:
    """Open a closed st.expander (an open one stays open) and wait for its contents."""
    details = expander.locator("details")
    if details.get_attribute("open") is None:
        expander.locator("summary").click()
    expect(details).to_have_attribute("open", "")
    expect(expander.locator('[data-testid="stExpanderDetails"]')).to_be_visible()


def open_selectbox(page: Page, selectbox: Locator) -> Locator:
    """Open a Streamlit selectbox's list of options; returns the options.

    A click on the combobox's input does not always open the list (the click can land while the
    widget re-renders); the keyboard's ArrowDown opens it from the focused input.
    """
    options = page.get_by_role("option")
    selectbox.locator("input").click()
    for _ in range(3):
        try:
            options.first.wait_for(timeout=2_000)
            return options
        except PlaywrightTimeoutError:
            selectbox.locator("input").focus()
            page.keyboard.press("ArrowDown")
    expect(options.first).to_be_visible()
    return options


def close_selectbox(page: Page) -> None:
    page.keyboard.press("Escape")
    expect(page.get_by_role("option")).to_have_count(0)


def select_option(page: Page, selectbox: Locator, option: str, exact: bool = False) -> None:
    """Choose `option` (its visible text, or a part of it) in a Streamlit selectbox.

    Under load a rerun can re-render the widget and close its list after it opened, leaving the typed
    text and no options: then the list is opened and filtered again, as a person would.
    """
    wanted = page.get_by_role("option", name=option, exact=exact)
    for attempt in range(SELECT_ATTEMPTS):
        open_selectbox(page, selectbox)
        # The list is virtualised (only the first few options are in the page): typing filters it, so a
        # run far down a long store's list is rendered too.
        selectbox.locator("input").fill(option)
        try:
            text = wanted.inner_text(timeout=DEFAULT_TIMEOUT_MS // SELECT_ATTEMPTS).strip()
            wanted.click(timeout=DEFAULT_TIMEOUT_MS // SELECT_ATTEMPTS)
            break
        except PlaywrightTimeoutError:
            if attempt == SELECT_ATTEMPTS - 1:
                raise
    # The whole option text, not the typed part: typed text alone (a click that missed) matched `option` and
    # let "Load run" load the newest run in issue 37's failure.
    expect(selectbox.locator("input")).to_have_value(text)


def selectbox_options(page: Page, selectbox: Locator) -> list[str]:
    """The texts of a selectbox's options (opens the list, reads it, closes it)."""
    texts = [text.strip() for text in open_selectbox(page, selectbox).all_inner_texts()]
    close_selectbox(page)
    return texts


def load_saved_run(page: Page, run_id: str) -> None:
    """Make a saved run the active model through the sidebar's "Load a saved run" expander."""
    expander = sidebar(page).locator('[data-testid="stExpander"]').filter(has_text="Load a saved run")
    open_expander(expander)
    choice = expander.locator('[data-testid="stSelectbox"]')
    select_option(page, choice, run_id)
    wait_for_app(page)
    expander.get_by_role("button", name="Load run").click()
    expect(active_model_alert(page)).to_contain_text(f"Active model: {run_id}", timeout=APP_TIMEOUT_MS)
    wait_for_app(page)


def metric_value(page: Page, label: str) -> Locator:
    """The value of the main block's st.metric named `label` (assert on it with expect, which retries)."""
    metric = page.locator(MAIN).locator('[data-testid="stMetric"]').filter(has_text=label)
    return metric.locator('[data-testid="stMetricValue"]')


def active_model_alert(page: Page) -> Locator:
    return sidebar(page).locator('[data-testid="stAlert"]').filter(has_text="Active model:")


# ---- drawing -----------------------------------------------------------------------------------------


def vertical_one() -> list[tuple[float, float]]:
    """A "1" as MNIST writers make it: a near-vertical stroke ~180 px tall, slightly slanted."""
    return [(146, 50), (143, 95), (140, 140), (137, 185), (134, 230)]


def ellipse_zero(points: int = 24) -> list[tuple[float, float]]:
    """A "0": a closed ellipse ~110 px wide and ~170 px tall around the canvas centre."""
    return [
        (140 + 55 * math.sin(2 * math.pi * i / points), 140 - 85 * math.cos(2 * math.pi * i / points))
        for i in range(points + 1)
    ]


def draw_stroke(page: Page, points: Sequence[tuple[float, float]], steps: int = 5, attempts: int = 3) -> None:
    """One freehand stroke through `points` (canvas pixels, 0..280), mouse down to mouse up.

    A canvas that was just mounted (page switch, Clear) can show before Fabric listens to the
    mouse; a stroke that left no ink is drawn again, as a person would, up to `attempts` times.
    """
    canvas = page.locator("canvas.upper-canvas")
    for _ in range(attempts):
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        assert box is not None, "the drawing canvas is not visible"
        scale_x, scale_y = box["width"] / CANVAS_SIZE, box["height"] / CANVAS_SIZE

        def at(point: tuple[float, float], box=box, scale_x=scale_x, scale_y=scale_y) -> tuple[float, float]:
            return box["x"] + point[0] * scale_x, box["y"] + point[1] * scale_y

        page.mouse.move(*at(points[0]))
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*at(point), steps=steps)
        page.mouse.up()
        for _ in range(10):
            if canvas_ink_pixels(page) > 0:
                return
            page.wait_for_timeout(200)


# Fabric draws the background colour on its own canvas (dc-background-canvas) and the strokes on the
# drawing layer (dc-canvas), with the in-progress stroke on top (upper-canvas).
DRAWING_LAYER = "canvas.dc-canvas.lower-canvas"
INK_PIXELS_JS = """canvas => {
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let inked = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 32 && data[i] > 32) inked++;
    return inked;
}"""


def canvas_ink_pixels(page: Page) -> int:
    """How many pixels of the canvas's drawing layer hold ink (visible, not black)."""
    return page.locator(DRAWING_LAYER).evaluate(INK_PIXELS_JS)


def wait_for_empty_canvas(page: Page, timeout: float = APP_TIMEOUT_MS) -> None:
    """Wait until the canvas shows no ink (polled in the page, on the canvas shown now)."""
    canvas = page.locator(DRAWING_LAYER).element_handle()
    page.wait_for_function(f"canvas => ({INK_PIXELS_JS})(canvas) === 0", arg=canvas, timeout=timeout)


# ---- checks and artifacts ----------------------------------------------------------------------------


def assert_no_exception_boxes(page: Page) -> None:
    exceptions = page.locator('[data-testid="stException"]')
    if exceptions.count():
        raise AssertionError("Streamlit exception on the page:\n" + "\n---\n".join(exceptions.all_inner_texts()))


def assert_charts_drawn(page: Page, scope: Locator | None = None, minimum: int = 1) -> int:
    """At least `minimum` Plotly charts in `scope`, each drawn with data (not an empty frame)."""
    charts = (scope or page.locator(MAIN)).locator(PLOTLY_CHART)
    expect(charts.nth(minimum - 1)).to_be_visible(timeout=APP_TIMEOUT_MS)
    for index in range(charts.count()):
        chart = charts.nth(index)
        drawn = chart.locator(
            ".js-plotly-plot g.trace, .js-plotly-plot g.hm image, .js-plotly-plot .heatmaplayer image"
        )
        expect(drawn.first, f"Plotly chart #{index} has no trace").to_be_attached(timeout=APP_TIMEOUT_MS)
    return charts.count()


def confusion_cells(page: Page) -> Locator:
    """The 100 cells of the Per-class metrics page's confusion matrix (Vega draws them as SVG paths, in row order)."""
    return page.locator(f"{MAIN} .st-key-confusion svg g.mark-rect path")


def assert_confusion_matrix_drawn(page: Page) -> None:
    expect(confusion_cells(page)).to_have_count(100, timeout=APP_TIMEOUT_MS)


def screenshot(page: Page, name: str) -> Path:
    """A full-page PNG in artifacts/screenshots/.

    Streamlit scrolls its main block and its sidebar inside a 100vh frame, so a plain full-page
    screenshot shows only the viewport; the viewport is stretched to the content for the shot.
    """
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    viewport = page.viewport_size
    content_height = page.evaluate(
        """() => Math.max(...['[data-testid="stMain"]', '[data-testid="stSidebarContent"]']
            .map(selector => document.querySelector(selector))
            .filter(Boolean)
            .map(element => element.scrollHeight))"""
    )
    tall = min(max(viewport["height"], content_height), MAX_SCREENSHOT_HEIGHT)
    if tall > viewport["height"]:
        page.set_viewport_size({"width": viewport["width"], "height": tall})
        page.wait_for_timeout(500)  # Plotly charts re-lay out on resize; nothing to wait on
    try:
        page.screenshot(path=path, full_page=True)
    finally:
        page.set_viewport_size(viewport)
    return path


# ---- the training form ---------------------------------------------------------------------------

TRAINING_TIMEOUT_MS = 240_000  # a few epochs of the MLP or 5 of deep_cnn; generous for a loaded 2-core machine
FINISHED = re.compile(r"^Finished: test accuracy")


def training_form(page: Page) -> Locator:
    """The sidebar's "Train a new model" expander, opened."""
    expander = sidebar(page).locator('[data-testid="stExpander"]').filter(has_text="Train a new model")
    open_expander(expander)
    return expander


def set_number(scope: Locator, label: str, value: int) -> None:
    field_ = scope.get_by_label(label, exact=True)
    field_.fill(str(value))
    field_.press("Tab")  # commits the value (Enter would submit the form)
    expect(field_).to_have_value(str(value))


def wait_for_redrawn_form(form: Locator, old_epochs_id: str) -> None:
    """Wait until the form shows the new architecture's fields and the old ones are gone.

    The fields' keys name the architecture, so new inputs replace the old; until the rerun ends
    both can be in the page (or only the old one, if the rerun has not started yet).
    """
    epochs = form.get_by_label("Epochs", exact=True)
    expect(epochs.and_(form.locator(f'input:not([id="{old_epochs_id}"])'))).to_have_count(1, timeout=APP_TIMEOUT_MS)
    expect(epochs).to_have_count(1, timeout=APP_TIMEOUT_MS)


def fill_training_form(
    page: Page, name: str, epochs: int, patience: int | None = None, slow: bool = False, arch: str = "mlp"
) -> Locator:
    """Fill the form for `arch` and return its "Start training" button.

    slow: the lowest learning rate, so the validation loss keeps improving for many epochs and
    early stopping does not end a long run by itself.
    """
    form = training_form(page)
    architecture = form.locator('[data-testid="stSelectbox"]').filter(has_text="Architecture")
    if arch != "mlp":
        old_epochs_id = form.get_by_label("Epochs", exact=True).get_attribute("id")
        select_option(page, architecture, arch, exact=True)
        wait_for_redrawn_form(form, old_epochs_id)
        wait_for_app(page)
    expect(architecture.locator("input")).to_have_value(arch)
    set_number(form, "Epochs", epochs)
    if patience is not None:
        set_number(form, "Early-stopping patience (epochs)", patience)
    if slow:
        thumb = form.locator('[data-testid="stSlider"]').filter(has_text="Learning rate").get_by_role("slider")
        thumb.focus()
        for _ in range(len(LEARNING_RATES)):  # down to the first (lowest) rate from any default
            thumb.press("ArrowLeft")
        expect(thumb).to_have_attribute("aria-valuetext", "0.0001")
    run_name = form.get_by_label("Run name (optional)")
    run_name.fill(name)
    run_name.press("Tab")
    return form.get_by_role("button", name="Start training")


def progress_bar(page: Page) -> Locator:
    return sidebar(page).locator('[data-testid="stProgress"]')


def wait_for_finish(page: Page) -> None:
    expect(sidebar(page).get_by_text(FINISHED)).to_be_visible(timeout=TRAINING_TIMEOUT_MS)
    expect(progress_bar(page)).to_have_count(0)


def runs_named(store: RunStore, slug: str) -> list[RunInfo]:
    runs, _ = store.list_runs()
    return [run for run in runs if run.run_id.endswith(f"-{slug}")]
