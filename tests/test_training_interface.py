"""Keras' training interface on spiDNN.Model, with Keras as the oracle:
metrics, validation (data and split), evaluate, callbacks, initial_epoch,
and spiDNN.keras.fit with all of them."""
import csv
import os

import keras
import numpy
import pytest

import spiDNN
from spiDNN.errors import SpiDNNConfigurationError

RNG = numpy.random.default_rng(5)
X = RNG.normal(size=(60, 8)).astype(numpy.float32)
Y = RNG.integers(0, 3, 60)
X_VAL = RNG.normal(size=(20, 8)).astype(numpy.float32)
Y_VAL = RNG.integers(0, 3, 20)
TOLERANCE = 1e-4


def keras_model(units=3, activation="softmax"):
    keras.utils.set_random_seed(1)
    return keras.Sequential([
        keras.Input((8,)), keras.layers.Dense(6, activation="tanh"),
        keras.layers.Dense(units, activation=activation)])


def pair(optimizer, loss, metrics=None, units=3, activation="softmax"):
    """A compiled Keras model and its spiDNN copy, same initial weights."""
    reference = keras_model(units, activation)
    reference.compile(optimizer=optimizer(), loss=loss, metrics=metrics)
    model = spiDNN.from_keras(keras_model(units, activation))
    model.set_weights(reference.get_weights())
    model.compile(optimizer=optimizer(), loss=loss, metrics=metrics)
    return model, reference


def assert_histories_equal(ours, theirs):
    assert set(ours.history) == set(theirs.history)
    for key, values in theirs.history.items():
        numpy.testing.assert_allclose(ours.history[key], values,
                                      atol=TOLERANCE, err_msg=key)
    assert list(ours.epoch) == list(theirs.epoch)


def assert_weights_equal(model, reference):
    for ours, theirs in zip(model.get_weights(), reference.get_weights()):
        numpy.testing.assert_allclose(ours, theirs, atol=TOLERANCE)


@pytest.mark.parametrize("loss, labels, metrics, units, activation", [
    ("sparse_categorical_crossentropy", Y, ["accuracy"], 3, "softmax"),
    ("categorical_crossentropy", numpy.eye(3)[Y],
     ["accuracy", "categorical_accuracy"][:1], 3, "softmax"),
    ("binary_crossentropy", (Y == 1).astype(numpy.float32)[:, None],
     [keras.metrics.BinaryAccuracy()], 1, "sigmoid"),
    ("mse", numpy.eye(3)[Y], ["categorical_accuracy"], 3, "softmax"),
], ids=["sparse", "categorical", "binary", "mse"])
def test_metrics_and_validation_split_match_keras(
        loss, labels, metrics, units, activation):
    model, reference = pair(lambda: keras.optimizers.Adam(0.02), loss,
                            metrics, units, activation)
    kwargs = dict(epochs=3, batch_size=16, shuffle=False, verbose=0,
                  validation_split=0.25)
    theirs = reference.fit(X, labels, **kwargs)
    ours = model.fit(X, labels, **kwargs)
    assert_histories_equal(ours, theirs)
    assert_weights_equal(model, reference)
    # evaluate on the machine, as Keras' on the host.
    numpy.testing.assert_allclose(
        model.evaluate(X, labels),
        reference.evaluate(X, labels, verbose=0), atol=TOLERANCE)


def test_validation_data_and_evaluate_return_forms():
    model, reference = pair(lambda: keras.optimizers.SGD(0.1, momentum=0.5),
                            "sparse_categorical_crossentropy", ["accuracy"])
    kwargs = dict(epochs=2, batch_size=7, shuffle=False, verbose=0,
                  validation_data=(X_VAL, Y_VAL))
    assert_histories_equal(model.fit(X, Y, **kwargs),
                           reference.fit(X, Y, **kwargs))
    ours = model.evaluate(X_VAL, Y_VAL, return_dict=True)
    theirs = reference.evaluate(X_VAL, Y_VAL, verbose=0, return_dict=True)
    assert set(ours) == set(theirs)
    for key in theirs:
        assert abs(ours[key] - theirs[key]) < TOLERANCE
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert isinstance(model.evaluate(X_VAL, Y_VAL), float)


def test_early_stopping_stops_and_restores_as_keras():
    def early():
        return keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=2, restore_best_weights=True)
    model, reference = pair(lambda: keras.optimizers.SGD(0.3, momentum=0.9),
                            "sparse_categorical_crossentropy")
    kwargs = dict(epochs=30, batch_size=16, shuffle=False, verbose=0,
                  validation_data=(X_VAL, Y_VAL))
    ours_stop, theirs_stop = early(), early()
    theirs = reference.fit(X, Y, callbacks=[theirs_stop], **kwargs)
    ours = model.fit(X, Y, callbacks=[ours_stop], **kwargs)
    assert 0 < theirs_stop.stopped_epoch < 29
    assert ours_stop.stopped_epoch == theirs_stop.stopped_epoch
    assert_histories_equal(ours, theirs)
    assert_weights_equal(model, reference)      # the best epoch's


def test_early_stopping_on_an_accuracy_knows_to_maximise():
    model, reference = pair(lambda: keras.optimizers.Adam(0.05),
                            "sparse_categorical_crossentropy", ["accuracy"])
    kwargs = dict(epochs=12, batch_size=16, shuffle=False, verbose=0,
                  validation_data=(X_VAL, Y_VAL))
    ours_stop = keras.callbacks.EarlyStopping("val_accuracy", patience=1)
    theirs_stop = keras.callbacks.EarlyStopping("val_accuracy", patience=1)
    reference.fit(X, Y, callbacks=[theirs_stop], **kwargs)
    model.fit(X, Y, callbacks=[ours_stop], **kwargs)
    assert ours_stop.stopped_epoch == theirs_stop.stopped_epoch


def test_terminate_on_nan_stops_after_the_same_batch():
    model, reference = pair(lambda: keras.optimizers.SGD(1e30), "mse")
    y = numpy.eye(3)[Y] * 1e20
    kwargs = dict(epochs=2, batch_size=4, shuffle=False, verbose=0,
                  callbacks=[keras.callbacks.TerminateOnNaN()])
    theirs = reference.fit(X, y, **kwargs)
    ours = model.fit(X, y, **{**kwargs, "callbacks": [
        keras.callbacks.TerminateOnNaN()]})
    assert len(ours.history["loss"]) == len(theirs.history["loss"]) == 1
    assert not numpy.isfinite(ours.history["loss"][0])
    assert len(ours.sample_losses[0]) == 4      # one batch, then stopped


def test_checkpoints_and_csv_logs(tmp_path):
    model, _ = pair(lambda: keras.optimizers.RMSprop(0.01),
                    "sparse_categorical_crossentropy", ["accuracy"])
    log = tmp_path / "log.csv"
    checkpoint = tmp_path / "epoch{epoch}.weights.h5"
    model.fit(X, Y, epochs=3, batch_size=16, verbose=0,
              validation_split=0.2, callbacks=[
                  keras.callbacks.CSVLogger(str(log)),
                  keras.callbacks.ModelCheckpoint(
                      str(checkpoint), save_weights_only=True)])
    with open(log) as lines:
        rows = list(csv.DictReader(lines))
    assert [row["epoch"] for row in rows] == ["0", "1", "2"]
    assert set(rows[0]) == {"epoch", "loss", "accuracy", "val_loss",
                            "val_accuracy"}
    assert sorted(os.listdir(tmp_path)) == [
        "epoch1.weights.h5", "epoch2.weights.h5", "epoch3.weights.h5",
        "log.csv"]
    # The last checkpoint holds the cores' weights after the last epoch.
    restored = spiDNN.from_keras(keras_model())
    restored.load_weights(str(tmp_path / "epoch3.weights.h5"))
    for ours, theirs in zip(restored.get_weights(), model.get_weights()):
        numpy.testing.assert_array_equal(ours, theirs)


def test_callbacks_see_keras_hooks_and_logs():
    seen = []

    class Recorder(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.append(("train_begin", self.params["epochs"]))

        def on_epoch_end(self, epoch, logs=None):
            seen.append(("epoch_end", epoch, sorted(logs)))

        def on_train_end(self, logs=None):
            seen.append(("train_end", sorted(logs)))

    model, _ = pair(lambda: keras.optimizers.SGD(0.1),
                    "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(X, Y, epochs=4, initial_epoch=2, batch_size=16,
                        verbose=0, callbacks=[Recorder()])
    keys = ["accuracy", "loss"]
    assert seen == [("train_begin", 4), ("epoch_end", 2, keys),
                    ("epoch_end", 3, keys), ("train_end", keys)]
    assert history.epoch == [2, 3]


def test_initial_epoch_matches_keras():
    model, reference = pair(lambda: keras.optimizers.Adam(0.01),
                            "sparse_categorical_crossentropy")
    kwargs = dict(epochs=4, initial_epoch=1, batch_size=16, shuffle=False,
                  verbose=0)
    assert_histories_equal(model.fit(X, Y, **kwargs),
                           reference.fit(X, Y, **kwargs))
    assert_weights_equal(model, reference)


def test_keras_fit_with_metrics_validation_and_callbacks():
    """The proposal's flow: compile in Keras, train on the machine,
    evaluate in Keras with the trained weights."""
    kmodel = keras_model()
    reference = keras_model()
    for k in (kmodel, reference):
        k.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    stop = keras.callbacks.EarlyStopping(patience=1)
    history = spiDNN.keras.fit(kmodel, X, Y, epochs=3, batch_size=16,
                               shuffle=False, verbose=0,
                               validation_split=0.25, callbacks=[stop])
    theirs = reference.fit(X, Y, epochs=3, batch_size=16, shuffle=False,
                           verbose=0, validation_split=0.25,
                           callbacks=[keras.callbacks.EarlyStopping(
                               patience=1)])
    assert_histories_equal(history, theirs)
    assert_weights_equal(kmodel, reference)
    numpy.testing.assert_allclose(
        kmodel.evaluate(X, Y, verbose=0), reference.evaluate(X, Y, verbose=0),
        atol=TOLERANCE)


@pytest.mark.parametrize("kwargs, match", [
    (dict(validation_split=1.5), "validation_split must be in"),
    (dict(validation_split=0.999), "leaves no samples to train"),
    (dict(validation_data=X_VAL), "validation_data must be a pair"),
    (dict(initial_epoch=-1), "initial_epoch must be a non-negative"),
])
def test_bad_training_arguments(kwargs, match):
    model, _ = pair(lambda: keras.optimizers.SGD(0.1),
                    "sparse_categorical_crossentropy")
    with pytest.raises(SpiDNNConfigurationError, match=match):
        model.fit(X, Y, verbose=0, **kwargs)


@pytest.mark.parametrize("loss, labels, metrics, match", [
    ("sparse_categorical_crossentropy", Y, ["auc"], "metric 'auc'"),
    ("categorical_crossentropy", numpy.eye(3)[Y],
     ["sparse_categorical_accuracy"], "needs class indices"),
    ("sparse_categorical_crossentropy", Y,
     [keras.metrics.BinaryAccuracy(threshold=0.3)], "BinaryAccuracy"),
])
def test_metrics_the_cores_cannot_compute_are_refused(loss, labels, metrics,
                                                      match):
    model, _ = pair(lambda: keras.optimizers.SGD(0.1), loss)
    model.compile(optimizer="sgd", loss=loss, metrics=metrics)
    with pytest.raises(SpiDNNConfigurationError, match=match):
        model.fit(X, labels, verbose=0)


def test_evaluate_needs_a_loss():
    model = spiDNN.from_keras(keras_model())
    with pytest.raises(SpiDNNConfigurationError, match="compile"):
        model.evaluate(X, Y)


def test_the_proposal_flow_on_digits(digits):
    """examples/keras_fit_mnist.py's model and calls on scikit-learn's
    digits (as 8x8 images), without the Dropout (Keras' masks cannot be
    drawn the same): the Keras model's weights after spiDNN.keras.fit equal
    those of Keras' own fit, and kmodel.evaluate gives the same loss."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "keras_fit_mnist", os.path.join(
            os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
            "examples", "keras_fit_mnist.py"))
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    x, y = digits
    x = x[:300].reshape(-1, 8, 8)
    y = y[:300]
    keras.utils.set_random_seed(0)
    kmodel = example.build((8, 8), 10, dropout=0)
    reference = example.build((8, 8), 10, dropout=0)
    reference.set_weights(kmodel.get_weights())
    kwargs = dict(epochs=2, batch_size=32, shuffle=False, verbose=0,
                  validation_split=0.1)
    history = spiDNN.keras.fit(kmodel, x, y, **kwargs)
    theirs = reference.fit(x, y, **kwargs)
    assert_histories_equal(history, theirs)
    assert_weights_equal(kmodel, reference)
    ours_loss, ours_accuracy = kmodel.evaluate(x, y, verbose=0)
    their_loss, their_accuracy = reference.evaluate(x, y, verbose=0)
    assert abs(ours_loss - their_loss) < TOLERANCE
    assert ours_accuracy == their_accuracy


def test_plot_history_writes_a_png(tmp_path):
    model, _ = pair(lambda: keras.optimizers.SGD(0.1),
                    "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(X, Y, epochs=2, verbose=0, validation_split=0.2)
    path = spiDNN.plot.history(history, str(tmp_path / "curves.png"))
    with open(path, "rb") as png:
        assert png.read(8) == b"\x89PNG\r\n\x1a\n"


def test_sequential_count_params_and_get_layer():
    model = spiDNN.Sequential([spiDNN.layers.Input(8),
                               spiDNN.layers.Dense(6, name="hidden"),
                               spiDNN.layers.Dense(3)])
    assert model.count_params() == keras_model().count_params() == 75
    assert model.get_layer("hidden") is model.layers[0]
    assert model.get_layer(index=-1) is model.layers[1]
    with pytest.raises(SpiDNNConfigurationError, match="no layer named"):
        model.get_layer("output")


def test_summary_shows_cores_packets_and_chips():
    model = spiDNN.Sequential([spiDNN.layers.Input(8),
                               spiDNN.layers.Dense(6, neurons_per_core=2),
                               spiDNN.layers.Dense(3, activation="softmax")])
    lines = model.summary(print_fn=None).splitlines()
    assert lines[0].split() == ["Layer", "(type)", "Output", "Shape",
                                "Param", "#", "Cores", "Packets/sample"]
    # Cores, then packets sent per sample (a softmax's z twice).
    assert lines[2].split()[-2:] == ["3", "6"]
    assert lines[3].split()[-2:] == ["3", "6"]
    assert lines[5] == ("Cores: 8 (with the input source and the output "
                        "gatherer), on at least 1 chip(s)")
    # Then the plan: each layer's slice and why.
    assert lines[6].startswith("Plan for inference: ")
    assert "2 per core on 3 core(s)" in lines[7]
    assert "neurons_per_core given" in lines[7]


def test_a_callback_cannot_replace_the_weights_mid_run():
    """The cores hold the weights while training: a callback that sets
    them mid-run is told so, never silently ignored."""
    class Resetter(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.set_weights(self.model.get_weights())

    model, _ = pair(lambda: keras.optimizers.SGD(0.1),
                    "sparse_categorical_crossentropy")
    with pytest.raises(SpiDNNConfigurationError, match="during fit"):
        model.fit(X, Y, epochs=2, verbose=0, callbacks=[Resetter()])
    model.set_weights(model.get_weights())      # after fit: fine


class _StopAt(keras.callbacks.Callback):
    """Sets stop_training in one hook."""

    def __init__(self, hook):
        super().__init__()
        setattr(self, hook, self._stop)

    def _stop(self, *args):
        self.model.stop_training = True


@pytest.mark.parametrize("hook", ["on_train_begin", "on_epoch_begin"])
def test_stop_training_before_the_batches_trains_one_batch_as_keras(hook):
    model, reference = pair(lambda: keras.optimizers.SGD(0.2),
                            "sparse_categorical_crossentropy")
    kwargs = dict(epochs=3, batch_size=16, shuffle=False, verbose=0)
    theirs = reference.fit(X, Y, callbacks=[_StopAt(hook)], **kwargs)
    ours = model.fit(X, Y, callbacks=[_StopAt(hook)], **kwargs)
    assert_histories_equal(ours, theirs)
    assert_weights_equal(model, reference)


def test_lambda_callback_batch_hooks_are_called_with_keras_logs():
    def recorder(seen):
        def stop_third(batch, logs):
            seen.append((batch, sorted(logs)))
            if batch == 2:
                model_of[id(seen)].stop_training = True
        return keras.callbacks.LambdaCallback(on_train_batch_end=stop_third)
    model, reference = pair(lambda: keras.optimizers.Adam(0.02),
                            "sparse_categorical_crossentropy", ["accuracy"])
    ours_seen, theirs_seen = [], []
    model_of = {id(ours_seen): model, id(theirs_seen): reference}
    kwargs = dict(epochs=2, batch_size=8, shuffle=False, verbose=0)
    reference.fit(X, Y, callbacks=[recorder(theirs_seen)], **kwargs)
    model.fit(X, Y, callbacks=recorder(ours_seen), **kwargs)  # one, bare
    assert ours_seen == theirs_seen == [
        (0, ["accuracy", "loss"]), (1, ["accuracy", "loss"]),
        (2, ["accuracy", "loss"])]
    assert_weights_equal(model, reference)


def test_callbacks_that_are_not_callbacks_are_refused():
    model, _ = pair(lambda: keras.optimizers.SGD(0.1),
                    "sparse_categorical_crossentropy")
    with pytest.raises(SpiDNNConfigurationError,
                       match="keras.callbacks.Callback objects.*'early_"):
        model.fit(X, Y, callbacks=["early_stopping"], verbose=0)


def test_keras_fit_leaves_the_history_on_the_keras_model():
    reference = keras_model()
    reference.compile(optimizer=keras.optimizers.SGD(0.1),
                      loss="sparse_categorical_crossentropy")
    history = spiDNN.keras.fit(reference, X, Y, epochs=2, batch_size=16,
                               verbose=0)
    assert reference.history is history
    assert list(history.history) == ["loss"] and len(history.epoch) == 2


def test_the_original_form_of_fit_streams_the_samples_in_order():
    """fit(x, y, loss, epochs, batch_size, learning_rate), as the original
    spiDNN's, does not shuffle: Keras' SGD over the samples in order."""
    reference = keras_model()
    reference.compile(optimizer=keras.optimizers.SGD(0.1),
                      loss="sparse_categorical_crossentropy")
    model = spiDNN.from_keras(keras_model())
    model.set_weights(reference.get_weights())
    ours = model.fit(X, Y, "sparse_categorical_crossentropy", 2, 4, 0.1,
                     verbose=0)
    theirs = reference.fit(X, Y, epochs=2, batch_size=4, shuffle=False,
                           verbose=0)
    numpy.testing.assert_allclose(ours.history["loss"],
                                  theirs.history["loss"], atol=TOLERANCE)
    assert_weights_equal(model, reference)
