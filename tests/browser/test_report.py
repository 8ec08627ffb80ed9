"""The HTML report opened from file:// with the network blocked: every chart draws, the console stays clean."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dashboard.server_process import VIEWPORT
from tests.support.browser import APP_TIMEOUT_MS, SCREENSHOT_DIR, ConsoleLog, open_app, sidebar
from tests.support.reports import full_report, remote_references, tiny_runs


@pytest.fixture(scope="module")
def report_file(tmp_path_factory, sample_data):
    root = tmp_path_factory.mktemp("report-browser")
    store, ids = tiny_runs(root / "runs", sample_data)
    path = root / "report.html"
    path.write_text(full_report(store, ids, sample_data), encoding="utf-8")
    return path


def test_report_opens_offline_with_every_chart_drawn(browser, report_file):
    context = browser.new_context(viewport=VIEWPORT)
    requested: list[str] = []

    def only_files(route):
        requested.append(route.request.url)
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_files)
    page = context.new_page()
    console = ConsoleLog(page)
    page.goto(report_file.as_uri())
    charts = page.locator(".js-plotly-plot")
    expected = report_file.read_text(encoding="utf-8").count("Plotly.newPlot(")
    expect(charts).to_have_count(expected)
    for index in range(expected):
        chart = charts.nth(index)
        chart.scroll_into_view_if_needed()
        expect(chart.locator(".main-svg").first, f"chart #{index} has no SVG").to_be_attached()
        drawn = chart.locator("g.trace, g.hm image, .heatmaplayer image, g.imagelayer image")
        expect(drawn.first, f"chart #{index} has no trace").to_be_attached()
    images = page.locator("img")
    assert images.count() > 0
    broken = page.evaluate("() => [...document.images].filter(i => !i.complete || i.naturalWidth === 0).length")
    assert broken == 0
    assert [url for url in requested if not url.startswith(("file:", "data:"))] == []
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOT_DIR / "report.png", full_page=True)
    console.assert_clean()
    context.close()


def test_sidebar_downloads_the_active_models_report(app, quick_run, tmp_path):
    page = app.page
    open_app(page, f"{app.server.url}/?run={quick_run.run_id}")
    button = sidebar(page).get_by_role("button", name="Download report (HTML)")
    expect(button).to_be_visible()
    with page.expect_download(timeout=APP_TIMEOUT_MS) as download_info:
        button.click()
    download = download_info.value
    assert download.suggested_filename == f"digit-lab-report-{quick_run.run_id}.html"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    text = path.read_text(encoding="utf-8")
    assert f"<h2>{quick_run.run_id}" in text
    for heading in ("Training curves", "Confusion matrix", "Top errors", "Calibration", "Label-issue suspects"):
        assert f"<h3>{heading}</h3>" in text
    assert remote_references(text) == []
    app.check()
