"""Keras' side of the suite: the reference model of a spec, seeded, and its
training and prediction timed on one TensorFlow device."""
import time

from .data import _as_input
from .records import _accuracy
from .settings import BATCH_SIZE, LEARNING_RATE, LOSS, SEED


def keras_model(spec, seed=SEED):
    """The Keras reference of ``spec``, seeded so its initial weights are
    the ones copied into spiDNN."""
    import keras
    keras.utils.set_random_seed(seed)
    layers = [keras.Input(spec.input_shape)]
    layers += [getattr(keras.layers, layer.kind)(**layer.kwargs)
               for layer in spec.layers]
    return keras.Sequential(layers)


def _keras_fit_timer():
    """A callback timing fit from the end of its first batch.

    The first batch traces and compiles the train step; spiDNN has no such
    cost inside its machine time, so Keras' rate leaves it out (the whole
    fit's time is reported as well)."""
    import keras

    class FitTimer(keras.callbacks.Callback):
        first_batch_end = None
        end = None

        def on_train_batch_end(self, batch, logs=None):
            if self.first_batch_end is None:
                self.first_batch_end = time.perf_counter()

        def on_train_end(self, logs=None):
            self.end = time.perf_counter()

    return FitTimer()


def run_keras(spec, initial_weights, data, epochs, device, filter_x=None):
    """Trains and evaluates ``spec`` in Keras on ``device`` ("/CPU:0" or
    "/GPU:0"), from ``initial_weights``; returns its figures.

    :param filter_x: images the trained model also predicts (untimed in
        the throughputs), for boosting's filters: ``_filter_probabilities``
    """
    import keras
    import tensorflow as tf
    (x_train, y_train), (x_test, y_test) = data
    x_train, x_test = _as_input(spec, x_train), _as_input(spec, x_test)
    with tf.device(device):
        model = keras_model(spec)
        model.set_weights(initial_weights)
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=LEARNING_RATE),
            loss=LOSS)
        timer = _keras_fit_timer()
        start = time.perf_counter()
        history = model.fit(x_train, y_train, epochs=epochs,
                            batch_size=BATCH_SIZE, shuffle=False, verbose=0,
                            callbacks=[timer])
        fit_wall = time.perf_counter() - start

        model.predict(x_test[:BATCH_SIZE], batch_size=BATCH_SIZE,
                      verbose=0)   # warm up: trace the predict step
        start = time.perf_counter()
        probabilities = model.predict(x_test, batch_size=BATCH_SIZE,
                                      verbose=0)
        predict_wall = time.perf_counter() - start

        filtered = {}
        if filter_x is not None:
            start = time.perf_counter()
            filtered["_filter_probabilities"] = model.predict(
                _as_input(spec, filter_x), batch_size=BATCH_SIZE, verbose=0)
            filtered["filter_predict_seconds"] = time.perf_counter() - start

    trained = len(x_train) * epochs
    after_first = trained - min(BATCH_SIZE, len(x_train))
    if after_first > 0:
        train_seconds = timer.end - timer.first_batch_end
        train_rate = after_first / train_seconds
        timing = "batches after the first (tracing) batch"
    else:   # one batch in all: nothing is left after the tracing one
        after_first = trained
        train_seconds, train_rate = fit_wall, trained / fit_wall
        timing = "whole fit (a single batch, tracing included)"
    return {
        **filtered,
        "trained": True,
        "train_samples": trained,
        "train_samples_timed": after_first,
        "device": device,
        "accuracy": _accuracy(probabilities, y_test),
        "loss_per_epoch": [float(v) for v in history.history["loss"]],
        "train_samples_per_second": train_rate,
        "train_seconds": train_seconds,
        "train_timing": timing,
        "fit_wall_seconds": fit_wall,
        "train_samples_per_second_whole_fit": trained / fit_wall,
        "predict_samples_per_second": len(x_test) / predict_wall,
        "predict_seconds": predict_wall,
        "predict_timing": "one predict call after a one-batch warm-up",
        "_probabilities": probabilities,
        "_weights": model.get_weights(),
    }


def gpu_devices():
    """Names of the GPUs TensorFlow sees (none with tensorflow-cpu)."""
    import tensorflow as tf
    return [device.name for device in tf.config.list_physical_devices("GPU")]
