"""Weight averaging in the training form, with AppTest: the chosen decay reaches the training it starts."""

import dashboard.sidebar
from tests.support.apptest import assert_no_exception, button, start_app


def test_the_training_form_passes_the_chosen_decay_on(monkeypatch, tmp_path):
    started = []
    monkeypatch.setattr(dashboard.sidebar, "start_training", started.append)
    at = start_app(monkeypatch, tmp_path / "runs")
    (choice,) = [slider for slider in at.sidebar.select_slider if slider.label == "Weight averaging"]
    assert choice.value == 0.0
    choice.set_value(0.999)
    button(at, "Start training", at.sidebar).click()
    at.run()
    assert_no_exception(at)
    (config_,) = started
    assert config_.weight_averaging == 0.999
