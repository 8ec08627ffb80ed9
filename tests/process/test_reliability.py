"""Reliability: a process killed in the middle of a save leaves no run, and its debris is cleaned later."""

import os
import signal
import subprocess
import sys
import textwrap
import time

from core.config import TrainConfig
from core.record import RunRecord
from core.runs import STAGING_PREFIX, RunStore
from tests.support.paths import REPO_ROOT as REPO

SLOW_SAVE = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {repo!r})
    import keras
    from core.config import TrainConfig
    from core.record import RunRecord
    from core.runs import RunStore
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10)])
    original_save = keras.Model.save
    def slow_save(self, path, *args, **kwargs):
        original_save(self, path, *args, **kwargs)
        print("model written", flush=True)
        time.sleep(60)  # killed here, between the model file and run.json
    keras.Model.save = slow_save
    RunStore({store!r}).save(model, RunRecord(config=TrainConfig()), name="killed")
    """
)


def test_killing_the_process_mid_save_leaves_no_run(tmp_path, trained_store):
    store_path = tmp_path / "store"
    _, result = trained_store
    complete = RunStore(store_path).save(result.training.model, RunRecord(config=TrainConfig()), name="complete")
    script = SLOW_SAVE.format(repo=str(REPO), store=str(store_path))
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "model written"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    runs, damaged = RunStore(store_path).list_runs()
    assert [run.run_id for run in runs] == [complete.run_id] and damaged == []
    leftovers = list(store_path.glob(f"{STAGING_PREFIX}*"))
    assert len(leftovers) == 1  # crash debris, hidden from listings
    old = time.time() - 7200
    os.utime(leftovers[0], (old, old))
    RunStore(store_path).save(result.training.model, RunRecord(config=TrainConfig()), name="next")
    assert not list(store_path.glob(f"{STAGING_PREFIX}*"))  # stale debris cleaned on the next save
