"""The Embedding map in Chromium: the map draws, hovering a point shows its digit, a click lists it,
and the last drawing lands on the map."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.support.browser import (
    APP_TIMEOUT_MS,
    MAIN,
    draw_stroke,
    go_to_page,
    load_saved_run,
    open_app,
    screenshot,
    vertical_one,
    wait_for_app,
    wait_for_images,
)

CHART = '[data-testid="stVegaLiteChart"]'
TOOLTIP = "#vg-tooltip-element.visible"
TSNE_TIMEOUT_MS = 180_000  # ~5 s for the 1,000 points here; minutes when other jobs load the 2 cores


def the_map(page: Page) -> Locator:
    chart = page.locator(MAIN).locator(CHART).first
    expect(chart.locator("canvas, svg").first).to_be_visible(timeout=APP_TIMEOUT_MS)
    return chart


def open_the_map(app, run_id: str) -> Locator:
    page = app.page
    open_app(page, app.server.url)
    load_saved_run(page, run_id)
    go_to_page(page, "Embedding map")
    return the_map(page)


def symbols(chart: Locator) -> Locator:
    """The map's points as Vega draws them (SVG paths of its symbol marks)."""
    return chart.locator("g.mark-symbol path")


def hover_a_point(page: Page, chart: Locator) -> tuple[float, float]:
    """Move the mouse onto points until one's tooltip shows; where it did."""
    points = symbols(chart)
    count = points.count()
    for position in range(count // 2, count, max(1, count // 50)):
        box = points.nth(position).bounding_box()
        if not box:
            continue
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        try:
            expect(page.locator(TOOLTIP)).to_be_visible(timeout=1_000)
            return x, y
        except AssertionError:
            continue
    raise AssertionError("no point's tooltip showed on the map")


def test_the_map_draws_its_points(app, quick_run):
    chart = open_the_map(app, quick_run.run_id)
    main = app.page.locator(MAIN)
    expect(main.get_by_text(re.compile(r"1000 test images \(a stratified sample\)"))).to_be_visible()
    expect(chart.get_by_text("True digit")).to_be_visible()
    expect(chart.get_by_text("misclassified")).to_be_visible()
    assert symbols(chart).count() >= 1000  # the points, and the legends' symbols
    app.check()
    screenshot(app.page, "60-embedding-map")


def test_hovering_a_point_shows_its_digit(app, quick_run):
    chart = open_the_map(app, quick_run.run_id)
    hover_a_point(app.page, chart)
    tooltip = app.page.locator(TOOLTIP)
    image = tooltip.locator("img")
    expect(image).to_have_count(1)
    assert image.get_attribute("src").startswith("data:image/png;base64,")
    assert app.page.evaluate("img => img.complete && img.naturalWidth === 28", image.element_handle())
    expect(tooltip).to_contain_text("true digit")
    app.check()
    screenshot(app.page, "61-embedding-hover")


def test_clicking_a_point_lists_its_digit(app, quick_run):
    chart = open_the_map(app, quick_run.run_id)
    page = app.page
    x, y = hover_a_point(page, chart)
    page.mouse.click(x, y)
    main = page.locator(MAIN)
    expect(main.get_by_text("1 selected")).to_be_visible(timeout=APP_TIMEOUT_MS)
    caption = main.locator('[data-testid="stImage"]').filter(has_text=re.compile(r"^#\d+ · \d→\d"))
    expect(caption).to_have_count(1)
    expect(main.get_by_role("button", name="Open in Activations")).to_be_visible()
    wait_for_images(page)
    app.check()
    screenshot(page, "62-embedding-selected")


def test_a_picked_point_opens_in_activations(app, quick_run):
    chart = open_the_map(app, quick_run.run_id)
    page = app.page
    page.mouse.click(*hover_a_point(page, chart))
    main = page.locator(MAIN)
    caption = main.locator('[data-testid="stImage"]').filter(has_text=re.compile(r"^#\d+ · "))
    expect(caption).to_have_count(1, timeout=APP_TIMEOUT_MS)
    index = re.match(r"#(\d+)", caption.inner_text().strip()).group(1)
    main.get_by_role("button", name="Open in Activations").click()
    expect(page.locator(f"{MAIN} h1").first).to_have_text("Activations", timeout=APP_TIMEOUT_MS)
    expect(main.get_by_text(f"test image #{index} ")).to_be_visible(timeout=APP_TIMEOUT_MS)
    app.check()


def test_the_last_drawing_lands_on_the_map(app, quick_run):
    page = app.page
    open_app(page, app.server.url)
    load_saved_run(page, quick_run.run_id)
    go_to_page(page, "Draw")
    draw_stroke(page, vertical_one())
    expect(page.locator(MAIN).get_by_role("heading", name=re.compile(r"^Prediction:"))).to_be_visible(
        timeout=APP_TIMEOUT_MS
    )
    wait_for_app(page)
    go_to_page(page, "Embedding map")
    the_map(page)
    expect(page.locator(MAIN).get_by_text("The black diamond is your last drawing")).to_be_visible()
    app.check()
    screenshot(page, "63-embedding-drawing")


def test_tsne_runs_on_request_with_progress(app, quick_run):
    open_the_map(app, quick_run.run_id)
    page = app.page
    main = page.locator(MAIN)
    main.get_by_text("t-SNE", exact=True).click()
    main.get_by_role("button", name="Compute t-SNE").click()
    progress = main.locator('[data-testid="stProgress"]')
    expect(progress).to_contain_text(re.compile(r"t-SNE: iteration \d+ of 750"), timeout=APP_TIMEOUT_MS)
    screenshot(page, "64-embedding-tsne-progress")
    expect(main.get_by_text(re.compile(r"t-SNE computed in"))).to_be_visible(timeout=TSNE_TIMEOUT_MS)
    expect(progress).to_have_count(0)
    chart = the_map(page)
    expect(chart.get_by_text("t-SNE of the penultimate layer's features")).to_be_visible()
    app.check()
    screenshot(page, "65-embedding-tsne")
