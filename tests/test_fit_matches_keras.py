"""Training on the machine gives Keras' weights and losses.

From the same initial weights and without shuffling, three epochs of
spiDNN's fit (forward, loss, backward and SGD updates in the C apps) must
leave every weight and bias within 1e-4 of Keras (TensorFlow CPU), and
each sample's loss must equal Keras' to 1e-4.
"""
import numpy
import pytest

from conftest import keras_model, keras_train, spidnn_model

TOLERANCE = 1e-4
EPOCHS = 3

#: The original prototype's XOR network.
XOR_SPEC = [(50, "relu"), (50, "softmax"), (300, "tanh"), (50, "sigmoid"),
            (25, None), (2, "softmax")]


def xor_data():
    """The four XOR points five times over (20 samples: 7 does not divide
    them, so the last batch of each epoch is short)."""
    x = numpy.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=numpy.float32)
    y = numpy.array([[1, 0], [0, 1], [0, 1], [1, 0]], dtype=numpy.float32)
    return numpy.tile(x, (5, 1)), numpy.tile(y, (5, 1))


def digits_data(digits, loss, n=100):
    x, classes = digits
    y = (classes[:n] if loss == "sparse_categorical_crossentropy"
         else numpy.eye(10, dtype=numpy.float32)[classes[:n]])
    return x[:n], y


def binary_data(n=50):
    rng = numpy.random.default_rng(3)
    x = rng.normal(size=(n, 8)).astype(numpy.float32)
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(numpy.float32)[:, None]
    return x, y


def assert_trains_like_keras(n_inputs, spec, x, y, loss, batch_size,
                             neurons_per_core, learning_rate, output_bias=0.0):
    reference = keras_model(n_inputs, spec, seed=1)
    if output_bias:
        weights = reference.get_weights()
        weights[-1] += output_bias
        reference.set_weights(weights)
    initial = reference.get_weights()
    model = spidnn_model(n_inputs, spec, neurons_per_core,
                         reference.get_weights())
    history = model.fit(x, y, loss=loss, epochs=EPOCHS,
                        batch_size=batch_size, learning_rate=learning_rate,
                        shuffle=False, verbose=0)
    keras_losses = keras_train(reference, x, y, loss, learning_rate,
                               EPOCHS, batch_size)
    for ours, theirs in zip(model.get_weights(), reference.get_weights()):
        assert ours.shape == theirs.shape
        numpy.testing.assert_allclose(ours, theirs, rtol=0, atol=TOLERANCE)
    assert len(history.sample_losses) == EPOCHS
    for ours, theirs in zip(history.sample_losses, keras_losses):
        numpy.testing.assert_allclose(ours, theirs, rtol=0, atol=TOLERANCE)
    numpy.testing.assert_allclose(
        history.history["loss"], [numpy.mean(e) for e in keras_losses],
        rtol=0, atol=TOLERANCE)
    # The weights must have moved, or the comparison proves nothing.
    moved = max(numpy.abs(a - b).max()
                for a, b in zip(model.get_weights(), initial))
    assert moved > 100 * TOLERANCE
    return model


@pytest.mark.parametrize("neurons_per_core", [1, 5])
@pytest.mark.parametrize("batch_size", [1, 7, 32])
def test_xor_network_mean_squared_error(batch_size, neurons_per_core):
    x, y = xor_data()
    assert_trains_like_keras(2, XOR_SPEC, x, y, "mean_squared_error",
                             batch_size, neurons_per_core, 0.5)


@pytest.mark.parametrize("neurons_per_core", [1, 5])
@pytest.mark.parametrize("batch_size", [1, 7, 32])
@pytest.mark.parametrize("loss", ["categorical_crossentropy",
                                  "sparse_categorical_crossentropy"])
def test_digits_mlp_crossentropy(digits, loss, batch_size,
                                 neurons_per_core):
    x, y = digits_data(digits, loss)
    assert_trains_like_keras(64, [(32, "tanh"), (10, "softmax")], x, y,
                             loss, batch_size, neurons_per_core, 0.1)


@pytest.mark.parametrize("neurons_per_core", [1, 5])
@pytest.mark.parametrize("batch_size", [1, 7, 32])
def test_binary_crossentropy(batch_size, neurons_per_core):
    x, y = binary_data()
    assert_trains_like_keras(8, [(4, "relu"), (1, "sigmoid")], x, y,
                             "binary_crossentropy", batch_size,
                             neurons_per_core, 0.2)


@pytest.mark.parametrize("loss, spec, output_bias", [
    # Keras takes these cross-entropies from probabilities, clipped to
    # [1e-7, 1 - 1e-7].  A positive initial output bias keeps linear and
    # relu "probabilities" away from 0 and from a near-zero sum, where the
    # gradients (1/p) explode and float rounding is amplified past 1e-4.
    ("categorical_crossentropy", [(6, "relu"), (3, "linear")], 1.0),
    ("binary_crossentropy", [(6, "tanh"), (3, "relu")], 0.5),
    # ... and these from the logits a sigmoid or softmax carries along,
    # whichever cross-entropy it is.
    ("categorical_crossentropy", [(6, "tanh"), (3, "sigmoid")], 0.0),
    ("binary_crossentropy", [(6, "tanh"), (3, "softmax")], 0.0),
    ("mean_squared_error", [(6, "sigmoid"), (3, "tanh")], 0.0),
])
def test_every_loss_and_output_activation(loss, spec, output_bias):
    rng = numpy.random.default_rng(5)
    x = rng.random((24, 5)).astype(numpy.float32)
    y = rng.dirichlet(numpy.ones(3), 24).astype(numpy.float32)
    if loss == "binary_crossentropy":
        y = (y > 0.3).astype(numpy.float32)
    assert_trains_like_keras(5, spec, x, y, loss, 5, 2, 0.05, output_bias)


def test_sparse_crossentropy_from_clipped_probabilities(digits):
    x, y = digits_data(digits, "sparse_categorical_crossentropy", n=40)
    # Linear outputs can leave [0, 1]; Keras clips them and drops those
    # gradients, and so must the loss app.
    assert_trains_like_keras(64, [(16, "relu"), (10, "linear")], x, y,
                             "sparse_categorical_crossentropy", 8, 4, 0.05,
                             output_bias=0.1)


def test_compile_then_fit_matches_keras_fit(digits):
    """Keras' own fit (History, batch default 32) against compile+fit."""
    import keras
    x, classes = digits
    x, y = x[:150], classes[:150]
    spec = [(24, "relu"), (10, "softmax")]
    reference = keras_model(64, spec, seed=2)
    model = spidnn_model(64, spec, 3, reference.get_weights())
    model.compile(optimizer=spiDNN_sgd(0.2),
                  loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=2, shuffle=False, verbose=0)
    reference.compile(optimizer=keras.optimizers.SGD(0.2),
                      loss="sparse_categorical_crossentropy")
    keras_history = reference.fit(x, y, epochs=2, shuffle=False, verbose=0)
    numpy.testing.assert_allclose(history.history["loss"],
                                  keras_history.history["loss"],
                                  rtol=0, atol=TOLERANCE)
    for ours, theirs in zip(model.get_weights(), reference.get_weights()):
        numpy.testing.assert_allclose(ours, theirs, rtol=0, atol=TOLERANCE)


def spiDNN_sgd(learning_rate):
    import spiDNN
    return spiDNN.optimizers.SGD(learning_rate=learning_rate)
