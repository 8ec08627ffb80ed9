"""The sidebar's activation and early-stopping choices reach the run, and Training curves names the monitor."""

from __future__ import annotations

from core.runs import RunStore
from tests.support.apptest import button, go, start_app, texts, wait_for_job


def test_sidebar_trains_with_the_chosen_activation_and_monitor(monkeypatch, tmp_path):
    root = tmp_path / "runs"
    at = start_app(monkeypatch, root)
    assert at.selectbox(key="act_mlp").value == "relu"  # the seed's
    assert at.selectbox(key="train_monitor").value == "val_loss"
    at.selectbox(key="act_mlp").set_value("tanh")
    at.selectbox(key="train_monitor").set_value("val_accuracy")
    {widget.label: widget for widget in at.sidebar.number_input}["Epochs"].set_value(2)
    button(at, "Start training", at.sidebar).click()
    at.run()
    wait_for_job(at, lambda at: any(s.startswith("Finished: test accuracy") for s in texts(at.sidebar.success)))

    (run,), _ = RunStore(root).list_runs()
    assert run.config.activation == ("tanh",) and run.config.early_stopping_monitor == "val_accuracy"
    go(at, "training_curves")
    metrics = {m.label: m.value for m in at.main.metric}
    assert "Best epoch (lowest val. loss)" not in metrics
    assert metrics["Best epoch (highest val. accuracy)"] == str(run.record.best_epoch)
    assert any("watched val_accuracy" in caption for caption in texts(at.main.caption))
    config_table = at.main.dataframe[1].value
    assert config_table.loc["activation", "value"] == "['tanh']"
    assert config_table.loc["early_stopping_monitor", "value"] == "val_accuracy"
