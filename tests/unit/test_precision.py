"""Training in bfloat16 where the CPU has it, and the float32 model it hands on."""

import keras
import numpy as np
import pytest

from core.analysis.evaluation import evaluate
from core.config import TrainConfig
from core.data import split_validation
from core.errors import ConfigError
from core.experiment import run_experiment
from core.models import build_model
from core.precision import cpu_flags, training_precision
from core.runs import RunStore
from core.training import train

BFLOAT16 = "mixed_bfloat16"


def layer_policies(model: keras.Model) -> list[str]:
    return [layer.dtype_policy.name for layer in model.layers]


class PolicySpy(keras.callbacks.Callback):
    """Records the dtype policy of every layer of the model being trained."""

    def on_train_begin(self, logs=None):
        self.policies = layer_policies(self.model)


def test_auto_takes_bfloat16_only_where_the_cpu_computes_it_natively():
    assert training_precision("auto", frozenset({"avx2", "avx512f", "avx512_bf16"})) == BFLOAT16
    assert training_precision("auto", frozenset({"amx_bf16", "amx_tile"})) == BFLOAT16
    assert training_precision("auto", frozenset({"avx2", "avx512f"})) == "float32"
    assert training_precision("auto", frozenset()) == "float32"
    assert training_precision("float32", frozenset({"avx512_bf16"})) == "float32"
    assert training_precision(BFLOAT16, frozenset()) == BFLOAT16


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu sse2 avx512_bf16\n\n")
    assert cpu_flags(cpuinfo) == {"fpu", "sse2", "avx512_bf16"}
    assert cpu_flags(tmp_path / "missing") == frozenset()


def test_the_speed_recipe_trains_in_auto_precision_and_others_in_float32():
    assert TrainConfig.for_arch("fast_cnn").precision == "auto"
    assert {TrainConfig.for_arch(arch).precision for arch in ("mlp", "cnn", "deep_cnn", "draw_cnn")} == {"float32"}
    assert TrainConfig.from_dict({"arch": "fast_cnn"}).precision == "float32"  # runs saved before the field
    with pytest.raises(ConfigError, match="precision"):
        TrainConfig.for_arch("fast_cnn", precision="float16")


def test_a_bfloat16_model_keeps_its_softmax_in_float32():
    model = build_model(TrainConfig.for_arch("fast_cnn"), policy=BFLOAT16)
    policies = layer_policies(model)
    assert policies[-1] == "float32"
    assert set(policies[:-1]) == {BFLOAT16}
    assert model(np.zeros((2, 28, 28), np.float32)).dtype == "float32"


def test_bfloat16_training_hands_on_a_float32_model_with_the_trained_weights(small_data):
    spy = PolicySpy()
    config = TrainConfig.for_arch("fast_cnn", epochs=2, precision=BFLOAT16)
    result = train(config, small_data, extra_callbacks=[spy])
    assert set(spy.policies[:-1]) == {BFLOAT16}  # it trained in bfloat16...
    assert set(layer_policies(result.model)) == {"float32"}  # ...and what it hands on is float32
    assert result.precision == BFLOAT16
    assert evaluate(result.model, small_data.x_test, small_data.y_test).accuracy >= 0.5  # trained, not fresh
    # Validated in bfloat16, it predicts the validation images in float32 within a few of the 120.
    _, _, x_val, y_val = split_validation(small_data.x_train, small_data.y_train, 0.1, config.seed)
    validated = result.history[result.best_epoch - 1]["val_accuracy"]
    assert evaluate(result.model, x_val, y_val).accuracy == pytest.approx(validated, abs=0.03)


def test_a_run_records_the_precision_it_trained_in(small_data, tmp_path):
    store = RunStore(tmp_path)
    config = TrainConfig.for_arch("fast_cnn", precision=BFLOAT16, train_limit=500)
    run = run_experiment(config, small_data, store).run
    saved = store.get(run.run_id)
    assert saved.record.training_precision == BFLOAT16
    assert set(layer_policies(store.load_model(run.run_id))) == {"float32"}
