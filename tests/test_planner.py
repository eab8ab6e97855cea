"""The planner: slices chosen by predicted board time within the chip's
limits, the user's choice winning, and the numbers never depending on
the plan."""
import numpy
import pytest

import spiDNN
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers import (
    Conv2D, Dense, Flatten, Input, MaxPooling2D)
from spiDNN.costs import table

from conftest import keras_model, spidnn_model


def _mlp(n_inputs, spec, inputs_per_core="auto", **kwargs):
    model = spiDNN.Model(seed=0, **kwargs)
    model.add(Input(n_inputs))
    for units, activation, *per_core in spec:
        model.add(Dense(units, activation,
                        neurons_per_core=per_core[0] if per_core else "auto",
                        inputs_per_core=inputs_per_core))
    return model


def _seconds(cycles):
    return cycles / table.clock_hz()


def test_auto_is_the_default_and_the_users_choice_wins():
    model = _mlp(30, [(12, "relu"), (6, "relu", 4), (3, "softmax")])
    first, given, last = model.plan.layers
    assert model.layers[0].plans_own_slice
    assert given.neurons_per_core == 4 and given.n_cores == 2
    assert given.reason == "neurons_per_core given"
    assert "auto" in first.reason or "pace" in first.reason
    text = model.summary(print_fn=None)
    assert "Plan for inference" in text and "neurons_per_core given" in text


@pytest.mark.machine
@pytest.mark.parametrize("training", [False, True])
def test_the_plans_pace_is_the_clocks(training):
    """The planner's price of its bottleneck agrees with the virtual clock
    running the plan."""
    rng = numpy.random.default_rng(1)
    x = rng.normal(size=(12, 196)).astype(numpy.float32)
    model = _mlp(196, [(32, "relu"), (10, "softmax")])
    if training:
        model.compile("sgd", "sparse_categorical_crossentropy")
        model.fit(x, rng.integers(0, 10, 12), batch_size=4, verbose=0)
    else:
        model.predict(x)
    planned = _seconds(model.plan.bottleneck_cycles)
    simulated = model.last_run.bottleneck_seconds_per_sample
    # The clock names a core by its vertex's label.
    labels = {"the loss core": "loss", "the input source": "input",
              "the labels source": "labels"}
    assert labels.get(model.plan.bottleneck, model.plan.bottleneck) in (
        model.last_run.bottleneck)
    assert abs(planned / simulated - 1) < 0.1, (planned, simulated)


@pytest.mark.machine
def test_the_plan_is_as_fast_as_one_neuron_per_core_on_fewer_cores():
    """Slicing neurons only (1-D), the plan is as fast as one neuron per
    core on fewer cores; splitting inputs too (2-D, the default) it is
    faster still."""
    rng = numpy.random.default_rng(2)
    x = rng.normal(size=(8, 600)).astype(numpy.float32)
    spec = [(40, "relu"), (30, "relu"), (10, "softmax")]
    runs = {}
    for per_core in ("auto", "auto 1-D", 1, 4):
        blocks = None if per_core == "auto 1-D" else "auto"
        given = [] if str(per_core).startswith("auto") else [per_core]
        model = _mlp(600, [s + tuple(given) for s in spec],
                     inputs_per_core=blocks)
        model.predict(x)
        runs[per_core] = model.last_run
    pace = {key: run.bottleneck_seconds_per_sample
            for key, run in runs.items()}
    for per_core in (1, 4):
        assert pace["auto 1-D"] <= 1.02 * pace[per_core]
    assert runs["auto 1-D"].cores < runs[1].cores
    assert pace["auto"] < 0.9 * pace["auto 1-D"]


def _grid_model(kind, per_core):
    """A model of each layer kind with its slices ``per_core`` (a dense
    size or a number of output positions; "auto": the planner's; or, for
    dense, (neurons, inputs per core[, weights_in]): a 2-D split)."""
    model = spiDNN.Model(seed=3)
    if kind == "dense":
        per_core, inputs, where = (
            (per_core, None, "auto") if not isinstance(per_core, tuple)
            else (per_core + ("auto",))[:3])
        model.add(Input(20))
        for units, activation in ((9, "tanh"), (7, "relu"), (4, "softmax")):
            model.add(Dense(units, activation, neurons_per_core=per_core,
                            inputs_per_core=inputs, weights_in=where))
        return model

    def channels(n):
        return per_core if per_core == "auto" else per_core * n
    model.add(Input((8, 8, 1)))
    model.add(Conv2D(3, 3, activation="relu", neurons_per_core=channels(3)))
    model.add(MaxPooling2D(2, neurons_per_core=channels(3)))
    model.add(Flatten())
    model.add(Dense(4, "softmax", neurons_per_core=(
        per_core if per_core == "auto" else min(per_core, 4))))
    return model


def _numbers(model, x, y, train):
    """The trained weights (when ``train``) and predictions, as bytes."""
    result = []
    if train:
        model.compile(spiDNN.optimizers.SGD(0.1, momentum=0.9),
                      "sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=3, epochs=2, verbose=0)
        result += [w.tobytes() for w in model.get_weights()]
    return result + [model.predict(x).tobytes()]


@pytest.mark.machine
@pytest.mark.parametrize("kind,sizes,train", [
    ("dense", ["auto", 2, 3, 9], True),
    # 2-D: blocks of the inputs (those of the layers after the first
    # straddle the previous layer's slices at (3, 5) and (2, 3)), and
    # streamed from SDRAM
    ("dense", [(1, 7), (3, 5), (2, 3), (9, 19), (2, 6, "sdram")], True),
    ("conv", ["auto", 2, 5, 36], True)])
def test_every_plan_gives_the_same_numbers(kind, sizes, train):
    rng = numpy.random.default_rng(4)
    n_in = 20 if kind == "dense" else 64
    x = rng.normal(size=(10, n_in)).astype(numpy.float32)
    y = rng.integers(0, 4, 10)
    reference = _numbers(_grid_model(kind, 1), x, y, train)
    for per_core in sizes:
        assert _numbers(_grid_model(kind, per_core), x, y, train) == (
            reference), per_core


def test_a_slice_beyond_dtcm_names_the_layer_and_the_limit():
    model = spiDNN.Model().add(Input(3000))
    with pytest.raises(SpiDNNConfigurationError,
                       match=r"layer wide .*DTCM per core"):
        model.add(Dense(50, neurons_per_core=50, weights_in="dtcm",
                        name="wide"))


def test_a_slice_beyond_a_chips_sdram_names_the_limit():
    model = spiDNN.Model().add(Input(20000))
    with pytest.raises(SpiDNNConfigurationError,
                       match=r"layer deep .*SDRAM per core; a SpiNNaker "
                             r"chip has 123469792"):
        model.add(Dense(2000, neurons_per_core=2000, weights_in="sdram",
                        name="deep"))


def test_a_layer_no_slice_fits_is_refused_when_added():
    """A softmax's cores each hold the whole layer's z and outputs: 20,000
    of them fit no core, streamed or not."""
    model = spiDNN.Model().add(Input(4))
    with pytest.raises(SpiDNNConfigurationError,
                       match=r"layer huge .*DTCM per core.*Even 1 neurons "
                             r"per core"):
        model.add(Dense(20000, "softmax", name="huge"))
    assert model.layers == []


@pytest.mark.machine
def test_training_plans_again_for_its_dtcm():
    """A slice that fits inference but not training's gradients and
    optimizer state gets more cores for fit."""
    rng = numpy.random.default_rng(5)
    model = _mlp(1200, [(8, "relu"), (2, "softmax")])
    model.predict(rng.normal(size=(2, 1200)).astype(numpy.float32))
    predicting = model.plan.layers[0].n_cores
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(rng.normal(size=(4, 1200)), rng.integers(0, 2, 4),
              verbose=0, batch_size=2)
    assert model.plan.training
    assert model.plan.layers[0].n_cores >= predicting
    for layer in model.plan.layers:
        assert layer.dtcm_bytes <= spiDNN.abi.layouts.DTCM_HEAP_BYTES


def test_a_core_budget_relaxes_the_pace():
    spec = [(1000, "relu"), (1000, "relu")]
    four_boards = _mlp(400, spec, n_boards=4)
    assert four_boards.plan.n_cores > 48 * 17
    one_board = _mlp(400, spec, n_boards=1)
    assert one_board.plan.n_cores <= 0.9 * 48 * 17 - 2
    assert one_board.plan.bottleneck_cycles > (
        four_boards.plan.bottleneck_cycles)
    # Given no boards, it takes no more than its fewest cores need.
    assert _mlp(400, spec).plan.n_cores == one_board.plan.n_cores


def test_a_model_too_big_for_its_boards_is_refused():
    model = spiDNN.Model(n_boards=1).add(Input(2000))
    with pytest.raises(SpiDNNConfigurationError,
                       match=r"1 board\(s\) have .* Give more n_boards"):
        model.add(Dense(3000, "relu", neurons_per_core=1))


@pytest.mark.machine
def test_predictions_equal_keras_at_the_planned_slices():
    spec = [(24, "relu"), (10, "softmax")]
    kmodel = keras_model(60, spec)
    model = spidnn_model(60, spec, neurons_per_core="auto",
                         weights=kmodel.get_weights())
    x = numpy.random.default_rng(6).normal(size=(16, 60)).astype("float32")
    numpy.testing.assert_allclose(model.predict(x), kmodel.predict(x, verbose=0),
                                  rtol=0, atol=1e-6)


@pytest.mark.unit
def test_a_trained_layers_weight_keys_fit_the_key_space():
    """Every trained weight comes home with a key of its own: VGG16's fc2
    (4096 x 4096, every input on each core) is sliced within the bits
    PACMAN's zoned allocator leaves (planner.WEIGHT_KEY_BITS), and a
    Dense twice as wide, beyond them at any slicing, is refused by name
    with the change (input blocks: test_large_layers' sixteen million
    weights train)."""
    from spiDNN.compiler.planner import WEIGHT_KEY_BITS

    def planned(units):
        model = _mlp(4096, [(units, "relu"), (10, "softmax")],
                     inputs_per_core=None)
        model.compile("sgd", "sparse_categorical_crossentropy")
        training, _ = model._plan_training(
            4, None, 1, 4, None, False, 0, numpy.zeros(4))
        return model.check_fits(training).layers[0]

    fc2 = planned(4096)
    keys = fc2.neurons_per_core * 4097
    assert ((keys - 1).bit_length()
            + (fc2.n_cores - 1).bit_length()) <= WEIGHT_KEY_BITS
    with pytest.raises(SpiDNNConfigurationError,
                       match="dense_?[0-9]* has too many weights to send "
                             "home after training.*inputs_per_core='auto'"):
        planned(8192)
