"""Callbacks that use the model while it trains, with Keras as the oracle:
predict, evaluate, get_weights and save serve the weights on the loaded
machine; another spiDNN model may predict or train inside a callback
without changing the outer fit; fit of the model itself is refused; the
callbacks argument is taken as Keras takes it."""
import keras
import numpy
import pytest

import spiDNN
from spiDNN.errors import SpiDNNConfigurationError

RNG = numpy.random.default_rng(31)
X = RNG.normal(size=(48, 8)).astype(numpy.float32)
Y = RNG.integers(0, 3, 48)
TOLERANCE = 1e-5


def keras_model(seed=1):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((8,)), keras.layers.Dense(6, activation="tanh"),
        keras.layers.Dense(3, activation="softmax")])


def pair(seed=1):
    reference = keras_model(seed)
    model = spiDNN.from_keras(keras_model(seed))
    model.set_weights(reference.get_weights())
    for one in (model, reference):
        one.compile(optimizer=keras.optimizers.Adam(0.02),
                    loss="sparse_categorical_crossentropy",
                    metrics=["accuracy"])
    return model, reference


class Uses(keras.callbacks.Callback):
    """At each epoch's end: predict, evaluate and the weights of the model
    being trained."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append((self.model.predict(X[:10], verbose=0),
                          self.model.evaluate(X, Y, verbose=0),
                          [w.copy() for w in self.model.get_weights()]))


KWARGS = dict(epochs=3, batch_size=16, shuffle=False, verbose=0)


def test_predict_evaluate_and_weights_in_a_callback_are_the_current_ones():
    model, reference = pair()
    ours, theirs = Uses(), Uses()
    model.fit(X, Y, callbacks=[ours], **KWARGS)
    reference.fit(X, Y, callbacks=[theirs], **KWARGS)
    for (p, e, w), (kp, ke, kw) in zip(ours.seen, theirs.seen):
        numpy.testing.assert_allclose(p, kp, atol=TOLERANCE)
        numpy.testing.assert_allclose(e, ke, atol=TOLERANCE)
        for mine, keras_weights in zip(w, kw):
            numpy.testing.assert_allclose(mine, keras_weights,
                                          atol=TOLERANCE)
    # And the fit itself went on as Keras': predicting did not disturb it.
    for mine, keras_weights in zip(model.get_weights(),
                                   reference.get_weights()):
        numpy.testing.assert_allclose(mine, keras_weights, atol=TOLERANCE)


def test_save_in_a_callback_writes_the_current_model(tmp_path):
    model, reference = pair()

    class Saves(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.save(str(tmp_path / f"e{epoch}.keras"))

    model.fit(X, Y, callbacks=[Saves()], **KWARGS)
    reference.fit(X, Y, **dict(KWARGS, epochs=2))
    saved = keras.models.load_model(str(tmp_path / "e1.keras"))
    for mine, keras_weights in zip(saved.get_weights(),
                                   reference.get_weights()):
        numpy.testing.assert_allclose(mine, keras_weights, atol=TOLERANCE)


def test_another_model_runs_inside_a_callback_without_harming_the_fit():
    model, reference = pair()
    other, other_reference = pair(seed=7)
    predicted = []

    class Other(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            predicted.append(other.predict(X[:6]))
            if epoch == 1:
                other.fit(X, Y, epochs=1, batch_size=8, shuffle=False,
                          verbose=0)

    history = model.fit(X, Y, callbacks=[Other()], **KWARGS)
    theirs = reference.fit(X, Y, **KWARGS)
    for key, values in theirs.history.items():
        numpy.testing.assert_allclose(history.history[key], values,
                                      atol=TOLERANCE, err_msg=key)
    for mine, keras_weights in zip(model.get_weights(),
                                   reference.get_weights()):
        numpy.testing.assert_allclose(mine, keras_weights, atol=TOLERANCE)
    # The inner model: predictions before and after its own fit, as Keras.
    before = other_reference.predict(X[:6], verbose=0)
    other_reference.fit(X, Y, epochs=1, batch_size=8, shuffle=False,
                        verbose=0)
    after = other_reference.predict(X[:6], verbose=0)
    for got, expected in zip(predicted, [before, before, after]):
        numpy.testing.assert_allclose(got, expected, atol=TOLERANCE)
    assert model.last_run is not None and model.last_run.samples > 0


def test_fit_of_the_model_inside_its_own_callback_is_refused():
    model, _ = pair()

    class Refit(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.fit(X, Y, verbose=0)

    with pytest.raises(SpiDNNConfigurationError,
                       match="fit of .* inside one of its own callbacks"):
        model.fit(X, Y, callbacks=[Refit()], **KWARGS)
    model.fit(X, Y, **KWARGS)           # and after it, fit works again


@pytest.mark.parametrize("callbacks", [
    keras.callbacks.EarlyStopping(monitor="loss", patience=0),
    (keras.callbacks.EarlyStopping(monitor="loss", patience=0),),
    [[keras.callbacks.EarlyStopping(monitor="loss", patience=0)]],
    {"stop": keras.callbacks.EarlyStopping(monitor="loss", patience=0)},
], ids=["one", "tuple", "nested", "dict"])
def test_callbacks_are_taken_as_keras_takes_them(callbacks):
    """Keras flattens callbacks: one, nested or in a dict."""
    model, reference = pair()
    kwargs = dict(KWARGS, epochs=6)
    ours = model.fit(X, Y, callbacks=callbacks, **kwargs)
    theirs = reference.fit(X, Y, callbacks=callbacks, **kwargs)
    assert ours.epoch == theirs.epoch


@pytest.mark.parametrize("callbacks, match", [
    (["early_stopping"], "not 'early_stopping' .*give the object"),
    ("early_stopping", "not 'early_stopping'"),
    ([3], "not 3"),
    ([object()], "keras.callbacks.Callback objects"),
])
def test_callbacks_keras_cannot_use_are_refused_clearly(callbacks, match):
    model, reference = pair()
    with pytest.raises(AttributeError):          # Keras: a raw error
        reference.fit(X, Y, callbacks=callbacks, **KWARGS)
    with pytest.raises(SpiDNNConfigurationError, match=match):
        model.fit(X, Y, callbacks=callbacks, **KWARGS)
