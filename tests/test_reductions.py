"""Keras 3's loss reductions (keras/src/losses/loss.py reduce_values) in
fit and evaluate, against Keras' own: ``sum``, ``sum_over_batch_size``,
``mean``, ``mean_with_sample_weight`` (over the batch's sum of weights)
and ``none`` (Keras trains the vector's sum and logs its mean), with and
without sample_weight or class_weight, a short last batch in every case
(22 samples in batches of 8).  Weights to 1e-6 after two epochs of SGD,
History and every batch's logs to 1e-5; evaluate's loss to 1e-5.
"""
import numpy
import pytest

import spiDNN
import spiDNN.keras
from spiDNN.errors import SpiDNNConfigurationError
from test_losses_keras import assert_fits_like_keras, twin_models

rng = numpy.random.default_rng(11)
X = rng.normal(size=(22, 3)).astype(numpy.float32)
Y = rng.normal(size=(22, 2)).astype(numpy.float32)
WEIGHTS = rng.uniform(0.0, 2.0, len(X)).astype(numpy.float32)
WEIGHTS[16:] = 0.0            # the short last batch weighs nothing
CLASSES = (X[:, 0] > 0).astype(numpy.int64)


def _mlp(units=2, activation="linear"):
    import keras

    def build():
        return keras.Sequential([
            keras.Input((3,)), keras.layers.Dense(4, activation="tanh"),
            keras.layers.Dense(units, activation=activation)])
    return build


def _compiled(loss, **more):
    import keras
    return lambda: dict(optimizer=keras.optimizers.SGD(0.05), loss=loss(),
                        **more)


def _mse(reduction):
    import keras
    return lambda: keras.losses.MeanSquaredError(reduction=reduction)


@pytest.mark.parametrize("reduction, weighted", [
    ("sum", False), ("sum", True), ("mean", True),
    ("mean_with_sample_weight", True), ("none", False), (None, True)])
def test_each_reduction_fits_as_keras(reduction, weighted):
    ours, theirs = twin_models(_mlp(), _compiled(_mse(reduction)))
    assert_fits_like_keras(
        ours, theirs, X, Y, epochs=2, batch_size=8, atol=1e-5,
        weights_atol=1e-6, sample_weight=WEIGHTS if weighted else None)


def test_mean_with_sample_weight_of_class_weight_and_weighted_validation():
    """class_weight becomes each sample's weight, which the batch's sum
    divides; the validation data's own weights divide its batches."""
    import keras
    ours, theirs = twin_models(_mlp(2, "softmax"), _compiled(
        lambda: keras.losses.SparseCategoricalCrossentropy(
            reduction="mean_with_sample_weight")))
    assert_fits_like_keras(
        ours, theirs, X, CLASSES, epochs=2, batch_size=8, atol=1e-5,
        weights_atol=1e-6, class_weight={0: 0.25, 1: 3.0},
        validation_data=(X[:11], CLASSES[:11], WEIGHTS[:11]),
        validation_batch_size=4)


def test_two_outputs_reduced_each_their_way_with_loss_weights():
    """The total loss adds each output's reduced loss times its weight;
    each output's own loss is logged reduced."""
    import keras

    def build():
        inputs = keras.Input((3,))
        hidden = keras.layers.Dense(4, activation="tanh")(inputs)
        return keras.Model(inputs, [
            keras.layers.Dense(2, name="a")(hidden),
            keras.layers.Dense(1, activation="sigmoid", name="b")(hidden)])
    ours, theirs = twin_models(build, lambda: dict(
        optimizer=keras.optimizers.SGD(0.05),
        loss=[keras.losses.MeanSquaredError(reduction="sum"),
              keras.losses.BinaryCrossentropy(
                  reduction="mean_with_sample_weight")],
        loss_weights=[0.5, 2.0]))
    assert_fits_like_keras(
        ours, theirs, X, [Y, (X[:, 1] > 0).astype(numpy.float32)],
        epochs=2, batch_size=8, atol=1e-5, weights_atol=1e-6,
        sample_weight=WEIGHTS, validation_split=0.25)


def test_sum_over_an_output_of_two_axes_keeps_every_position():
    """An output of shape (5, 3): Keras' mean squared error keeps a loss
    per position, shape (batch, 5), and "sum" adds them all."""
    import keras

    def build():
        return keras.Sequential([keras.Input((6, 2)),
                                 keras.layers.Conv1D(3, 2)])
    x = rng.normal(size=(10, 6, 2)).astype(numpy.float32)
    y = rng.normal(size=(10, 5, 3)).astype(numpy.float32)
    ours, theirs = twin_models(build, _compiled(_mse("sum")))
    assert_fits_like_keras(ours, theirs, x, y, epochs=1, batch_size=4,
                           atol=1e-5, weights_atol=1e-6)


@pytest.mark.parametrize("reduction", [
    "sum", "mean_with_sample_weight", "none"])
def test_evaluate_reduces_as_keras(reduction):
    """evaluate's loss: the batches' reduced losses, weighted by their
    sizes (Keras' loss tracker), batches of 8 (the last short and, with
    weights, weighing nothing)."""
    from spiDNN.keras.models import from_keras
    kmodel = _mlp()()
    kmodel.compile(optimizer="sgd", loss=_mse(reduction)())
    model = from_keras(kmodel)
    model.compile(optimizer="sgd", loss=_mse(reduction)())
    for weights in (None, WEIGHTS):
        ours = model.evaluate(X, Y, batch_size=8, sample_weight=weights)
        theirs = kmodel.evaluate(X, Y, batch_size=8, verbose=0,
                                 sample_weight=weights)
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_sample_weights_on_an_output_of_two_axes_are_refused():
    """Keras multiplies (batch, 5) losses by (batch,) weights, which
    TensorFlow refuses: so does spiDNN, saying why."""
    from spiDNN.layers import Conv1D, Input
    model = spiDNN.Model()
    model.add(Input((6, 2)))
    model.add(Conv1D(3, 2))
    model.compile(loss="mse")
    x = numpy.zeros((4, 6, 2), numpy.float32)
    with pytest.raises(SpiDNNConfigurationError,
                       match=r"shape \(5, 3\).*Flatten"):
        model.fit(x, numpy.zeros((4, 5, 3), numpy.float32), verbose=0,
                  sample_weight=numpy.ones(4, numpy.float32))


def test_a_reduction_keras_does_not_know_is_refused_by_name():
    model = spiDNN.Model()
    model.add(spiDNN.layers.Input(3))
    model.add(spiDNN.layers.Dense(2))
    with pytest.raises(SpiDNNConfigurationError,
                       match="reduction='average': Keras takes"):
        model.compile(loss=spiDNN.losses.checked(
            "mean_squared_error", "mse", reduction="average"))


def test_a_dataset_of_weighted_batches_divides_by_each_batchs_weights():
    """A tf.data.Dataset of (x, y, sample_weight) batches, for training
    and validation: each batch's sum of weights, computed as it streams."""
    import keras
    import tensorflow as tf
    data = tf.data.Dataset.from_tensor_slices((X, Y, WEIGHTS)).batch(8)
    ours, theirs = twin_models(_mlp(), _compiled(
        _mse("mean_with_sample_weight")))
    history = spiDNN.keras.fit(ours, data, epochs=2, verbose=0,
                               validation_data=data)
    keras_history = theirs.fit(data, epochs=2, verbose=0,
                               validation_data=data)
    for key in ("loss", "val_loss"):
        numpy.testing.assert_allclose(history.history[key],
                                      keras_history.history[key],
                                      rtol=1e-5, err_msg=key)
    for mine, keras_weights in zip(ours.get_weights(), theirs.get_weights()):
        numpy.testing.assert_allclose(mine, keras_weights, atol=1e-6)
    assert keras.backend.floatx() == "float32"


def test_a_reduction_round_trips_through_a_keras_file(tmp_path):
    import keras
    model = spiDNN.Model(seed=0)
    model.add(spiDNN.layers.Input(3))
    model.add(spiDNN.layers.Dense(2))
    model.compile(optimizer="sgd", loss=keras.losses.MeanSquaredError(
        reduction="sum"))
    assert model.to_keras().loss.reduction == "sum"
    model.save(tmp_path / "m.keras")
    loaded = spiDNN.load_model(tmp_path / "m.keras")
    assert loaded.loss == "mean_squared_error"
    assert loaded.loss.settings == {"reduction": "sum"}
