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


def assert_fits_like_keras(ours, theirs, x, y, atol=1e-4, weights_atol=None,
                           **fit_args):
    """spiDNN.keras.fit on ``ours`` and Keras' fit on ``theirs`` end with
    the same weights (to ``weights_atol``, by default ``atol``), History
    and per-batch logs (to ``atol``); ours."""
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
    weights_atol = atol if weights_atol is None else weights_atol
    for mine, keras_weights in zip(ours.get_weights(), theirs.get_weights()):
        numpy.testing.assert_allclose(mine, keras_weights, rtol=weights_atol,
                                      atol=weights_atol)
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


def _regression_data(kind, n=48, n_in=6, n_out=4):
    rng = numpy.random.default_rng(1)
    x = rng.normal(size=(n, n_in)).astype(numpy.float32)
    if kind == "distribution":
        y = rng.random((n, n_out)).astype(numpy.float32)
        y /= y.sum(axis=1, keepdims=True)
    elif kind == "counts":
        y = rng.integers(0, 4, (n, n_out)).astype(numpy.float32)
    elif kind == "binary":
        y = rng.integers(0, 2, (n, n_out)).astype(numpy.float32)
    elif kind == "onehot":
        y = numpy.eye(n_out, dtype=numpy.float32)[rng.integers(0, n_out, n)]
    else:
        y = rng.normal(size=(n, n_out)).astype(numpy.float32)
    return x, y


#: loss as compile takes it (a callable making it), output activation,
#: labels
LOSSES = {
    "MeanAbsoluteError": ("MeanAbsoluteError()", "linear", "normal"),
    "mae": ("'mae'", "linear", "normal"),
    "MeanAbsolutePercentageError": ("MeanAbsolutePercentageError()",
                                    "linear", "normal"),
    "mean_squared_logarithmic_error": (
        "keras.losses.mean_squared_logarithmic_error", "softplus", "counts"),
    "Huber": ("Huber(delta=0.5)", "linear", "normal"),
    "huber": ("'huber'", "tanh", "normal"),
    "LogCosh": ("LogCosh()", "linear", "normal"),
    "KLDivergence": ("KLDivergence()", "softmax", "distribution"),
    "kld": ("'kld'", "sigmoid", "distribution"),
    "Poisson": ("Poisson()", "softplus", "counts"),
    "Hinge": ("Hinge()", "tanh", "binary"),
    "squared_hinge": ("keras.losses.squared_hinge", "linear", "binary"),
    "CategoricalHinge": ("CategoricalHinge()", "linear", "onehot"),
    "CosineSimilarity": ("CosineSimilarity(axis=-1)", "linear", "normal"),
    "cce_smoothing": ("CategoricalCrossentropy(label_smoothing=0.1)",
                      "softmax", "onehot"),
    "cce_logits_smoothing": (
        "CategoricalCrossentropy(from_logits=True, label_smoothing=0.2)",
        "linear", "onehot"),
    "bce_logits": ("BinaryCrossentropy(from_logits=True)", "linear",
                   "binary"),
    "bce_smoothing": ("BinaryCrossentropy(label_smoothing=0.3)", "sigmoid",
                      "binary"),
    "mean_reduction": ("MeanSquaredError(reduction='mean')", "linear",
                       "normal"),
}


@pytest.mark.parametrize("case", sorted(LOSSES))
def test_each_keras_loss_trains_as_keras(case):
    """Each loss, as compile is given it, through spiDNN.keras.fit: two
    epochs of Adam equal Keras' to 1e-4 (weights, History, each batch's
    logs)."""
    import keras
    written, activation, labels = LOSSES[case]
    x, y = _regression_data(labels)

    def make_loss():
        text = written if written.startswith(("'", "keras.")) else (
            f"keras.losses.{written}")
        return eval(text, {"keras": keras})

    def build():
        return keras.Sequential([
            keras.Input((6,)), keras.layers.Dense(5, activation="tanh"),
            keras.layers.Dense(4, activation=activation)])
    ours, theirs = twin_models(build, lambda: dict(
        optimizer=keras.optimizers.Adam(0.01), loss=make_loss()))
    assert_fits_like_keras(ours, theirs, x, y, epochs=2, batch_size=16,
                           validation_split=0.25)


def test_one_step_of_each_loss_matches_keras_to_1e_6():
    """After one SGD step on one batch the weights equal Keras' to 1e-6:
    the loss core's gradient is TensorFlow's."""
    import keras
    for case in ("Huber", "LogCosh", "KLDivergence", "CosineSimilarity",
                 "CategoricalHinge", "bce_logits", "cce_logits_smoothing"):
        written, activation, labels = LOSSES[case]
        x, y = _regression_data(labels, n=16)

        def build():
            return keras.Sequential([
                keras.Input((6,)),
                keras.layers.Dense(4, activation=activation)])
        ours, theirs = twin_models(build, lambda: dict(
            optimizer=keras.optimizers.SGD(0.5),
            loss=eval(f"keras.losses.{written}", {"keras": keras})))
        spiDNN.keras.fit(ours, x, y, epochs=1, batch_size=16, verbose=0)
        theirs.fit(x, y, epochs=1, batch_size=16, verbose=0)
        for mine, keras_weights in zip(ours.get_weights(),
                                       theirs.get_weights()):
            numpy.testing.assert_allclose(mine, keras_weights, rtol=0,
                                          atol=1e-6, err_msg=case)


def test_a_model_compiled_with_settings_round_trips_through_keras(tmp_path):
    """A spiDNN model compiled with a loss's settings gives Keras the
    same loss (to_keras), and a .keras file keeps what Keras keeps."""
    import keras
    from spiDNN.layers import Dense, Input
    model = spiDNN.Model(seed=0)
    model.add(Input(3))
    model.add(Dense(2))
    model.compile(optimizer="sgd", loss=keras.losses.Huber(delta=0.25))
    kmodel = model.to_keras()
    assert isinstance(kmodel.loss, keras.losses.Huber)
    assert kmodel.loss._fn_kwargs["delta"] == 0.25
    model.compile(optimizer="sgd", loss=keras.losses.CategoricalCrossentropy(
        from_logits=True, label_smoothing=0.2))
    model.save(tmp_path / "m.keras")
    loaded = spiDNN.load_model(tmp_path / "m.keras")
    assert loaded.loss == "categorical_crossentropy"
    assert loaded.loss.settings == {"from_logits": True,
                                    "label_smoothing": 0.2}


@pytest.mark.parametrize("loss, message", [
    ("keras.losses.CategoricalCrossentropy(axis=0)", "axis=0"),
    ("keras.losses.SparseCategoricalCrossentropy(ignore_class=0)",
     "ignore_class=0"),
    ("keras.losses.BinaryFocalCrossentropy()", "BinaryFocalCrossentropy"),
    ("keras.losses.Huber(delta=-1.0)", "delta must be above 0"),
    ("'dice'", "unknown loss 'dice'"),
])
def test_losses_spidnn_does_not_compute_are_refused_by_name(loss, message):
    import keras
    from spiDNN.layers import Dense, Input
    model = spiDNN.Model()
    model.add(Input(3))
    model.add(Dense(2, activation="softmax"))
    with pytest.raises(SpiDNNConfigurationError, match=message.replace(
            "(", r"\(").replace(")", r"\)")):
        model.compile(loss=eval(loss, {"keras": keras}))


def test_a_loss_over_the_last_axis_of_a_deeper_output_is_refused():
    from spiDNN.layers import Conv1D, Input
    model = spiDNN.Model()
    model.add(Input((6, 2)))
    model.add(Conv1D(3, 2))
    model.compile(loss="categorical_hinge")
    x = numpy.zeros((4, 6, 2), numpy.float32)
    with pytest.raises(SpiDNNConfigurationError,
                       match="reduces over the last axis"):
        model.fit(x, numpy.full((4, 5, 3), 1 / 3, numpy.float32), verbose=0)


def test_hinge_labels_keras_converts_per_batch_are_refused():
    from spiDNN.layers import Dense, Input
    model = spiDNN.Model()
    model.add(Input(2))
    model.add(Dense(1))
    model.compile(loss="hinge")
    with pytest.raises(SpiDNNConfigurationError, match="each batch"):
        model.fit(numpy.zeros((4, 2)), numpy.array([0.0, 0.5, 1.0, 2.0]),
                  verbose=0)
