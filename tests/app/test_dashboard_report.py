"""The sidebar's "Download report (HTML)" (dashboard/report_download.py), driven headless with AppTest.

The click itself (Streamlit's deferred download, on a thread of its own) is tested in a real browser:
tests/browser/test_report.py.
"""

from __future__ import annotations

from tests.support.apptest import assert_no_exception, start_app

LABEL = "Download report (HTML)"


def download_buttons(at):
    return [element for element in at.sidebar.get("download_button") if element.proto.label == LABEL]


def test_sidebar_offers_the_report_of_the_active_model(monkeypatch, tmp_path, tiny_runs):
    root, ids = tiny_runs.store_with(tmp_path / "runs", tiny="alpha")
    run_id = ids["tiny"]
    at = start_app(monkeypatch, root)  # the best saved run becomes the active model
    assert_no_exception(at)
    buttons = download_buttons(at)
    assert len(buttons) == 1
    assert buttons[0].proto.ignore_rerun  # a download does not rerun the page
    assert any(run_id in success.value for success in at.sidebar.success)  # of the active run


def test_no_report_button_without_a_model(monkeypatch, tmp_path):
    at = start_app(monkeypatch, tmp_path / "empty-runs")
    assert download_buttons(at) == []
