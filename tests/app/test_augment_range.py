"""Augmentation's range in the training form, with AppTest: the chosen range reaches the training it starts."""

import dashboard.sidebar
from tests.support.apptest import assert_no_exception, button, start_app


def test_the_training_form_passes_the_chosen_range_on(monkeypatch, tmp_path):
    started = []
    monkeypatch.setattr(dashboard.sidebar, "start_training", started.append)
    at = start_app(monkeypatch, tmp_path / "runs")
    (choice,) = [slider for slider in at.sidebar.select_slider if slider.label == "Augmentation range"]
    assert choice.value == "±10°, ±10%"
    choice.set_value("±20°, ±20%")
    button(at, "Start training", at.sidebar).click()
    at.run()
    assert_no_exception(at)
    (config,) = started
    assert (config.augment_rotation, config.augment_shift) == (20.0, 0.2)
