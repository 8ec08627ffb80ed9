"""Run records for the tests: a configuration-only record and a run.json saved by the first version."""

from pathlib import Path

from core.config import TrainConfig
from core.record import RunRecord

MLP_RECORD = RunRecord(config=TrainConfig(arch="mlp"))  # a record holding a configuration only
# run.json as saved before schema_version existed (`python -m core.train` at commit dd05497).
RUN_V1 = Path(__file__).resolve().parents[1] / "fixtures" / "run_v1.json"
