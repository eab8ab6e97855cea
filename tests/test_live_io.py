"""The board path run for real: ``backends/board.py`` and the toolchain's
``LiveEventConnection`` against the virtual machine's live edge over the
loopback (``spiDNN.Model(live_io=True)``), with messages lost on the wire.

The in-process virtual machine, which the other tests hold to Keras, is
the oracle: through live I/O every output, loss and weight must be the
same bits.
"""
import os
import signal
import threading
import time

import numpy
import pytest

import spiDNN
from spiDNN.layers import Add, Conv2D, Dense, Flatten, Input, MaxPooling2D
from spiDNN.vm import live

from conftest import keras_model

N_IN = 6


def dense_model(live_io=False, optimizer="sgd"):
    model = spiDNN.Model(seed=3, live_io=live_io)
    model.add(Input(N_IN))
    model.add(Dense(5, activation="relu"))
    model.add(Dense(3, activation="softmax"))
    # Nadam's commits carry six step values: the most any optimizer sends.
    model.compile(optimizer={
        "sgd": lambda: spiDNN.optimizers.SGD(0.2),
        "adam": lambda: spiDNN.optimizers.Adam(0.05),
        "nadam": lambda: spiDNN.optimizers.Nadam(0.05)}[optimizer](),
        loss="categorical_crossentropy")
    return model


def conv_model(live_io=False):
    model = spiDNN.Model(seed=4, live_io=live_io)
    model.add(Input((6, 6, 1)))
    model.add(Conv2D(2, 3, activation="relu"))
    model.add(MaxPooling2D(2))
    model.add(Flatten())
    model.add(Dense(3, activation="softmax"))
    model.compile(optimizer=spiDNN.optimizers.SGD(0.3),
                  loss="categorical_crossentropy")
    return model


def shared_model(live_io=False):
    """A Dense applied to two branches (a shared layer: its uses' chain
    and its rows' totals at the branches)."""
    x = Input(N_IN)
    shared = Dense(4, activation="tanh", neurons_per_core=2)
    branches = [shared(Dense(4, activation=activation)(x))
                for activation in ("relu", "sigmoid")]
    model = spiDNN.Model(x, Dense(3, activation="softmax")(
        Add()(branches)), seed=5, live_io=live_io)
    model.compile(optimizer=spiDNN.optimizers.Adam(0.05),
                  loss="categorical_crossentropy")
    return model


def data(n, shape=(N_IN,), seed=0):
    rng = numpy.random.default_rng(seed)
    x = rng.normal(size=(n,) + shape).astype(numpy.float32)
    y = numpy.eye(3, dtype=numpy.float32)[rng.integers(0, 3, n)]
    return x, y


def fit(model, x, y):
    history = model.fit(x, y, epochs=2, batch_size=3, shuffle=True,
                        verbose=0)
    return history.history["loss"], model.get_weights()


def assert_same_bits(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert numpy.asarray(x).tobytes() == numpy.asarray(y).tobytes()


@pytest.mark.parametrize("make, shape, optimizer", [
    (dense_model, (N_IN,), "sgd"), (dense_model, (N_IN,), "adam"),
    (dense_model, (N_IN,), "nadam"), (conv_model, (6, 6, 1), None),
    (shared_model, (N_IN,), None)],
    ids=["dense-sgd", "dense-adam", "dense-nadam", "conv", "shared"])
def test_live_runs_are_bit_identical_to_the_in_process_machine(
        make, shape, optimizer):
    """predict, then fit, then predict again in one process, each a run
    with its own LiveEventConnection."""
    x, y = data(10, shape)
    args = {"optimizer": optimizer} if optimizer else {}
    in_process, through_wire = make(**args), make(live_io=True, **args)
    assert_same_bits([through_wire.predict(x)], [in_process.predict(x)])
    losses, weights = fit(through_wire, x, y)
    expected_losses, expected_weights = fit(in_process, x, y)
    assert losses == expected_losses
    assert_same_bits(weights, expected_weights)
    assert_same_bits([through_wire.predict(x)], [in_process.predict(x)])
    report = through_wire.last_run
    assert report.backend == "virtual live I/O"
    assert report.host_link["sent"]["input"] == 10 * int(numpy.prod(shape))
    assert report.host_link["received"]["output"] == 10 * 3
    assert not report.host_link["edge_dropped"]


def test_live_fit_matches_keras():
    """The oracle itself, through the wire: Keras' SGD on the same
    weights, batch by batch."""
    import keras
    x, y = data(12)
    reference = keras_model(N_IN, [(5, "relu"), (3, "softmax")], seed=5)
    model = dense_model(live_io=True)
    model.set_weights(reference.get_weights())
    model.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    reference.compile(optimizer=keras.optimizers.SGD(0.2),
                      loss="categorical_crossentropy")
    reference.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    for ours, theirs in zip(model.get_weights(), reference.get_weights()):
        numpy.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)


def quick(data_on_board=True, **drop):
    return spiDNN.LiveIO(drop=drop, timeout=0.5, retries=2,
                         data_on_board=data_on_board)


@pytest.mark.parametrize("drop", [{"input": [2]}, {"output": [1, 4]},
                                  {"input": [0], "output": [3]}])
def test_predictions_recover_lost_inputs_and_outputs(drop):
    x, _ = data(8)
    expected = dense_model().predict(x)
    model = dense_model(live_io=quick(**drop))
    start = time.perf_counter()
    assert_same_bits([model.predict(x)], [expected])
    assert time.perf_counter() - start < 10
    link = model.last_run.host_link
    assert link["edge_dropped"] == {kind: len(numbers)
                                    for kind, numbers in drop.items()}
    assert link["resends"]["input"] == sum(len(n) for n in drop.values())


@pytest.mark.parametrize("drop", [
    {"control": [0]}, {"control": [2]}, {"weight": [0]},
    {"control": [3], "weight": [0]}])
def test_training_recovers_lost_commits_and_weights(drop):
    """Host-streamed: a lost commit is sent again (carried out once, as the
    next pass's loss shows), lost weights are asked for again: the same
    bits."""
    x, y = data(10)
    expected = fit(dense_model(optimizer="adam"), x, y)
    model = dense_model(live_io=quick(data_on_board=False, **drop),
                        optimizer="adam")
    got = fit(model, x, y)
    assert got[0] == expected[0]
    assert_same_bits(got[1], expected[1])
    assert sum(model.last_run.host_link["resends"].values()) >= 1


@pytest.mark.parametrize("kind, number", [
    ("input", 4), ("labels", 5), ("loss", 3)])
def test_training_names_a_lost_pass_within_seconds(kind, number):
    x, y = data(10)
    model = dense_model(live_io=quick(data_on_board=False,
                                      **{kind: [number]}))
    before = model.get_weights()
    start = time.perf_counter()
    with pytest.raises(spiDNN.SpiDNNMachineError) as error:
        fit(model, x, y)
    assert time.perf_counter() - start < 15
    message = str(error.value)
    assert "its loss did not come back within 0.5 s" in message
    assert f"dropped 1 {kind} message(s)" in message
    # Nothing half-trained reached the model.
    assert_same_bits(model.get_weights(), before)


def test_ctrl_c_during_a_live_run_leaves_the_process_usable(monkeypatch):
    x, _ = data(200)
    expected = dense_model().predict(x)
    calls = []
    serve_batch = live.LiveEdge._run

    def interrupt_on_the_fifth(self, *args):
        calls.append(1)
        if len(calls) == 5:
            os.kill(os.getpid(), signal.SIGINT)
        return serve_batch(self, *args)

    monkeypatch.setattr(live.LiveEdge, "_run", interrupt_on_the_fifth)
    model = dense_model(live_io=True)
    with pytest.raises(KeyboardInterrupt):
        model.predict(x)
    monkeypatch.undo()
    # The edge's ports are free again, no stream is left running, and
    # the next live run is whole.
    assert_same_bits([model.predict(x)], [expected])
    time.sleep(0.2)
    assert not [thread for thread in threading.enumerate()
                if thread.name == "spiDNN live stream"]


def test_bad_live_io_settings_are_named():
    with pytest.raises(spiDNN.SpiDNNConfigurationError, match="drop"):
        spiDNN.LiveIO(drop={"weights": [0]})
    with pytest.raises(spiDNN.SpiDNNConfigurationError, match="timeout"):
        spiDNN.LiveIO(timeout=0)
    with pytest.raises(spiDNN.SpiDNNConfigurationError, match="live_io"):
        spiDNN.Model(live_io="yes")
    with pytest.raises(spiDNN.SpiDNNConfigurationError, match="faults"):
        spiDNN.Model([Input(N_IN), Dense(2)], live_io=True,
                     faults=spiDNN.Faults(drop_rate=0.1)).predict(
                         numpy.zeros((1, N_IN), numpy.float32))
