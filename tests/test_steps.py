"""Keras' steps with Keras as the oracle: steps_per_epoch (the data going
on from epoch to epoch, running out with Keras' warning), validation_steps,
validation_batch_size, validation_freq (int and list), initial_epoch with
them, evaluate(steps=) and predict(steps=)."""
import warnings

import keras
import numpy
import pytest

import spiDNN
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.training.steps import RAN_OUT

RNG = numpy.random.default_rng(11)
X = RNG.normal(size=(60, 8)).astype(numpy.float32)
Y = RNG.integers(0, 3, 60)
X_VAL = RNG.normal(size=(20, 8)).astype(numpy.float32)
Y_VAL = RNG.integers(0, 3, 20)
TOLERANCE = 1e-5


def keras_model():
    keras.utils.set_random_seed(2)
    return keras.Sequential([
        keras.Input((8,)), keras.layers.Dense(6, activation="tanh"),
        keras.layers.Dense(3, activation="softmax")])


def pair(metrics=("accuracy",)):
    reference = keras_model()
    reference.compile(optimizer=keras.optimizers.Adam(0.02),
                      loss="sparse_categorical_crossentropy",
                      metrics=list(metrics))
    model = spiDNN.from_keras(keras_model())
    model.set_weights(reference.get_weights())
    model.compile(optimizer=keras.optimizers.Adam(0.02),
                  loss="sparse_categorical_crossentropy",
                  metrics=list(metrics))
    return model, reference


def ran_out(caught):
    return sum(RAN_OUT in str(warning.message) for warning in caught)


def both(call):
    """call(model) on spiDNN's model and Keras', with the warnings each
    gave."""
    model, reference = pair()
    results = []
    for one in (model, reference):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results.append((call(one), caught))
    return model, reference, results


def assert_same_run(model, reference, ours, theirs):
    assert list(ours.history) == list(theirs.history)
    for key, values in theirs.history.items():
        numpy.testing.assert_allclose(ours.history[key], values,
                                      atol=TOLERANCE, err_msg=key)
    assert list(ours.epoch) == list(theirs.epoch)
    for mine, keras_weights in zip(model.get_weights(),
                                   reference.get_weights()):
        numpy.testing.assert_allclose(mine, keras_weights, atol=TOLERANCE)


@pytest.mark.parametrize("steps, batch_size, epochs", [
    (2, 16, 4),      # 4 batches: two epochs a pass
    (3, 16, 4),      # the second epoch finds 1 batch left, and warns
    (6, 16, 2),      # more than a pass: each epoch runs out and warns
    (5, 7, 3),       # a short batch (60 = 8 * 7 + 4) inside an epoch
    (3, None, 2),    # Keras' batch size: ceil(60 / 3)
    (7, None, 2),    # ceil(60 / 7) = 9: 6 full batches and one of 6
])
def test_steps_per_epoch_matches_keras(steps, batch_size, epochs):
    kwargs = dict(epochs=epochs, batch_size=batch_size, shuffle=False,
                  verbose=0, steps_per_epoch=steps)
    model, reference, ((ours, our_warnings), (theirs, their_warnings)) = (
        both(lambda one: one.fit(X, Y, **kwargs)))
    assert_same_run(model, reference, ours, theirs)
    assert ran_out(our_warnings) == ran_out(their_warnings)


def test_steps_per_epoch_shuffled_runs_each_pass_in_a_new_order():
    """Shuffled, the batches still come a pass at a time: every sample
    once per pass of 4 batches, two epochs a pass."""
    model, _ = pair()
    seen = []

    class Batches(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)

    history = model.fit(X, Y, epochs=4, batch_size=16, steps_per_epoch=2,
                        verbose=0, callbacks=[Batches()])
    assert seen == [0, 1] * 4 and len(history.epoch) == 4


@pytest.mark.parametrize("kwargs", [
    dict(validation_steps=1),
    dict(validation_steps=1, validation_batch_size=8),
    dict(validation_batch_size=6),
    dict(validation_freq=2),
    dict(validation_freq=[1, 3]),
    dict(validation_steps=5, validation_batch_size=8),   # runs out
], ids=["steps", "steps-batch", "batch", "freq-int", "freq-list",
        "steps-out"])
def test_validation_arguments_match_keras(kwargs):
    fit = dict(epochs=3, batch_size=16, shuffle=False, verbose=0,
               validation_data=(X_VAL, Y_VAL), **kwargs)
    model, reference, ((ours, our_warnings), (theirs, their_warnings)) = (
        both(lambda one: one.fit(X, Y, **fit)))
    assert_same_run(model, reference, ours, theirs)
    assert ran_out(our_warnings) == ran_out(their_warnings)


def test_validation_batch_size_sets_the_batches_of_each_outputs_loss():
    """With two outputs, each one's val loss is a mean of its batches'
    means: the validation batch size matters, as in Keras."""
    def build(seed=4):
        keras.utils.set_random_seed(seed)
        inputs = keras.Input((8,), name="x")
        hidden = keras.layers.Dense(5, activation="tanh", name="h")(inputs)
        first = keras.layers.Dense(3, activation="softmax", name="a")(hidden)
        second = keras.layers.Dense(2, name="b")(hidden)
        return keras.Model(inputs, [first, second])
    reference = build()
    model = spiDNN.from_keras(build())
    labels = [Y, RNG.normal(size=(60, 2)).astype(numpy.float32)]
    val = (X_VAL, [Y_VAL, RNG.normal(size=(20, 2)).astype(numpy.float32)])
    for one in (model, reference):
        one.compile(optimizer=keras.optimizers.SGD(0.05),
                    loss=["sparse_categorical_crossentropy", "mse"])
    fit = dict(epochs=2, batch_size=16, shuffle=False, verbose=0,
               validation_data=val, validation_batch_size=7)
    assert_same_run(model, reference, model.fit(X, labels, **fit),
                    reference.fit(X, labels, **fit))


def test_initial_epoch_with_steps_matches_keras():
    kwargs = dict(epochs=5, initial_epoch=2, batch_size=16, shuffle=False,
                  verbose=0, steps_per_epoch=3,
                  validation_data=(X_VAL, Y_VAL), validation_freq=[3, 5])
    model, reference, ((ours, _), (theirs, _)) = both(
        lambda one: one.fit(X, Y, **kwargs))
    assert_same_run(model, reference, ours, theirs)


def test_callbacks_see_keras_steps_in_their_params():
    params = []

    class Params(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            params.append(self.params["steps"])

    for steps in (None, 3):
        model, reference = pair()
        for one in (model, reference):
            one.fit(X, Y, epochs=1, batch_size=16, steps_per_epoch=steps,
                    verbose=0, callbacks=[Params()])
    assert params == [4, 4, 3, 3]


@pytest.mark.parametrize("steps, batch_size", [
    (1, None), (2, 16), (3, 25), (9, 16)])
def test_evaluate_steps_matches_keras(steps, batch_size):
    model, reference, ((ours, our_warnings), (theirs, their_warnings)) = (
        both(lambda one: one.evaluate(X, Y, batch_size=batch_size,
                                      steps=steps, verbose=0)))
    numpy.testing.assert_allclose(ours, theirs, atol=TOLERANCE)
    assert ran_out(our_warnings) == ran_out(their_warnings)


@pytest.mark.parametrize("steps, batch_size", [
    (1, None), (2, 7), (5, 16)])
def test_predict_steps_matches_keras(steps, batch_size):
    model, reference, ((ours, our_warnings), (theirs, their_warnings)) = (
        both(lambda one: one.predict(X, batch_size=batch_size, steps=steps,
                                     verbose=0)))
    assert ours.shape == theirs.shape
    numpy.testing.assert_allclose(ours, theirs, atol=TOLERANCE)
    assert ran_out(our_warnings) == ran_out(their_warnings)


@pytest.mark.parametrize("kwargs, match", [
    (dict(steps_per_epoch=0), "steps_per_epoch must be None or a positive"),
    (dict(steps_per_epoch=2.5), "steps_per_epoch must be None or a pos"),
    (dict(steps_per_epoch=True), "steps_per_epoch must be None or a pos"),
    (dict(validation_steps=-1), "validation_steps must be None or a pos"),
    (dict(validation_freq=0), "validation_freq must be a positive int"),
    (dict(validation_freq="2"), "validation_freq must be a positive int"),
    (dict(validation_freq=[1.5]), "validation_freq must be a positive"),
    (dict(validation_batch_size=0), "validation_batch_size must be"),
])
def test_bad_steps_arguments_are_refused(kwargs, match):
    model, _ = pair()
    with pytest.raises(SpiDNNConfigurationError, match=match):
        model.fit(X, Y, verbose=0, validation_data=(X_VAL, Y_VAL), **kwargs)


def test_bad_predict_and_evaluate_steps_are_refused():
    model, _ = pair()
    with pytest.raises(SpiDNNConfigurationError, match="steps must be"):
        model.predict(X, steps=0)
    with pytest.raises(SpiDNNConfigurationError, match="steps must be"):
        model.evaluate(X, Y, steps="all")


def test_spidnn_keras_fit_takes_the_steps_arguments():
    kmodel, reference = keras_model(), keras_model()
    for one in (kmodel, reference):
        one.compile(optimizer=keras.optimizers.Adam(0.02),
                    loss="sparse_categorical_crossentropy",
                    metrics=["accuracy"])
    kwargs = dict(epochs=3, batch_size=16, shuffle=False, verbose=0,
                  steps_per_epoch=3, validation_data=(X_VAL, Y_VAL),
                  validation_steps=1, validation_batch_size=8,
                  validation_freq=[2, 3])
    ours = spiDNN.keras.fit(kmodel, X, Y, **kwargs)
    theirs = reference.fit(X, Y, **kwargs)
    assert_same_run(kmodel, reference, ours, theirs)
