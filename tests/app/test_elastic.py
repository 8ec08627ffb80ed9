"""Elastic distortions in the training form, with AppTest: the checkbox's choice reaches the training it starts."""

import pytest

import dashboard.sidebar
from tests.support.apptest import assert_no_exception, button, start_app

# ---- the option --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ticked", [False, True])
def test_the_training_form_passes_the_elastic_choice_on(monkeypatch, tmp_path, ticked):
    started = []
    monkeypatch.setattr(dashboard.sidebar, "start_training", started.append)
    at = start_app(monkeypatch, tmp_path / "runs")
    (elastic,) = [box for box in at.sidebar.checkbox if box.label == "Elastic distortions"]
    assert elastic.value is False
    elastic.set_value(ticked)
    button(at, "Start training", at.sidebar).click()
    at.run()
    assert_no_exception(at)
    (config,) = started
    assert config.elastic is ticked
