"""The data fit, evaluate and predict take, with Keras as the oracle:
tf.data.Dataset (batched, repeated, of dicts), keras.utils.PyDataset,
Python generators (running out as in Keras), validation_data of each;
streamed a batch at a time, never read whole; anything else refused
naming what is accepted."""
import warnings

import keras
import numpy
import pytest
import tensorflow as tf

import spiDNN
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.training.steps import RAN_OUT

RNG = numpy.random.default_rng(21)
X = RNG.normal(size=(60, 8)).astype(numpy.float32)
Y = RNG.integers(0, 3, 60)
X_VAL = RNG.normal(size=(20, 8)).astype(numpy.float32)
Y_VAL = RNG.integers(0, 3, 20)
TOLERANCE = 1e-5


def keras_model():
    keras.utils.set_random_seed(3)
    return keras.Sequential([
        keras.Input((8,)), keras.layers.Dense(6, activation="tanh"),
        keras.layers.Dense(3, activation="softmax")])


def pair():
    reference = keras_model()
    model = spiDNN.from_keras(keras_model())
    model.set_weights(reference.get_weights())
    for one in (model, reference):
        one.compile(optimizer=keras.optimizers.Adam(0.02),
                    loss="sparse_categorical_crossentropy",
                    metrics=["accuracy"])
    return model, reference


def assert_same_run(model, reference, ours, theirs):
    assert list(ours.history) == list(theirs.history)
    for key, values in theirs.history.items():
        numpy.testing.assert_allclose(ours.history[key], values,
                                      atol=TOLERANCE, err_msg=key)
    assert list(ours.epoch) == list(theirs.epoch)
    for mine, keras_weights in zip(model.get_weights(),
                                   reference.get_weights()):
        numpy.testing.assert_allclose(mine, keras_weights, atol=TOLERANCE)


def fit_both(data, **kwargs):
    """Fits spiDNN's model and Keras' on ``data()`` (a fresh source each);
    their histories and how many times each warned that data ran out."""
    model, reference = pair()
    runs = []
    for one in (model, reference):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = one.fit(data(), verbose=0, **kwargs)
        runs.append((history, sum(RAN_OUT in str(w.message)
                                  for w in caught)))
    (ours, our_warnings), (theirs, their_warnings) = runs
    assert_same_run(model, reference, ours, theirs)
    assert our_warnings == their_warnings
    return model, reference


class Batches(keras.utils.PyDataset):
    """A PyDataset of (x, y) batches; counts the batches it served."""

    def __init__(self, x, y, batch_size):
        super().__init__()
        self.x, self.y, self.batch_size = x, y, batch_size
        self.served = 0

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index):
        self.served += 1
        lo = index * self.batch_size
        return self.x[lo:lo + self.batch_size], self.y[lo:lo + self.batch_size]


def generator(batch_size, x=X, y=Y, n_batches=None):
    n = len(x) // batch_size if n_batches is None else n_batches
    for k in range(n):
        lo = (k * batch_size) % len(x)
        yield x[lo:lo + batch_size], y[lo:lo + batch_size]


@pytest.mark.parametrize("batch_size", [16, 20])
def test_a_batched_dataset_trains_as_keras(batch_size):
    def data():
        return tf.data.Dataset.from_tensor_slices((X, Y)).batch(batch_size)
    fit_both(data, epochs=2, shuffle=False,
             validation_data=tf.data.Dataset.from_tensor_slices(
                 (X_VAL, Y_VAL)).batch(8))


def test_a_repeated_dataset_with_steps_trains_as_keras():
    def data():
        return tf.data.Dataset.from_tensor_slices((X, Y)).batch(
            15).repeat()
    fit_both(data, epochs=3, steps_per_epoch=3, shuffle=False)


def test_a_dataset_running_out_under_steps_warns_as_keras():
    def data():
        return tf.data.Dataset.from_tensor_slices((X, Y)).batch(16)
    fit_both(data, epochs=3, steps_per_epoch=3, shuffle=False)


def test_a_py_dataset_trains_as_keras():
    fit_both(lambda: Batches(X, Y, 16), epochs=2, shuffle=False,
             validation_data=Batches(X_VAL, Y_VAL, 8))


@pytest.mark.parametrize("n_batches, epochs, steps", [
    (4, 3, None),       # runs out each epoch; Keras replays its peek
    (12, 2, 3),         # steps, more batches than an epoch takes
    (5, 3, 2),          # steps, running out in the third epoch
])
def test_a_generator_trains_and_runs_out_as_keras(n_batches, epochs, steps):
    fit_both(lambda: generator(15, n_batches=n_batches), epochs=epochs,
             steps_per_epoch=steps, shuffle=False)


def test_a_generator_is_read_a_batch_at_a_time():
    """Streamed: by each epoch's end, the generator has given no more than
    the batches trained (and Keras' peek of two)."""
    given = []

    def counted():
        for batch in generator(10, n_batches=30):
            given.append(len(given))
            yield batch

    read = []

    class Reads(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            read.append(len(given))

    model, _ = pair()
    model.fit(counted(), epochs=4, steps_per_epoch=3, verbose=0,
              callbacks=[Reads()])
    assert read == [max(3 * (epoch + 1), 2) for epoch in range(4)]


def test_a_generator_with_a_short_last_batch_trains_as_the_arrays_do():
    """A stream of unknown length whose last batch is shorter ends the
    cores' pass with it (tests/test_short_last_batch.py): the same as the
    arrays in batches of 16, the last of 8."""
    model, reference = pair()
    before = model.get_weights()

    def short():
        yield X[:16], Y[:16]
        yield X[16:32], Y[16:32]
        yield X[32:40], Y[32:40]
    with pytest.warns(UserWarning, match="ran out of data"):
        model.fit(short(), epochs=1, verbose=0)
    reference.fit(X[:40], Y[:40], batch_size=16, shuffle=False, verbose=0)
    for mine, theirs, old in zip(model.get_weights(),
                                 reference.get_weights(), before):
        numpy.testing.assert_allclose(mine, theirs, atol=TOLERANCE)
        assert not numpy.array_equal(mine, old)


def test_dicts_of_named_inputs_and_outputs_from_a_dataset():
    def build():
        keras.utils.set_random_seed(6)
        a = keras.Input((5,), name="a")
        b = keras.Input((3,), name="b")
        merged = keras.layers.Concatenate()([
            keras.layers.Dense(4, activation="tanh", name="da")(a),
            keras.layers.Dense(4, activation="relu", name="db")(b)])
        return keras.Model({"a": a, "b": b}, {
            "cls": keras.layers.Dense(3, activation="softmax",
                                      name="cls")(merged),
            "reg": keras.layers.Dense(2, name="reg")(merged)})
    reference = build()
    model = spiDNN.from_keras(build())
    for one in (model, reference):
        one.compile(optimizer=keras.optimizers.SGD(0.1),
                    loss={"cls": "sparse_categorical_crossentropy",
                          "reg": "mse"})
    xa, xb = X[:, :5], X[:, 5:]
    y_reg = RNG.normal(size=(60, 2)).astype(numpy.float32)

    def data():
        return tf.data.Dataset.from_tensor_slices((
            {"a": xa, "b": xb}, {"cls": Y, "reg": y_reg})).batch(20)
    ours = model.fit(data(), epochs=2, shuffle=False, verbose=0)
    theirs = reference.fit(data(), epochs=2, shuffle=False, verbose=0)
    assert_same_run(model, reference, ours, theirs)
    numpy.testing.assert_allclose(
        model.evaluate(data(), verbose=0), reference.evaluate(data(),
                                                              verbose=0),
        atol=TOLERANCE)


@pytest.mark.parametrize("source", ["dataset", "py_dataset", "generator",
                                    "dataset_xy"])
def test_predict_and_evaluate_take_streamed_sources(source):
    model, reference = pair()
    make = {
        "dataset": lambda: tf.data.Dataset.from_tensor_slices(X).batch(16),
        "dataset_xy": lambda: tf.data.Dataset.from_tensor_slices(
            (X, Y)).batch(16),
        "py_dataset": lambda: Batches(X, Y, 16),
        "generator": lambda: generator(15),
    }[source]
    numpy.testing.assert_allclose(model.predict(make()),
                                  reference.predict(make(), verbose=0),
                                  atol=TOLERANCE)
    if source != "dataset":
        numpy.testing.assert_allclose(
            model.evaluate(make(), verbose=0),
            reference.evaluate(make(), verbose=0), atol=TOLERANCE)
        numpy.testing.assert_allclose(
            model.evaluate(make(), steps=2, verbose=0),
            reference.evaluate(make(), steps=2, verbose=0), atol=TOLERANCE)


def test_lists_train_as_arrays():
    model, reference = pair()
    kwargs = dict(epochs=1, batch_size=16, shuffle=False, verbose=0)
    assert_same_run(model, reference, model.fit(X.tolist(), Y.tolist(),
                                                **kwargs),
                    reference.fit(X, Y, **kwargs))


@pytest.mark.parametrize("call, match", [
    (lambda m: m.fit("abc", Y), "x: spiDNN takes numpy arrays .*not str"),
    (lambda m: m.fit({1, 2}, Y), "not set"),
    (lambda m: m.predict(object()), "a tf.data.Dataset, a keras.utils.Py"),
    (lambda m: m.fit(X, Y, validation_data="val"),
     "validation_data: spiDNN takes numpy arrays"),
    (lambda m: m.fit(X, Y, validation_data=X_VAL),
     "validation_data must be a pair"),
    (lambda m: m.fit(tf.data.Dataset.from_tensor_slices((X, Y)).batch(8),
                     batch_size=8), "batch_size with a tf.data.Dataset"),
    (lambda m: m.fit(tf.data.Dataset.from_tensor_slices((X, Y)).batch(8),
                     Y), "y with x a tf.data.Dataset"),
    (lambda m: m.fit(tf.data.Dataset.from_tensor_slices((X, Y))),
     "elements are single samples .* batch it"),
    (lambda m: m.fit(tf.data.Dataset.from_tensor_slices(
        (X, Y, numpy.ones(60, numpy.float32))).batch(8),
        sample_weight=numpy.ones(60)), "sample_weight with x a tf.data"),
    (lambda m: m.fit(tf.data.Dataset.from_tensor_slices(X).batch(8)),
     "hold no labels"),
    (lambda m: m.fit(tf.data.Dataset.from_tensor_slices((X, Y)).batch(
        8).repeat()), "infinite .* steps_per_epoch"),
    (lambda m: m.fit(tf.data.Dataset.from_tensor_slices((X, Y)).batch(8),
                     validation_split=0.2), "validation_split=0.2 with x"),
    (lambda m: m.fit(X, Y, validation_data=Batches(X_VAL, Y_VAL, 8),
                     validation_batch_size=4), "validation_batch_size with"),
    (lambda m: m.fit(iter([]), epochs=1), "not list_iterator"),
    (lambda m: m.fit((b for b in [])), "generator"),
], ids=["str", "set", "object", "validation-str", "validation-array", "dataset-batch-size",
        "dataset-y", "unbatched", "weights", "no-labels", "infinite",
        "split", "validation-batch-size", "iterator", "empty-generator"])
def test_other_data_is_refused_naming_what_is_accepted(call, match):
    model, _ = pair()
    with pytest.raises(SpiDNNConfigurationError, match=match):
        call(model)


def test_keras_refuses_an_unbatched_dataset_too():
    """The oracle for refusing single-sample elements."""
    _, reference = pair()
    with pytest.raises(ValueError):
        reference.fit(tf.data.Dataset.from_tensor_slices((X, Y)), verbose=0)


def test_spidnn_keras_fit_takes_a_dataset():
    kmodel, reference = keras_model(), keras_model()
    for one in (kmodel, reference):
        one.compile(optimizer=keras.optimizers.Adam(0.02),
                    loss="sparse_categorical_crossentropy",
                    metrics=["accuracy"])

    def data():
        return tf.data.Dataset.from_tensor_slices((X, Y)).batch(16)
    ours = spiDNN.keras.fit(kmodel, data(), epochs=2, shuffle=False,
                            verbose=0, validation_data=data())
    theirs = reference.fit(data(), epochs=2, shuffle=False, verbose=0,
                           validation_data=data())
    assert_same_run(kmodel, reference, ours, theirs)
