"""Full integer quantization, set up once for every script that makes a .tflite file
(scripts/oracle/gen_*.py, scripts/make-default-model.py): TensorFlow only, so the latter's
plain TensorFlow environment can import it too."""
import tensorflow as tf


def convert_int8(conv, representative, input_type=tf.int8, output_type=tf.int8):
    """Converts with `conv` (a tf.lite.TFLiteConverter): DEFAULT optimizations, ranges calibrated
    on `representative` (a generator function of input lists), int8 builtin kernels only, and the
    given model input / output types (tf.float32 leaves the converter's float default)."""
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if input_type != tf.float32:
        conv.inference_input_type = input_type
    if output_type != tf.float32:
        conv.inference_output_type = output_type
    return conv.convert()


def convert_keras_int8(model, examples, output_type=tf.int8):
    """`model` (a Keras model with its batch fixed to 1) converted by `convert_int8`, calibrated
    on `examples` one at a time, in order."""

    def representative():
        for i in range(len(examples)):
            yield [examples[i:i + 1]]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    return convert_int8(conv, representative, output_type=output_type)
