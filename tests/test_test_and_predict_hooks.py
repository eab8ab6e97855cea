"""Keras' on_test_* and on_predict_* hooks: ``evaluate(callbacks=...)``,
``predict(callbacks=...)`` and fit's validation call them as Keras does,
in Keras' order, each test batch with the running logs (within 1e-5 of
Keras'), each predict batch with its outputs; arrays with a short last
batch, a batched tf.data.Dataset, a generator, several outputs, and
hooks set on the object (LambdaCallback)."""
import numpy
import pytest

import spiDNN

TOLERANCE = 1e-5


def recorder():
    """A Keras callback recording the test, predict and epoch-end hooks
    (logs' values rounded, outputs' shapes and values)."""
    import keras

    def rounded(logs):
        return {name: float(value) for name, value in (logs or {}).items()}

    class Recorder(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.calls = []

        def on_test_begin(self, logs=None):
            self.calls.append(("test_begin", rounded(logs)))

        def on_test_batch_begin(self, batch, logs=None):
            self.calls.append(("test_batch_begin", batch))

        def on_test_batch_end(self, batch, logs=None):
            self.calls.append(("test_batch_end", batch, rounded(logs)))

        def on_test_end(self, logs=None):
            self.calls.append(("test_end", rounded(logs)))

        def on_epoch_end(self, epoch, logs=None):
            self.calls.append(("epoch_end", epoch))

        def on_predict_begin(self, logs=None):
            self.calls.append(("predict_begin",))

        def on_predict_batch_begin(self, batch, logs=None):
            self.calls.append(("predict_batch_begin", batch))

        def on_predict_batch_end(self, batch, logs=None):
            outputs = logs["outputs"]
            self.calls.append(("predict_batch_end", batch, [
                numpy.asarray(part) for part in (
                    outputs if isinstance(outputs, list) else [outputs])]))

        def on_predict_end(self, logs=None):
            self.calls.append(("predict_end",))

    return Recorder()


def assert_same_calls(mine, theirs):
    """The same hooks in the same order, logs and outputs within
    TOLERANCE."""
    def order(calls):
        return [tuple(part for part in call
                      if isinstance(part, (str, int))) for call in calls]
    assert order(mine) == order(theirs)
    for ours, keras_call in zip(mine, theirs):
        for mine_part, their_part in zip(ours[1:], keras_call[1:]):
            if isinstance(mine_part, dict):
                assert mine_part.keys() == their_part.keys()
                for name in mine_part:
                    assert abs(mine_part[name] - their_part[name]) < (
                        TOLERANCE), (ours, keras_call)
            elif isinstance(mine_part, list):
                for a, b in zip(mine_part, their_part):
                    numpy.testing.assert_allclose(a, b, rtol=0,
                                                  atol=TOLERANCE)


def classifier(seed=0, outputs=1):
    import keras
    keras.utils.set_random_seed(seed)
    x = keras.Input((4,))
    h = keras.layers.Dense(5, activation="tanh")(x)
    heads = [keras.layers.Dense(3, activation="softmax", name=f"head{k}")(h)
             for k in range(outputs)]
    kmodel = keras.Model(x, heads if outputs > 1 else heads[0])
    metrics = ["accuracy"] if outputs == 1 else None
    kmodel.compile("sgd", "categorical_crossentropy", metrics=metrics)
    model = spiDNN.from_keras(kmodel)
    model.compile("sgd", "categorical_crossentropy", metrics=metrics)
    return kmodel, model


def data(n=70, seed=0):
    rng = numpy.random.default_rng(seed)
    return (rng.normal(size=(n, 4)).astype(numpy.float32),
            numpy.eye(3, dtype=numpy.float32)[rng.integers(0, 3, n)])


def test_evaluate_calls_the_test_hooks_as_keras():
    """70 samples in batches of 32: three batches, the last of 6."""
    x, y = data()
    kmodel, model = classifier()
    mine, theirs = recorder(), recorder()
    model.evaluate(x, y, batch_size=32, callbacks=[mine], verbose=0)
    kmodel.evaluate(x, y, batch_size=32, callbacks=[theirs], verbose=0)
    assert len(mine.calls) == 8
    assert_same_calls(mine.calls, theirs.calls)


def test_evaluate_of_a_dataset_calls_the_test_hooks_as_keras():
    import tensorflow as tf
    x, y = data(50)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    kmodel, model = classifier(1)
    mine, theirs = recorder(), recorder()
    model.evaluate(dataset, callbacks=[mine], verbose=0)
    kmodel.evaluate(dataset, callbacks=[theirs], verbose=0)
    assert_same_calls(mine.calls, theirs.calls)


def test_fit_validation_calls_the_test_hooks_as_keras():
    """Keras' fit validates through evaluate with its callbacks: the test
    hooks run before each epoch's end, their logs without val_."""
    x, y = data(64)
    vx, vy = data(40, seed=1)
    kmodel, _ = classifier(2)
    mine, theirs = recorder(), recorder()
    keras_copy, _ = classifier(2)
    spiDNN.keras.fit(kmodel, x, y, epochs=2, batch_size=16, shuffle=False,
                     validation_data=(vx, vy), callbacks=[mine], verbose=0)
    keras_copy.fit(x, y, epochs=2, batch_size=16, shuffle=False,
                   validation_data=(vx, vy), callbacks=[theirs], verbose=0)
    assert [call[0] for call in mine.calls].count("test_batch_end") == 6
    assert_same_calls(mine.calls, theirs.calls)


def test_a_model_of_its_own_sees_the_hooks_in_fit_too():
    """spiDNN's own fit: validation runs the test hooks of its callbacks."""
    x, y = data(64)
    vx, vy = data(40, seed=1)
    _, model = classifier(3)
    mine = recorder()
    model.fit(x, y, epochs=1, batch_size=16, validation_data=(vx, vy),
              validation_batch_size=32, callbacks=[mine], verbose=0)
    assert [call[:2] for call in mine.calls[:5]] == [
        ("test_begin", {}), ("test_batch_begin", 0),
        ("test_batch_end", 0), ("test_batch_begin", 1),
        ("test_batch_end", 1)]
    assert mine.calls[-2][0] == "test_end" and mine.calls[-1] == (
        "epoch_end", 0)
    assert mine.calls[-2][1] == pytest.approx(
        model.evaluate(vx, vy, batch_size=32, return_dict=True, verbose=0),
        abs=TOLERANCE)


@pytest.mark.parametrize("outputs", [1, 2])
def test_predict_calls_the_predict_hooks_as_keras(outputs):
    x, _ = data()
    kmodel, model = classifier(4, outputs)
    mine, theirs = recorder(), recorder()
    model.predict(x, batch_size=32, callbacks=[mine])
    kmodel.predict(x, batch_size=32, callbacks=[theirs], verbose=0)
    assert [call[0] for call in mine.calls].count("predict_batch_end") == 3
    assert_same_calls(mine.calls, theirs.calls)


def test_predict_of_a_generator_calls_the_hooks_per_batch():
    x, _ = data(45)
    kmodel, model = classifier(5)

    def batches():
        for start in range(0, 45, 20):
            yield (x[start:start + 20],)

    mine, theirs = recorder(), recorder()
    model.predict(batches(), callbacks=[mine])
    kmodel.predict(batches(), callbacks=[theirs], verbose=0)
    assert_same_calls(mine.calls, theirs.calls)


def test_hooks_set_on_the_object_are_called():
    """LambdaCallback sets its hooks on the object, not its class."""
    import keras
    x, y = data(40)
    _, model = classifier(6)
    seen = []
    model.evaluate(x, y, batch_size=16, verbose=0, callbacks=[
        keras.callbacks.LambdaCallback(
            on_test_batch_end=lambda batch, logs: seen.append(
                (batch, logs["loss"])))])
    assert [batch for batch, _ in seen] == [0, 1, 2]
    assert seen[-1][1] == pytest.approx(model.evaluate(x, y, verbose=0)[0],
                                        abs=TOLERANCE)


def test_a_generator_that_runs_out_begins_one_more_step_as_keras():
    """Keras calls the begin hook of the step that finds a source of
    unknown length exhausted: in fit, evaluate and predict."""
    import keras
    x, y = data(45)
    kmodel, _ = classifier(7)
    keras_copy, _ = classifier(7)

    def batches(n=45):
        for start in range(0, n, 20):
            yield x[start:start + 20], y[start:start + 20]

    def hooks(seen):
        return keras.callbacks.LambdaCallback(**{
            f"on_{kind}_batch_{when}": (
                lambda batch, logs, name=f"{kind}_{when}": seen.append(
                    (name, batch)))
            for kind in ("train", "test", "predict")
            for when in ("begin", "end")})

    mine, theirs = [], []
    for model, seen in ((kmodel, mine), (keras_copy, theirs)):
        fit = spiDNN.keras.fit if model is kmodel else (
            lambda m, *args, **kwargs: m.fit(*args, **kwargs))
        with pytest.warns(UserWarning, match="ran out of data"):
            fit(model, batches(40), epochs=1, callbacks=[hooks(seen)],
                verbose=0)
    assert mine == theirs
    assert mine[-1] == ("train_begin", 2)
    _, model = classifier(7)
    mine, theirs = [], []
    for run, seen in ((model, mine), (keras_copy, theirs)):
        with pytest.warns(UserWarning, match="ran out of data"):
            run.evaluate(batches(), callbacks=[hooks(seen)], verbose=0)
        with pytest.warns(UserWarning, match="ran out of data"):
            run.predict(batches(), callbacks=[hooks(seen)], verbose=0)
    assert mine == theirs
    assert ("test_begin", 3) in mine and mine[-1] == ("predict_begin", 3)
