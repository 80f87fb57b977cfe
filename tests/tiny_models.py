"""Tiny models built with plain TensorFlow calls, for the shapes a student's model may have:
free input size, two outputs, two inputs. Each converts in about a second."""

from __future__ import annotations

import numpy as np


def _module(input_shape, outputs: str = "one", inputs: int = 1):
    import tensorflow as tf

    rng = np.random.default_rng(0)

    class Tiny(tf.Module):
        def __init__(self):
            self.kernel = tf.Variable(rng.normal(size=(3, 3, 3, 4)).astype(np.float32))
            self.dense = tf.Variable(rng.normal(size=(4, 5)).astype(np.float32))
            self.boxes = tf.Variable(rng.normal(size=(4, 4)).astype(np.float32))

        def _features(self, image):
            return tf.reduce_mean(tf.nn.relu(tf.nn.conv2d(image, self.kernel, 1, "SAME")), [1, 2])

        def _outputs(self, features):
            scores = tf.nn.softmax(features @ self.dense)
            if outputs == "one":
                return scores
            return {"boites": tf.sigmoid(features @ self.boxes), "scores": scores}

    module = Tiny()
    spec = tf.TensorSpec(input_shape, tf.float32, name="image")
    if inputs == 1:
        module.serve = tf.function(
            lambda image: module._outputs(module._features(image)), input_signature=[spec]
        )
    else:
        second = tf.TensorSpec(input_shape, tf.float32, name="image2")
        module.serve = tf.function(
            lambda image, image2: module._outputs(module._features(image + image2)),
            input_signature=[spec, second],
        )
    return module


def _convert(module, integer: bool, sample_shape=(1, 16, 16, 3)) -> bytes:
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [module.serve.get_concrete_function()], module
    )
    if integer:
        inputs = len(module.serve.input_signature)

        def representative_dataset():
            rng = np.random.default_rng(1)
            for _ in range(8):
                yield [rng.uniform(-1, 1, sample_shape).astype(np.float32) for _ in range(inputs)]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative_dataset
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    return converter.convert()


def free_size_model(integer: bool = True) -> bytes:
    """Input (1, -1, -1, 3): any height and width; 5 softmax outputs."""
    return _convert(_module([1, None, None, 3]), integer)


def two_output_model(integer: bool = False, size: int = 64) -> bytes:
    """Input (1, size, size, 3); two outputs: "boites" (4 values) and "scores" (5, softmax)."""
    return _convert(_module([1, size, size, 3], outputs="two"), integer, (1, size, size, 3))


def two_input_model() -> bytes:
    """Two image inputs (1, 16, 16, 3), one output."""
    return _convert(_module([1, 16, 16, 3], inputs=2), False)


def two_output_saved_model(folder) -> None:
    """The two-output model as a SavedModel with a serving_default signature."""
    import tensorflow as tf

    module = _module([None, 64, 64, 3], outputs="two")
    tf.saved_model.save(module, str(folder), signatures={"serving_default": module.serve})


def _vector_model(function, flex: bool) -> bytes:
    import tensorflow as tf

    class Vector(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32)])
        def serve(self, x):
            return function(x)

    module = Vector()
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [module.serve.get_concrete_function()], module
    )
    if flex:
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.TFLITE_BUILTINS,
            tf.lite.OpsSet.SELECT_TF_OPS,
        ]
    else:
        converter.allow_custom_ops = True
    return converter.convert()


def flex_model() -> bytes:
    """A model with a TensorFlow « Flex » op (Cumprod), converted with SELECT_TF_OPS."""
    import tensorflow as tf

    return _vector_model(lambda x: tf.math.cumprod(x, axis=1), flex=True)


def custom_op_model() -> bytes:
    """A model with a custom op (Igamma), converted with allow_custom_ops."""
    import tensorflow as tf

    return _vector_model(lambda x: tf.math.igamma(x, x + 1.0), flex=False)
