"""Keras as the oracle for models that branch and merge: the Keras model
converted with ``from_keras`` (identical initial weights), predicted, and
trained an epoch side by side."""
import numpy

import spiDNN

PREDICT_TOLERANCE = 1e-5
TRAINED_TOLERANCE = 1e-4


def samples(shape, n, classes=None, seed=0):
    """(x, y): ``n`` inputs of ``shape`` in [-1, 1] and one-hot labels of
    ``classes`` (None: regression targets of 4)."""
    rng = numpy.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, *shape)).astype(numpy.float32)
    if classes is None:
        return x, rng.normal(size=(n, 4)).astype(numpy.float32)
    return x, numpy.eye(classes, dtype=numpy.float32)[
        rng.integers(0, classes, n)]


def assert_predicts_as_keras(kmodel, x, **kwargs):
    model = spiDNN.from_keras(kmodel, **kwargs)
    numpy.testing.assert_allclose(model.predict(x), kmodel.predict(
        x, verbose=0), rtol=0, atol=PREDICT_TOLERANCE)
    return model


def keras_optimizer(name):
    import keras
    return {"sgd_momentum": lambda: keras.optimizers.SGD(0.05, momentum=0.9),
            "adam": lambda: keras.optimizers.Adam(0.005)}[name]()


def assert_trains_as_keras(kmodel, x, y, loss, optimizer, batch_size=16,
                           model=None):
    """One epoch of ``optimizer`` (a keras_optimizer name) in both, in
    order: weights and History within TRAINED_TOLERANCE; returns the
    trained spiDNN model."""
    model = model or spiDNN.from_keras(kmodel)
    kmodel.compile(optimizer=keras_optimizer(optimizer), loss=loss)
    model.compile(optimizer=keras_optimizer(optimizer), loss=loss)
    history = model.fit(x, y, batch_size=batch_size, epochs=1,
                        shuffle=False, verbose=0)
    khistory = kmodel.fit(x, y, batch_size=batch_size, epochs=1,
                          shuffle=False, verbose=0)
    numpy.testing.assert_allclose(history.history["loss"],
                                  khistory.history["loss"], rtol=0,
                                  atol=TRAINED_TOLERANCE)
    for mine, theirs in zip(model.get_weights(), kmodel.get_weights()):
        numpy.testing.assert_allclose(mine, theirs, rtol=0,
                                      atol=TRAINED_TOLERANCE)
    return model
