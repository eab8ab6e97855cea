"""Training with the data on the board: the training set in the feeder's
SDRAM, streamed by the board itself (``spiDNN.LiveIO(data_on_board=True)``,
fit's default through live I/O), on the virtual machine's live edge.

Host-streamed training (through the wire, and in-process) is the oracle:
the weights and losses must be the same bits, with no sample crossing the
wire.
"""
import numpy
import pytest

import spiDNN
from spiDNN.compiler import board_data
from spiDNN.machines import run
from spiDNN.layers import Dense, Input

from test_live_io import (
    N_IN, assert_same_bits, conv_model, data, dense_model, fit, quick)

N_SAMPLES = 10


def sparse_pixel_model(live_io=False):
    model = spiDNN.Model(seed=6, live_io=live_io)
    model.add(Input(N_IN))
    model.add(Dense(4, activation="tanh"))
    model.add(Dense(3, activation="softmax"))
    model.compile(optimizer=spiDNN.optimizers.SGD(0.5),
                  loss="sparse_categorical_crossentropy")
    return model


def pixel_data(n):
    """Bytes scaled to [0, 1] as MNIST is: kept as uint8 codes."""
    rng = numpy.random.default_rng(1)
    x = rng.integers(0, 256, (n, N_IN)).astype(numpy.float32) / 255
    return x, rng.integers(0, 3, n)


def assert_nothing_per_sample_crossed(model, n_passes):
    link = model.last_run.host_link
    # One message to start; only losses and weights back.
    assert link["sent"] == {"control": 1}
    assert link["edge_messages"]["control"] == 1
    assert "input" not in link["edge_messages"]
    assert "labels" not in link["edge_messages"]
    assert link["received"]["loss"] == n_passes
    assert not link["edge_dropped"]


@pytest.fixture
def shards(monkeypatch):
    """Records the BoardData of each run."""
    made = []

    class Recorded(board_data.BoardData):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(run, "BoardData", Recorded)
    return made


@pytest.mark.parametrize("make, dataset, optimizer", [
    (dense_model, "normal", "sgd"), (dense_model, "normal", "adam"),
    (dense_model, "normal", "nadam"), (conv_model, "image", None),
    (sparse_pixel_model, "pixels", None)],
    ids=["dense-sgd", "dense-adam", "dense-nadam", "conv", "uint8-sparse"])
def test_data_on_board_trains_bit_identically_to_the_host_streaming_it(
        make, dataset, optimizer, shards):
    x, y = (pixel_data(N_SAMPLES) if dataset == "pixels" else
            data(N_SAMPLES, (6, 6, 1) if dataset == "image" else (N_IN,)))
    args = {"optimizer": optimizer} if optimizer else {}
    on_board = make(live_io=True, **args)
    losses, weights = fit(on_board, x, y)
    expected_losses, expected_weights = fit(make(**args), x, y)
    assert losses == expected_losses
    assert_same_bits(weights, expected_weights)
    assert_nothing_per_sample_crossed(on_board, 2 * N_SAMPLES)
    # 60 values (as codes into a table) or 360 (float32) in the images.
    assert [data_set.coded for data_set in shards] == [dataset != "image"]
    assert on_board.last_run.backend == "virtual live I/O"


def test_data_on_board_matches_host_streaming_through_the_wire(shards):
    """The acceptance's own comparison: both runs through live I/O."""
    x, y = data(N_SAMPLES)
    on_board = dense_model(live_io=True)
    streamed = dense_model(live_io=spiDNN.LiveIO(data_on_board=False))
    losses, weights = fit(on_board, x, y)
    expected_losses, expected_weights = fit(streamed, x, y)
    assert losses == expected_losses
    assert_same_bits(weights, expected_weights)
    assert streamed.last_run.host_link["sent"]["input"] == (
        2 * N_SAMPLES * N_IN)
    assert len(shards) == 1


def test_a_set_too_big_for_one_core_is_sharded_and_relayed(
        monkeypatch, shards):
    """Room for 16 samples per feeder core: 3 cores, two relaying their
    samples through the lead, in a shuffled order; float32 inputs (more
    than 256 values)."""
    row_bytes = 4 * (N_IN + 3)      # float32 inputs, one-hot labels
    monkeypatch.setattr(board_data, "SHARD_BYTES", 16 * row_bytes)
    x, y = data(45)
    on_board = dense_model(live_io=True, optimizer="adam")
    losses, weights = fit(on_board, x, y)
    expected_losses, expected_weights = fit(
        dense_model(optimizer="adam"), x, y)
    assert [data_set.shards for data_set in shards] == [
        [(0, 16), (16, 16), (32, 13)]]
    assert not shards[0].coded
    assert losses == expected_losses
    assert_same_bits(weights, expected_weights)
    assert_nothing_per_sample_crossed(on_board, 2 * 45)


@pytest.mark.parametrize("drop, resent", [
    ({"control": [0]}, "train"), ({"weight": [0]}, "weights")])
def test_a_lost_start_or_lost_weights_are_sent_again(drop, resent):
    x, y = data(N_SAMPLES)
    expected = fit(dense_model(), x, y)
    model = dense_model(live_io=quick(**drop))
    got = fit(model, x, y)
    assert got[0] == expected[0]
    assert_same_bits(got[1], expected[1])
    link = model.last_run.host_link
    assert link["resends"] == {resent: 1}
    assert link["edge_dropped"] == {kind: 1 for kind in drop}


def test_lost_losses_leave_exact_weights_and_say_so():
    x, y = data(N_SAMPLES)
    _, expected_weights = fit(dense_model(), x, y)
    model = dense_model(live_io=quick(loss=[0]))
    with pytest.warns(RuntimeWarning, match="sample losses were lost"):
        losses, weights = fit(model, x, y)
    assert numpy.all(numpy.isnan(losses))
    assert_same_bits(weights, expected_weights)


def test_a_run_that_never_starts_is_named():
    x, y = data(N_SAMPLES)
    model = dense_model(live_io=quick(control=[0, 1, 2]))
    before = model.get_weights()
    with pytest.raises(spiDNN.SpiDNNMachineError, match="went quiet after "
                       "0 of 20 passes"):
        fit(model, x, y)
    assert_same_bits(model.get_weights(), before)


def test_a_split_first_layer_keeps_the_data_on_the_host():
    model = spiDNN.Model(seed=3, live_io=True)
    model.add(Input(N_IN))
    model.add(Dense(3, activation="softmax", inputs_per_core=3))
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x, y = data(4)
    with pytest.raises(spiDNN.SpiDNNConfigurationError,
                       match="data_on_board=False"):
        model.fit(x, y, epochs=1, verbose=0)


def test_board_data_keeps_exact_values():
    """uint8 codes into the table give back the very float32 bits; more
    than 256 values stay float32."""
    x, y = pixel_data(20)
    training = _training(len(x))
    labels = y.astype(numpy.uint32)[:, None]
    coded = board_data.BoardData(x, labels, _order(len(x)), training)
    assert coded.coded
    rows = coded.regions(0)[1][1].view(numpy.uint8).reshape(len(x), -1)
    table = coded.table.view(numpy.float32)
    assert table[rows[:, :N_IN]].tobytes() == x.tobytes()
    wide = (numpy.arange(50 * N_IN, dtype=numpy.float32) / 7).reshape(
        50, N_IN)
    plain = board_data.BoardData(
        wide, numpy.zeros((50, 1), numpy.uint32), _order(50), _training(50))
    assert not plain.coded
    assert plain.regions(0)[1][1].view(numpy.float32).tobytes() == (
        wide.tobytes())


def _training(n):
    from spiDNN import losses, optimizers
    from spiDNN.training.outputs import OutputLoss
    from spiDNN.training.training_run import TrainingRun
    return TrainingRun(
        outputs=(OutputLoss(None,
                            losses.get("sparse_categorical_crossentropy"), 3,
                            "softmax"),),
        optimizer=optimizers.get(optimizers.SGD(0.1)), batch_size=3,
        n_samples=n, n_epochs=1)


def _order(n):
    from spiDNN.training.order import EpochOrder
    return EpochOrder(n, 1)
