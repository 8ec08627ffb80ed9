"""The report download's file name (dashboard/report_download.py): a plain slug of the model's name."""

from __future__ import annotations

from dashboard.report_download import slug


def test_slug_keeps_file_names_plain():
    assert slug("ensemble of 3 runs") == "ensemble-of-3-runs"
    assert slug("mine (v2).keras") == "mine-v2-.keras"
    assert slug("///") == "model"
