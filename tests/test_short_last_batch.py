"""A source of unknown length (a generator, a tf.data.Dataset whose
cardinality is unknown) whose last batch is short trains as Keras trains
it: the host reads one batch ahead, and before the short batch tells the
cores that their pass ends with it (control.h's end_pass), so the loss
core divides its gradients by its size and the next pass starts afresh.
Weights and History within 1e-4 of Keras' (validation, regularisers,
batch-level callbacks too); bit-identical under lost packets and replay;
a short batch that is not the last refused by name."""
import warnings

import numpy
import pytest

import spiDNN
from spiDNN.errors import SpiDNNConfigurationError

TOLERANCE = 1e-4
N, BATCH = 45, 20


def classifier(regularizer=None):
    import keras
    keras.utils.set_random_seed(0)
    kmodel = keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(5, activation="tanh",
                           kernel_regularizer=regularizer),
        keras.layers.Dense(3, activation="softmax")])
    kmodel.compile(keras.optimizers.Adam(0.01), "categorical_crossentropy",
                   metrics=["accuracy"])
    return kmodel


def data(n=N, seed=0):
    rng = numpy.random.default_rng(seed)
    return (rng.normal(size=(n, 4)).astype(numpy.float32),
            numpy.eye(3, dtype=numpy.float32)[rng.integers(0, 3, n)])


def generator(x, y, sizes=None):
    """Batches of BATCH (or of ``sizes``), the last what is left."""
    start = 0
    for size in sizes or [BATCH] * (-(-len(x) // BATCH)):
        yield x[start:start + size], y[start:start + size]
        start += size


def unknown_length(x, y):
    import tensorflow as tf
    return tf.data.Dataset.from_tensor_slices((x, y)).filter(
        lambda *_: True).batch(BATCH)


def assert_fits_as_keras(make_data, epochs=1, regularizer=None, **kwargs):
    """spiDNN.keras.fit beside Keras' fit: History and weights."""
    mine, theirs = classifier(regularizer), classifier(regularizer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # Keras: the input ran out
        history = spiDNN.keras.fit(mine, make_data(), epochs=epochs,
                                   verbose=0, **kwargs)
        khistory = theirs.fit(make_data(), epochs=epochs, verbose=0,
                              **kwargs)
    assert history.history.keys() == khistory.history.keys()
    for name, values in history.history.items():
        numpy.testing.assert_allclose(values, khistory.history[name],
                                      rtol=0, atol=TOLERANCE)
    for a, b in zip(mine.get_weights(), theirs.get_weights()):
        numpy.testing.assert_allclose(a, b, rtol=0, atol=TOLERANCE)
    return history


def test_a_generator_with_a_short_last_batch_trains_as_keras():
    x, y = data()
    assert_fits_as_keras(lambda: generator(x, y))


def test_epochs_of_a_dataset_of_unknown_length_train_as_keras():
    """Three passes, each ending with a batch of 5, validated on the
    same; with a regulariser (the penalty asked before each batch)."""
    import keras
    x, y = data()
    history = assert_fits_as_keras(
        lambda: unknown_length(x, y), epochs=3,
        regularizer=keras.regularizers.L2(0.01),
        validation_data=unknown_length(x, y))
    assert len(history.history["loss"]) == 3


def test_batch_hooks_see_the_short_batch_as_keras():
    import keras
    x, y = data()
    seen = {"mine": [], "keras": []}

    def hook(who):
        return keras.callbacks.LambdaCallback(
            on_train_batch_end=lambda batch, logs: seen[who].append(
                (batch, logs["loss"], logs["accuracy"])))

    mine, theirs = classifier(), classifier()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spiDNN.keras.fit(mine, generator(x, y), verbose=0,
                         callbacks=[hook("mine")])
        theirs.fit(generator(x, y), verbose=0, callbacks=[hook("keras")])
    assert [batch for batch, *_ in seen["mine"]] == [0, 1, 2]
    numpy.testing.assert_allclose(
        [logs for _, *logs in seen["mine"]],
        [logs for _, *logs in seen["keras"]], rtol=0, atol=TOLERANCE)


def test_the_short_batch_recovers_from_lost_packets_bit_for_bit():
    """Random drops without reinjection: every loss replays its batch,
    the short one too (its size is part of the commit a replay starts
    from)."""
    x, y = data()

    def trained(faults):
        model = spiDNN.from_keras(classifier())
        model.faults = faults
        model.compile("adam", "categorical_crossentropy")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(generator(x, y), epochs=1, verbose=0)
        return model.get_weights(), model.last_run.faults["replays"]

    expected, _ = trained(None)
    replays = 0
    for seed in range(4):
        weights, replayed = trained(spiDNN.Faults(
            drop_rate=0.003, seed=seed, reinjection=False))
        replays += replayed
        for a, b in zip(weights, expected):
            assert numpy.array_equal(a, b), seed
    assert replays > 0


def test_a_short_batch_before_the_last_is_refused_by_name():
    """The cores count every batch as the first's size but the pass's
    last; the weights trained before it are kept."""
    x, y = data()
    model = spiDNN.from_keras(classifier())
    model.compile("adam", "categorical_crossentropy")
    initial = model.get_weights()
    with pytest.raises(SpiDNNConfigurationError,
                       match="a batch of 5 samples where the cores count "
                             "20"):
        model.fit(generator(x, y, [20, 5, 20]), verbose=0)
    moved = max(float(numpy.abs(a - b).max())
                for a, b in zip(model.get_weights(), initial))
    assert moved > 0
