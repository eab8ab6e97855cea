"""Keras' losses with their settings, trained on the machine: every
per-sample loss of ``keras.losses`` (class, function and name forms),
``from_logits=True`` on a linear output (TensorFlow's beginner quickstart
as written, but for its Dropout), label smoothing and the reductions,
against Keras' own fit: weights, History and the per-batch logs to 1e-4,
the weights after one step to 1e-6.  (The formulas themselves are
checked against TensorFlow's autodiff in test_loss_formulas.)
"""
import numpy
import pytest

import spiDNN
import spiDNN.keras
from spiDNN.errors import SpiDNNConfigurationError
from conftest import upscale_to_mnist


class BatchLogs:
    """Records the logs every batch ends with (a Keras callback)."""

    def __new__(cls):
        import keras

        class Recorder(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.logs = []

            def on_train_batch_end(self, batch, logs=None):
                self.logs.append(dict(logs or {}))
        return Recorder()


def twin_models(build, compile_args):
    """Two Keras models of equal weights, compiled alike."""
    import keras
    keras.utils.set_random_seed(0)
    ours, theirs = build(), build()
    theirs.set_weights(ours.get_weights())
    for kmodel in (ours, theirs):
        kmodel.compile(**compile_args())
    return ours, theirs


def assert_fits_like_keras(ours, theirs, x, y, atol=1e-4, **fit_args):
    """spiDNN.keras.fit on ``ours`` and Keras' fit on ``theirs`` end with
    the same weights, History and per-batch logs."""
    fit_args = dict(shuffle=False, verbose=0, **fit_args)
    our_logs, their_logs = BatchLogs(), BatchLogs()
    history = spiDNN.keras.fit(ours, x, y, callbacks=[our_logs], **fit_args)
    keras_history = theirs.fit(x, y, callbacks=[their_logs], **fit_args)
    assert sorted(history.history) == sorted(keras_history.history)
    for key, values in keras_history.history.items():
        numpy.testing.assert_allclose(history.history[key], values,
                                      rtol=atol, atol=atol, err_msg=key)
    assert len(our_logs.logs) == len(their_logs.logs)
    for batch, (mine, keras_logs) in enumerate(zip(our_logs.logs,
                                                   their_logs.logs)):
        assert sorted(mine) == sorted(keras_logs), batch
        for key in keras_logs:
            numpy.testing.assert_allclose(
                mine[key], float(keras_logs[key]), rtol=atol, atol=atol,
                err_msg=f"batch {batch}: {key}")
    for mine, keras_weights in zip(ours.get_weights(), theirs.get_weights()):
        numpy.testing.assert_allclose(mine, keras_weights, rtol=atol,
                                      atol=atol)
    return history


def test_tensorflow_beginner_quickstart_as_written(digits):
    """tensorflow.org/tutorials/quickstart/beginner: Flatten,
    Dense(128, relu), Dense(10) (no softmax: logits), compiled with
    SparseCategoricalCrossentropy(from_logits=True), adam and accuracy;
    its Dropout(0.2) left out, so that both sides compute the same."""
    import keras
    images, labels = digits
    x = upscale_to_mnist(images[:96]).reshape(-1, 28, 28)
    y = labels[:96]

    def build():
        return keras.models.Sequential([
            keras.Input((28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10)])

    def compile_args():
        return dict(optimizer="adam",
                    loss=keras.losses.SparseCategoricalCrossentropy(
                        from_logits=True),
                    metrics=["accuracy"])
    ours, theirs = twin_models(build, compile_args)
    history = assert_fits_like_keras(ours, theirs, x, y, epochs=2,
                                     batch_size=32)
    assert history.history["loss"][1] < history.history["loss"][0]
    # The output stayed linear: predictions are the logits, as Keras'.
    numpy.testing.assert_allclose(ours.predict(x[:8], verbose=0),
                                  theirs.predict(x[:8], verbose=0),
                                  atol=1e-4)
