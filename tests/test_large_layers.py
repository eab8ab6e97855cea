"""Layers larger than a core: planned with no setting from the user, their
kernels streamed from SDRAM where DTCM is too small, and models larger
than a board spread over several; always equal to Keras."""
import keras
import numpy
import pytest

import spiDNN
from spiDNN.layers import Dense, Input
from spiDNN.compiler.planner import APP_CORES_PER_CHIP, CHIPS_PER_BOARD


def _pair(n_in, hidden, n_out=10, output="softmax", inputs_per_core=None,
          **spidnn_kwargs):
    """A Keras MLP and the same spiDNN model with its weights."""
    keras.utils.set_random_seed(0)
    kmodel = keras.Sequential([
        keras.Input((n_in,)), keras.layers.Dense(hidden, activation="relu"),
        keras.layers.Dense(n_out, activation=output)])
    model = spiDNN.Model([Input(n_in),
                          Dense(hidden, "relu", inputs_per_core=inputs_per_core),
                          Dense(n_out, output, inputs_per_core=inputs_per_core)],
                         seed=0, **spidnn_kwargs)
    model.set_weights(kmodel.get_weights())
    return kmodel, model


def _data(n, n_in, n_classes=10):
    rng = numpy.random.default_rng(0)
    return (rng.normal(size=(n, n_in)).astype(numpy.float32),
            rng.integers(0, n_classes, n))


def _assert_predicts_and_trains_like_keras(n_in, hidden, n_samples,
                                           n_predicted=None,
                                           inputs_per_core=None):
    kmodel, model = _pair(n_in, hidden, inputs_per_core=inputs_per_core)
    x, y = _data(n_samples, n_in)
    shown = x[:n_predicted]
    numpy.testing.assert_allclose(model.predict(shown), kmodel.predict(
        shown, verbose=0), rtol=0, atol=1e-5)
    for m in (model, kmodel):
        m.compile(keras.optimizers.SGD(0.01),
                  "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    kmodel.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for mine, theirs in zip(model.get_weights(), kmodel.get_weights()):
        numpy.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-4)
    return model


def test_a_neuron_wider_than_dtcm_streams_its_kernel():
    """20,000 weights per neuron (80 KB, beyond a core's DTCM, as are its
    20,000 inputs): the planner keeps them in SDRAM."""
    model = _assert_predicts_and_trains_like_keras(20000, 64, 24)
    first = model.plan.layers[0]
    assert first.streamed and model.plan.training
    assert "streamed from SDRAM" in model.summary(print_fn=None)


def test_a_layer_split_into_input_blocks_predicts_and_trains_like_keras():
    """The same layer left to the planner's 2-D split: blocks of inputs
    whose kernel fits DTCM."""
    model = _assert_predicts_and_trains_like_keras(20000, 64, 24,
                                                   inputs_per_core="auto")
    first = model.plan.layers[0]
    assert first.inputs_per_core is not None and not first.streamed
    assert f"x {first.inputs_per_core} inputs per core" in model.summary(
        print_fn=None)


def test_sixteen_million_weights_map_and_train():
    """16.8 M weights, which the planner fits on one board: slices of
    neurons split 2-D into input blocks, streamed from SDRAM.  Fewer
    samples than the others."""
    model = _assert_predicts_and_trains_like_keras(4096, 4096, 16,
                                                   n_predicted=8,
                                                   inputs_per_core="auto")
    assert model.boards_needed() == 1
    assert model.last_run.chips <= CHIPS_PER_BOARD
    for layer in model.plan.layers:
        assert layer.dtcm_bytes <= spiDNN.abi.layouts.DTCM_HEAP_BYTES


def test_a_model_of_several_boards_predicts_like_keras():
    """3000 -> 2500 -> 7 at one neuron per core: 2,507 layer cores, on
    four virtual boards."""
    keras.utils.set_random_seed(1)
    kmodel = keras.Sequential([
        keras.Input((3000,)), keras.layers.Dense(2500, activation="tanh"),
        keras.layers.Dense(7)])
    model = spiDNN.Model([Input(3000),
                          Dense(2500, "tanh", neurons_per_core=1),
                          Dense(7, neurons_per_core=1)])
    model.set_weights(kmodel.get_weights())
    x, _ = _data(3, 3000)
    numpy.testing.assert_allclose(model.predict(x), kmodel.predict(
        x, verbose=0), rtol=0, atol=1e-5)
    assert model.boards_needed() == 4
    assert model.last_run.chips > 3 * CHIPS_PER_BOARD
    assert model.last_run.cores > 3 * CHIPS_PER_BOARD * APP_CORES_PER_CHIP


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_streamed_and_dtcm_kernels_give_the_same_numbers(optimizer):
    """weights_in="sdram" streams a kernel that would fit DTCM: every
    number equals the DTCM run's, bit for bit."""
    x, y = _data(9, 600, 4)
    results = []
    for where in ("dtcm", "sdram"):
        model = spiDNN.Model(seed=0)
        model.add(Input(600))
        model.add(Dense(7, "relu", weights_in=where, neurons_per_core=3))
        model.add(Dense(4, "softmax", weights_in=where))
        before = model.predict(x)
        model.compile(optimizer, "sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=4, epochs=2, verbose=0)
        assert all(layer.streamed == (where == "sdram")
                   for layer in model.plan.layers)
        results.append([before.tobytes(), model.predict(x).tobytes()]
                       + [w.tobytes() for w in model.get_weights()])
    assert results[0] == results[1]


@pytest.mark.unit
def test_weights_in_is_checked():
    with pytest.raises(spiDNN.errors.SpiDNNConfigurationError,
                       match="weights_in must be"):
        Dense(3, weights_in="flash")
