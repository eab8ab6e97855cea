"""One Keras training loop over every machine: fit's validation,
callbacks, metrics and initial_epoch through live I/O (the virtual
machine's live edge over the loopback), with the data on the board and
with the host streaming it, give the in-process machine's History,
weights and optimizer state, bit for bit."""
import keras
import numpy
import pytest

import spiDNN
from spiDNN.layers import Dense, Input

from test_live_io import assert_same_bits

RNG = numpy.random.default_rng(8)
X = RNG.normal(size=(22, 6)).astype(numpy.float32)
Y = RNG.integers(0, 3, 22)


def model(live_io=False):
    result = spiDNN.Model([Input(6), Dense(5, "tanh", neurons_per_core=2),
                           Dense(3, "softmax")], seed=2, live_io=live_io)
    result.compile(optimizer=spiDNN.optimizers.Adam(0.05),
                   loss="sparse_categorical_crossentropy",
                   metrics=["accuracy"])
    return result


class Recorder(keras.callbacks.Callback):
    """Each epoch's logs and the model's weights then (read from the
    machine during the run); stops after ``stop_after`` epochs."""

    def __init__(self, stop_after=None):
        super().__init__()
        self.stop_after = stop_after
        self.seen = []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append((epoch, dict(logs), self.model.get_weights()))
        if self.stop_after is not None and epoch + 1 >= self.stop_after:
            self.model.stop_training = True



class BatchRecorder(Recorder):
    """Also each batch's logs (the loop then trains a batch a call)."""

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append((batch, dict(logs), None))


def train(live_io, **kwargs):
    recorder = kwargs.pop("recorder", Recorder())
    trained = model(live_io)
    history = trained.fit(X, Y, batch_size=4, verbose=0,
                          callbacks=[recorder], **kwargs)
    return trained, history, recorder


def assert_same_runs(live, in_process):
    (ours, history, recorder), (theirs, expected, expected_recorder) = (
        live, in_process)
    assert history.history.keys() == expected.history.keys()
    for key, values in expected.history.items():
        assert numpy.array(history.history[key]).tobytes() == numpy.array(
            values).tobytes(), key
    assert history.epoch == expected.epoch
    assert_same_bits(ours.get_weights(), theirs.get_weights())
    assert ours.optimizer_state["iterations"] == theirs.optimizer_state[
        "iterations"]
    for kind, expected_kind in zip(ours.optimizer_state["slots"],
                                   theirs.optimizer_state["slots"]):
        assert_same_bits(kind, expected_kind)
    assert len(recorder.seen) == len(expected_recorder.seen)
    for (i, logs, weights), (j, expected_logs, expected_weights) in zip(
            recorder.seen, expected_recorder.seen):
        assert i == j and logs.keys() == expected_logs.keys()
        for key in logs:
            assert numpy.float32(logs[key]) == numpy.float32(
                expected_logs[key]), key
        if weights is not None:
            assert_same_bits(weights, expected_weights)


@pytest.mark.parametrize("data_on_board", [True, False],
                         ids=["data-on-board", "host-streamed"])
def test_callbacks_metrics_and_initial_epoch_as_in_process(data_on_board):
    kwargs = dict(epochs=3, initial_epoch=1, shuffle=True)
    assert_same_runs(
        train(spiDNN.LiveIO(data_on_board=data_on_board), **kwargs),
        train(False, **kwargs))


@pytest.mark.parametrize("data_on_board", [True, False],
                         ids=["data-on-board", "host-streamed"])
def test_validation_split_as_in_process(data_on_board):
    kwargs = dict(epochs=2, validation_split=0.25)
    live = train(spiDNN.LiveIO(data_on_board=data_on_board), **kwargs)
    assert_same_runs(live, train(False, **kwargs))
    assert {"val_loss", "val_accuracy"} <= set(live[1].history)
    link = live[0].last_run.host_link
    if data_on_board:
        # A train and an evaluate an epoch, the weights read at each
        # epoch's end; no sample on the wire.
        assert link["sent"] == {"control": 2 * 2 + 2}
        assert set(link["edge_messages"]) == {"control", "loss", "weight"}
    else:
        # Every training and validation sample's inputs, each epoch.
        assert link["sent"]["input"] == 2 * len(X) * X.shape[1]


def test_a_lost_validation_start_is_sent_again():
    """The validation's evaluate_passes travels with the epoch's last
    commit: lost, the cores wait for the commit, and the host sends both
    again (without it, the validation passes would train)."""
    kwargs = dict(epochs=2, validation_split=0.25)
    expected = train(False, **kwargs)
    # Control messages: a commit per batch (4 in the 16 training samples,
    # the last one pending), then the validation's; drop that one.
    live = train(spiDNN.LiveIO(data_on_board=False, timeout=0.5,
                               drop={"control": [3]}), **kwargs)
    assert_same_runs(live, expected)
    assert live[0].last_run.host_link["resends"]["commit"] >= 1


def test_stop_training_stops_the_feeder():
    kwargs = dict(epochs=4, recorder=Recorder(stop_after=2))
    live = train(spiDNN.LiveIO(), **kwargs)
    expected = train(False, epochs=4, recorder=Recorder(stop_after=2))
    assert_same_runs(live, expected)
    assert live[1].epoch == [0, 1]


def test_batch_callbacks_see_each_batch_on_the_board():
    live = train(spiDNN.LiveIO(), epochs=2, recorder=BatchRecorder())
    expected = train(False, epochs=2, recorder=BatchRecorder())
    assert_same_runs(live, expected)
    # 22 samples in batches of 4: six batches, then the epoch's end.
    assert len(live[2].seen) == 2 * (6 + 1)




def test_evaluate_with_the_data_on_the_board_as_in_process():
    trained = model()
    trained.fit(X, Y, epochs=1, batch_size=4, verbose=0)
    live = model(spiDNN.LiveIO())
    live.set_weights(trained.get_weights())
    expected = trained.evaluate(X, Y, return_dict=True)
    got = live.evaluate(X, Y, return_dict=True)
    assert got.keys() == expected.keys() == {"loss", "accuracy"}
    for key in expected:
        assert numpy.float32(got[key]) == numpy.float32(expected[key]), key
    link = live.last_run.host_link
    assert link["sent"] == {"control": 1}
    assert link["received"]["loss"] == len(X)


def test_evaluate_with_the_host_streaming_is_refused_by_name():
    with pytest.raises(spiDNN.SpiDNNConfigurationError,
                       match="data_on_board=True"):
        model(spiDNN.LiveIO(data_on_board=False)).evaluate(X, Y)
