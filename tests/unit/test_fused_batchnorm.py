"""The fused BatchNorm: Keras' function in training, Keras' own layer in everything training hands on."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from core.config import TrainConfig
from core.fused_batchnorm import FusedBatchNormalization
from core.training import train

BFLOAT16 = "mixed_bfloat16"


def paired_layers(policy: str, **options) -> tuple[keras.layers.Layer, keras.layers.Layer]:
    """Keras' BatchNormalization and the fused one, with the same non-trivial scale and offset."""
    pair = (
        keras.layers.BatchNormalization(momentum=0.9, dtype=policy, **options),
        FusedBatchNormalization(momentum=0.9, dtype=policy, **options),
    )
    rng = np.random.default_rng(1)
    gamma, beta = rng.normal(1.0, 0.2, 4).astype("float32"), rng.normal(0.0, 0.2, 4).astype("float32")
    for layer in pair:
        layer.build((8, 5, 5, 4))
        if layer.scale:
            layer.gamma.assign(gamma)
        layer.beta.assign(beta)
    return pair


def training_pass(layer: keras.layers.Layer, images: tf.Tensor) -> tuple[np.ndarray, list[np.ndarray]]:
    """Outputs of one training call, and the gradients of a non-linear loss for the inputs and the weights."""
    with tf.GradientTape() as tape:
        tape.watch(images)
        outputs = layer(images, training=True)
        loss = tf.reduce_sum(tf.cast(outputs, "float32") ** 3)
    gradients = tape.gradient(loss, [images, *layer.trainable_variables])
    return np.asarray(outputs, "float32"), [np.asarray(gradient) for gradient in gradients]


def batch_of_images() -> tf.Tensor:
    return tf.constant(np.random.default_rng(0).normal(2.0, 3.0, (8, 5, 5, 4)).astype("float32"))


def fused_kernel_calls(layer: keras.layers.Layer, images: tf.Tensor) -> int:
    graph = tf.function(lambda x: layer(x, training=True)).get_concrete_function(images).graph
    return sum(op.type.startswith("FusedBatchNorm") for op in graph.get_operations())


@pytest.mark.parametrize("policy, tolerance", [("float32", 1e-5), (BFLOAT16, 1e-4)])
@pytest.mark.parametrize("scale", [True, False])
def test_a_training_call_computes_what_keras_computes(policy, tolerance, scale):
    keras_layer, fused_layer = paired_layers(policy, scale=scale)
    images = batch_of_images()
    expected_outputs, expected_gradients = training_pass(keras_layer, images)
    outputs, gradients = training_pass(fused_layer, images)
    np.testing.assert_allclose(outputs, expected_outputs, atol=0.02 if policy == BFLOAT16 else 1e-5)
    for gradient, expected in zip(gradients, expected_gradients, strict=True):
        assert np.abs(gradient - expected).max() <= tolerance * np.abs(expected).max()
    np.testing.assert_allclose(fused_layer.moving_mean.numpy(), keras_layer.moving_mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(fused_layer.moving_variance.numpy(), keras_layer.moving_variance.numpy(), rtol=1e-5)


def test_a_training_call_runs_the_fused_kernel_and_inference_runs_keras_own():
    keras_layer, fused_layer = paired_layers("float32")
    images = batch_of_images()
    assert fused_kernel_calls(fused_layer, images) == 1
    assert fused_kernel_calls(keras_layer, images) == 0
    np.testing.assert_array_equal(fused_layer(images, training=False), keras_layer(images, training=False))


def test_a_batch_that_is_not_an_image_batch_takes_keras_path():
    keras_layer, fused_layer = keras.layers.BatchNormalization(), FusedBatchNormalization()
    features = tf.constant(np.random.default_rng(0).normal(size=(16, 6)).astype("float32"))
    np.testing.assert_allclose(fused_layer(features, training=True), keras_layer(features, training=True), atol=1e-6)


class LayerSpy(keras.callbacks.Callback):
    """Records the classes of the BatchNorm layers of the model being trained."""

    def on_train_begin(self, logs=None):
        self.classes = {type(layer) for layer in self.model.layers if "bn" in layer.name}


@pytest.mark.parametrize("arch, precision", [("fast_cnn", BFLOAT16), ("deep_cnn", "float32")])
def test_training_runs_fused_and_hands_on_keras_own_layers(arch, precision, small_data):
    spy = LayerSpy()
    config = TrainConfig.for_arch(arch, epochs=1, precision=precision, train_limit=600, filters=(16, 32, 32))
    result = train(config, small_data, extra_callbacks=[spy])
    assert spy.classes == {FusedBatchNormalization}
    handed_on = {type(layer) for layer in result.model.layers if "bn" in layer.name}
    assert handed_on == {keras.layers.BatchNormalization}  # a saved run loads with plain Keras
