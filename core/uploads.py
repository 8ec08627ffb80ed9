"""A model trained elsewhere, kept as a run: saved with its adapter, its record marked as uploaded."""

from __future__ import annotations

from pathlib import Path

from core.adapters import AdaptedModel
from core.analysis.evaluation import Evaluation, evaluate
from core.config import TrainConfig
from core.data import MnistData
from core.experiment import library_versions
from core.record import DataSummary, RunRecord, TestMetrics, UploadSummary
from core.runs import RunInfo, RunStore

UPLOADED_ARCH = "uploaded"  # the architecture a kept upload is listed with


def keep_as_run(
    adapted: AdaptedModel,
    file_name: str,
    data: MnistData,
    store: RunStore,
    evaluation: Evaluation | None = None,
) -> RunInfo:
    """Save an uploaded model, adapter included, as a new run scored on `data`'s test set.

    The run reloads through the store like any other (safe mode: the adapter's layers are registered
    in core.adapter_layers). Pass the model's `evaluation` on `data` when it is at hand.
    """
    evaluation = evaluation or evaluate(adapted.model, data.x_test, data.y_test)
    name = Path(file_name).stem
    record = RunRecord(
        config=TrainConfig(arch=UPLOADED_ARCH, hidden_units=(), dropout=0.0, name=name),
        data=DataSummary(**data.summary()),  # the data it was scored on, not trained on
        test_metrics=TestMetrics.from_dict(evaluation.summary()),
        parameters=int(adapted.original.count_params()),
        versions=library_versions(),
        upload=UploadSummary(file_name, adapted.input_layout, adapted.outputs_logits, adapted.pixel_scale),
    )
    return store.save(adapted.model, record, name)
