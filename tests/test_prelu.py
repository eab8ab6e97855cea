"""Keras' PReLU on the prelu app, with TensorFlow CPU as the oracle: an
alpha per element (each core holds its elements' alphas) and alphas
shared along axes (every core holds them all, their gradients summed
along the chain), trained with SGD+momentum and Adam, regularised, and
bit-identical across slicings."""
import numpy
import pytest

import spiDNN
from branch_oracle import (
    assert_predicts_as_keras, assert_trains_as_keras, samples)
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers import Conv2D, Dense, Flatten, Input, PReLU

N_SAMPLES = 256


def keras_dense_prelu(alpha=0.25, regularizer=None):
    """Dense -> PReLU (an alpha per unit) -> softmax."""
    import keras
    x = keras.Input((6,))
    h = keras.layers.Dense(8)(x)
    h = keras.layers.PReLU(
        alpha_initializer=keras.initializers.Constant(alpha),
        alpha_regularizer=regularizer)(h)
    return keras.Model(x, keras.layers.Dense(3, activation="softmax")(h))


def keras_conv_prelu(shared_axes, alpha=0.2):
    """Conv2D -> PReLU(shared_axes) -> Flatten -> softmax."""
    import keras
    x = keras.Input((5, 5, 2))
    h = keras.layers.Conv2D(3, 3, padding="same")(x)
    h = keras.layers.PReLU(
        alpha_initializer=keras.initializers.Constant(alpha),
        shared_axes=shared_axes)(h)
    h = keras.layers.Flatten()(h)
    return keras.Model(x, keras.layers.Dense(3, activation="softmax")(h))


def _with_spread_alphas(kmodel, seed=1):
    """Alphas spread over [-0.5, 0.5], so each element's matters."""
    rng = numpy.random.default_rng(seed)
    prelu = next(layer for layer in kmodel.layers
                 if type(layer).__name__ == "PReLU")
    (alpha,) = prelu.get_weights()
    prelu.set_weights([rng.uniform(-0.5, 0.5, alpha.shape).astype(
        numpy.float32)])
    return kmodel


CASES = {
    "per-element": (lambda: keras_dense_prelu(), (6,)),
    "shared-positions": (lambda: keras_conv_prelu([1, 2]), (5, 5, 2)),
    "shared-rows": (lambda: keras_conv_prelu([1]), (5, 5, 2)),
    "per-element-conv": (lambda: keras_conv_prelu(None), (5, 5, 2)),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("optimizer", ["sgd_momentum", "adam"])
def test_prelu_predicts_and_trains_as_keras(case, optimizer):
    build, shape = CASES[case]
    kmodel = _with_spread_alphas(build())
    x, y = samples(shape, N_SAMPLES, classes=3)
    assert_predicts_as_keras(kmodel, x)
    assert_trains_as_keras(kmodel, x, y, "categorical_crossentropy",
                           optimizer)


def test_an_alpha_regulariser_is_in_the_history_as_keras_reports_it():
    import keras
    kmodel = _with_spread_alphas(keras_dense_prelu(
        regularizer=keras.regularizers.L2(0.05)))
    x, y = samples((6,), N_SAMPLES, classes=3)
    assert_trains_as_keras(kmodel, x, y, "categorical_crossentropy",
                           "sgd_momentum")


def _model(per_core, shared_axes, conv_per_core):
    model = spiDNN.Model(seed=2)
    model.add(Input(4, 4, 1))
    model.add(Conv2D(3, 3, padding="same", neurons_per_core=conv_per_core))
    model.add(PReLU(0.3, shared_axes=shared_axes, neurons_per_core=per_core))
    model.add(Flatten())
    model.add(Dense(2, activation="softmax"))
    model.compile(optimizer=spiDNN.optimizers.Adam(0.01),
                  loss="categorical_crossentropy")
    return model


@pytest.mark.parametrize("shared_axes", [None, [1, 2]])
def test_prelu_is_bit_identical_across_slicings(shared_axes):
    x, y = samples((4, 4, 1), 48, classes=2)
    results = []
    for per_core in (1, 5, 48):
        model = _model(per_core, shared_axes, conv_per_core=6)
        history = model.fit(x, y, batch_size=8, epochs=1, shuffle=False,
                            verbose=0)
        results.append((history.history["loss"], model.get_weights(),
                        model.predict(x)))
    first_loss, first_weights, first_predictions = results[0]
    for loss, weights, predictions in results[1:]:
        assert loss == first_loss
        for mine, theirs in zip(weights, first_weights):
            assert mine.tobytes() == theirs.tobytes()
        assert predictions.tobytes() == first_predictions.tobytes()


def test_prelu_converts_both_ways():
    import keras
    kmodel = _with_spread_alphas(keras_conv_prelu([1, 2]))
    model = spiDNN.from_keras(kmodel)
    (prelu,) = [layer for layer in model.layers if isinstance(layer, PReLU)]
    assert prelu.shared_axes == (1, 2) and prelu.weights[0].shape == (1, 1, 3)
    back = model.to_keras()
    (kprelu,) = [layer for layer in back.layers
                 if isinstance(layer, keras.layers.PReLU)]
    assert kprelu.get_config()["shared_axes"] == [1, 2]
    for mine, theirs in zip(back.get_weights(), kmodel.get_weights()):
        numpy.testing.assert_array_equal(mine, theirs)


def test_prelu_settings_spiDNN_does_not_compute_are_named():
    import keras
    x = keras.Input((4,))
    h = keras.layers.PReLU(alpha_constraint=keras.constraints.NonNeg())(x)
    kmodel = keras.Model(x, keras.layers.Dense(2)(h))
    with pytest.raises(SpiDNNConfigurationError,
                       match=r"p_re_lu.*alpha_constraint"):
        spiDNN.from_keras(kmodel)
    with pytest.raises(SpiDNNConfigurationError, match="shared_axes"):
        PReLU(shared_axes=[3])(Input(4, 2))
    with pytest.raises(SpiDNNConfigurationError, match="alpha_initializer"):
        PReLU(alpha_initializer="glorot_uniform")
