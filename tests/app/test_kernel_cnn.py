"""The kernel-size recipe in the training form, with AppTest: offered for kernel_cnn only, and passed on."""

import dashboard.sidebar
from core.config import KERNEL_CNN_FILTERS
from tests.support.apptest import assert_no_exception, button, start_app


def test_training_form_offers_the_kernel_size_of_kernel_cnn_only(monkeypatch, tmp_path):
    started = []
    monkeypatch.setattr(dashboard.sidebar, "start_training", started.append)
    at = start_app(monkeypatch, tmp_path / "runs")
    assert not [slider for slider in at.sidebar.select_slider if slider.label == "Kernel size"]
    at.selectbox(key="train_arch").set_value("kernel_cnn").run()
    (kernel_size,) = [slider for slider in at.sidebar.select_slider if slider.label == "Kernel size"]
    assert kernel_size.value == 5 and list(kernel_size.options) == ["3", "5", "7"]
    kernel_size.set_value(7)
    button(at, "Start training", at.sidebar).click()
    at.run()
    assert_no_exception(at)
    (config,) = started
    assert config.arch == "kernel_cnn" and config.kernel_size == 7 and config.filters == KERNEL_CNN_FILTERS[7]
