"""Misuse a user may commit, each met the way a user expects: a clear
error before anything is mapped, the real error when something fails, the
process left usable (Ctrl-C, exception hook), threads taking turns."""
import os
import signal
import sys
import threading

import numpy
import pytest

import spiDNN
from spiDNN.layers import Dense, Input
from spiDNN.compiler.vertices.layer_vertex import LayerMachineVertex

from conftest import spidnn_model

X = numpy.random.default_rng(0).normal(size=(12, 4)).astype(numpy.float32)
Y = numpy.arange(12) % 2


def small_model():
    return spidnn_model(4, [(3, "tanh"), (2, "softmax")])


@pytest.mark.unit
def test_learning_rate_infinite_in_float32_is_refused():
    with pytest.raises(spiDNN.SpiDNNConfigurationError, match="float32"):
        small_model().fit(X, Y, loss="sparse_categorical_crossentropy",
                          learning_rate=1e39, verbose=0)


@pytest.mark.unit
def test_a_layer_belongs_to_one_model():
    dense = Dense(2)
    spiDNN.Model().add(Input(4)).add(dense)
    with pytest.raises(spiDNN.SpiDNNConfigurationError, match="another"):
        spiDNN.Model().add(Input(4)).add(dense)


def test_ctrl_c_and_the_exception_hook_are_the_users_after_a_run():
    calls = []

    def handler(signum, frame):
        calls.append(signum)

    def hook(*args):
        pass

    previous = signal.signal(signal.SIGINT, handler), sys.excepthook
    sys.excepthook = hook
    try:
        model = small_model()
        model.predict(X)
        model.fit(X, Y, loss="sparse_categorical_crossentropy", verbose=0)
        assert signal.getsignal(signal.SIGINT) is handler
        assert sys.excepthook is hook
        os.kill(os.getpid(), signal.SIGINT)
        assert calls == [signal.SIGINT]
        # With Python's own handler, Ctrl-C is a KeyboardInterrupt again.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        model.predict(X)
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, previous[0])
        sys.excepthook = previous[1]


def test_a_failure_while_mapping_surfaces_as_itself(monkeypatch):
    model = small_model()
    expected = model.predict(X)

    def broken(self):
        raise RuntimeError("a vertex could not write its parameters")

    monkeypatch.setattr(LayerMachineVertex, "params", broken)
    with pytest.raises(RuntimeError, match="could not write its param"):
        model.predict(X)
    monkeypatch.undo()
    numpy.testing.assert_array_equal(model.predict(X), expected)


def test_threads_that_predict_at_once_take_turns():
    model = small_model()
    expected = model.predict(X)
    results, errors = [None] * 3, []

    def predict(i):
        try:
            results[i] = model.predict(X)
        except Exception as error:      # reported below, not lost
            errors.append(error)

    threads = [threading.Thread(target=predict, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for result in results:
        numpy.testing.assert_array_equal(result, expected)


@pytest.mark.unit
def test_sample_orders_are_drawn_epoch_by_epoch():
    """A billion epochs do not draw a billion orders up front."""
    model = small_model()
    training, order = model._plan_training(
        len(X), "mse", 10 ** 9, 4, 0.1, True, 0)
    order = order()
    assert order.n_epochs == training.n_epochs == 10 ** 9
    first, second = order(0), order(1)
    assert sorted(first) == sorted(second) == list(range(len(X)))
    assert not numpy.array_equal(first, second)
    with pytest.raises(spiDNN.SpiDNNConfigurationError, match="2\\*\\*32"):
        model._plan_training(len(X), "mse", 2 ** 32, 4, 0.1, True, 0)


def test_diverging_training_ends_as_in_keras():
    """A learning rate that blows up: no error, non-finite losses in the
    History and non-finite weights, as Keras returns them."""
    from conftest import keras_model, keras_train
    reference = keras_model(4, [(3, "tanh"), (2, None)], seed=2)
    model = spidnn_model(4, [(3, "tanh"), (2, None)],
                         weights=reference.get_weights())
    y = numpy.stack([Y, 1 - Y], axis=1).astype(numpy.float32) * 1e3
    history = model.fit(X, y, loss="mse", epochs=3, batch_size=4,
                        learning_rate=1e3, shuffle=False, verbose=0)
    keras_losses = keras_train(reference, X, y, "mse", 1e3, 3, 4)
    assert not numpy.all(numpy.isfinite(history.history["loss"]))
    assert not all(numpy.all(numpy.isfinite(w)) for w in model.get_weights())
    # Keras diverges the same way, at the same samples.
    for ours, theirs in zip(history.sample_losses, keras_losses):
        numpy.testing.assert_array_equal(numpy.isfinite(ours),
                                         numpy.isfinite(theirs))


@pytest.mark.unit
@pytest.mark.parametrize("what", ["inputs", "labels", "weights"])
def test_values_infinite_in_float32_are_refused(what):
    """1e39 is a finite float64 but infinite on the machine."""
    model = spidnn_model(4, [(2, None)])
    x, y = X.astype(numpy.float64), numpy.ones((len(X), 2))
    with pytest.raises(spiDNN.SpiDNNConfigurationError,
                       match="NaN or infinite"):
        if what == "weights":
            model.set_weights([numpy.full((4, 2), 1e39), numpy.zeros(2)])
        else:
            (x if what == "inputs" else y)[0, 0] = 1e39
            model.fit(x, y, loss="mse", verbose=0)


def test_a_toolchain_that_fails_to_stop_after_the_run_keeps_the_results(
        monkeypatch):
    from spiDNN.machines.toolchain.simulator import SpiDNNSimulator
    model = small_model()
    expected = model.predict(X)

    def failing_stop(self):
        raise FileNotFoundError("reports/stack_trace")

    monkeypatch.setattr(SpiDNNSimulator, "stop", failing_stop)
    with pytest.warns(RuntimeWarning, match="failed to stop.*kept"):
        numpy.testing.assert_array_equal(model.predict(X), expected)


def test_a_layer_too_big_for_the_host_is_named():
    model = spiDNN.Model().add(Input(4))
    with pytest.raises(spiDNN.errors.SpiDNNConfigurationError,
                       match=r"layer big \(Dense.*do not fit this computer"):
        model.add(Dense(2 ** 40, name="big"))
