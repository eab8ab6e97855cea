"""Permute against Keras (every reordering of two and three axes, in a
conv model and a sequence model), and the same bits whatever its
slicing."""
import itertools

import numpy
import pytest

import spiDNN
from tests.branch_oracle import (
    assert_predicts_as_keras, assert_trains_as_keras, samples)


def permuted(dims, seed=0):
    """A weighted layer, the Permute, and a Dense head (Keras)."""
    import keras
    from keras import layers
    keras.utils.set_random_seed(seed)
    if len(dims) == 3:
        inputs = keras.Input((4, 5, 1))
        x = layers.Conv2D(3, 2, activation="tanh")(inputs)
    else:
        inputs = keras.Input((6, 2))
        x = layers.Conv1D(3, 2, activation="relu")(inputs)
    x = layers.Permute(dims)(x)
    return keras.Model(inputs, layers.Dense(3)(layers.Flatten()(x)))


@pytest.mark.parametrize("dims", list(itertools.permutations((1, 2, 3)))
                         + [(2, 1)])
def test_permute_trains_as_keras(dims):
    kmodel = permuted(dims)
    x, y = samples(tuple(kmodel.inputs[0].shape[1:]), 64)
    model = assert_predicts_as_keras(kmodel, x)
    assert type(model.layers[1]).__name__ == "Permute"
    assert_trains_as_keras(kmodel, x, y[:, :3], "mse", "sgd_momentum")


def test_permute_is_bit_identical_across_slicings():
    from spiDNN.layers import Conv2D, Dense, Flatten, Input, Permute
    x, y = samples((4, 3, 2), 16)
    results = []
    # Output (3, 2, 4): whole positions of 4 channels a core.
    for per_core in (4, 8, 24):
        model = spiDNN.Model(seed=1)
        model.add(Input(4, 3, 2))
        model.add(Conv2D(4, 1, activation="relu", neurons_per_core=4))
        model.add(Permute((2, 3, 1), neurons_per_core=per_core))
        model.add(Flatten())
        model.add(Dense(4))
        model.compile(optimizer="adam", loss="mse")
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
        results.append((model.predict(x), model.get_weights()))
    for other in results[1:]:
        assert numpy.array_equal(results[0][0], other[0])
        assert all(numpy.array_equal(a, b)
                   for a, b in zip(results[0][1], other[1]))


@pytest.mark.unit
def test_permute_round_trips_and_refuses_what_is_not_a_permutation():
    from spiDNN.layers import Input, Permute
    model = spiDNN.from_keras(permuted((3, 1, 2)))
    klayer = model.to_keras().get_layer(model.layers[1].name)
    assert type(klayer).__name__ == "Permute"
    assert tuple(klayer.dims) == (3, 1, 2)
    assert model.layers[1].output_shape == (3, 3, 4)
    for dims in ((1, 1), (0, 1), (2, 3), "21", ()):
        with pytest.raises(spiDNN.SpiDNNConfigurationError,
                           match="a permutation of 1"):
            Permute(dims)
    with pytest.raises(spiDNN.SpiDNNConfigurationError,
                       match=r"reorders 2 axes, but its input has shape "
                             r"\(2, 3, 4\)"):
        spiDNN.Model([Input(2, 3, 4), Permute((2, 1))])
