"""UpSampling1D, UpSampling2D and RepeatVector against Keras, and the same
bits whatever their slicing."""
import numpy
import pytest

import spiDNN
from tests.branch_oracle import (
    assert_predicts_as_keras, assert_trains_as_keras, samples)


def repeated(kind, seed=0):
    """A weighted layer, the repeat, and a Dense head (Keras)."""
    import keras
    from keras import layers
    keras.utils.set_random_seed(seed)
    if kind == "UpSampling2D":
        inputs = keras.Input((5, 2, 1))
        x = layers.UpSampling2D((2, 3))(
            layers.Conv2D(2, 2, activation="tanh")(inputs))
    elif kind == "UpSampling1D":
        inputs = keras.Input((6, 2))
        x = layers.UpSampling1D(3)(layers.Conv1D(3, 2)(inputs))
    else:
        inputs = keras.Input((5,))
        x = layers.RepeatVector(3)(layers.Dense(4, activation="relu")(inputs))
    return keras.Model(inputs, layers.Dense(3)(layers.Flatten()(x)))


@pytest.mark.parametrize("kind", ["UpSampling1D", "UpSampling2D",
                                  "RepeatVector"])
def test_repeats_train_as_keras(kind):
    kmodel = repeated(kind)
    x, y = samples(tuple(kmodel.inputs[0].shape[1:]), 64)
    model = assert_predicts_as_keras(kmodel, x)
    assert type(model.layers[1]).__name__ == kind
    assert_trains_as_keras(kmodel, x, y[:, :3], "mse", "sgd_momentum")


def test_upsampling_is_bit_identical_across_slicings():
    from spiDNN.layers import Conv2D, Dense, Input, UpSampling2D
    x, y = samples((4, 4, 1), 16)
    results = []
    for per_core in (2, 2 * 8 * 12):
        model = spiDNN.Model(seed=1)
        model.add(Input(4, 4, 1))
        model.add(Conv2D(2, 2, activation="relu", neurons_per_core=2))
        model.add(UpSampling2D((2, 4), neurons_per_core=per_core))
        model.add(Dense(4))
        model.compile(optimizer="adam", loss="mse")
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
        results.append((model.predict(x), model.get_weights()))
    assert numpy.array_equal(results[0][0], results[1][0])
    assert all(numpy.array_equal(a, b)
               for a, b in zip(results[0][1], results[1][1]))


@pytest.mark.unit
def test_repeats_round_trip_and_refuse_what_they_do_not_compute():
    import keras
    from spiDNN.layers import RepeatVector, UpSampling2D
    for kind in ("UpSampling1D", "UpSampling2D", "RepeatVector"):
        model = spiDNN.from_keras(repeated(kind))
        klayer = model.to_keras().get_layer(model.layers[1].name)
        assert type(klayer).__name__ == kind
        assert tuple(klayer.output.shape) == model.layers[1].shape
    with pytest.raises(spiDNN.SpiDNNConfigurationError,
                       match="computes 'nearest'"):
        UpSampling2D(interpolation="bilinear")
    with pytest.raises(spiDNN.SpiDNNConfigurationError,
                       match="takes a flat input"):
        spiDNN.Model([spiDNN.layers.Input(2, 3), RepeatVector(2)])
    inputs = keras.Input((4, 4, 1))
    bilinear = keras.Model(inputs, keras.layers.UpSampling2D(
        interpolation="bilinear")(inputs))
    with pytest.raises(spiDNN.SpiDNNConfigurationError,
                       match="'nearest'"):
        spiDNN.from_keras(bilinear)
