"""Shared fixtures: Keras as the oracle, and scikit-learn's digits."""
import os
import sys
import tempfile

# The developer tools (tools/: calibration, fault rigs) live beside the
# package, not in it.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy  # noqa: E402
import pytest  # noqa: E402

import spiDNN  # noqa: E402
from spiDNN.layers import Dense, Input  # noqa: E402


def keras_model(n_inputs, spec, seed=0):
    """A Keras MLP; spec is [(units, activation), ...]."""
    import keras
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [keras.Input((n_inputs,))]
        + [keras.layers.Dense(units, activation=activation)
           for units, activation in spec])


def spidnn_model(n_inputs, spec, neurons_per_core=1, weights=None):
    """The same MLP in spiDNN, optionally with the given weights."""
    model = spiDNN.Model(seed=0)
    model.add(Input(n_inputs))
    for units, activation in spec:
        model.add(Dense(units, activation=activation,
                        neurons_per_core=neurons_per_core))
    if weights is not None:
        model.set_weights(weights)
    return model


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's bundled 8x8 digits, scaled to [0, 1]."""
    from sklearn.datasets import load_digits
    data = load_digits()
    return (data.data / 16.0).astype(numpy.float32), data.target


def upscale_to_mnist(images_8x8):
    """8x8 digits as 28x28 images (3x3 blocks, 2-pixel border), flattened."""
    images = images_8x8.reshape(-1, 8, 8)
    big = numpy.kron(images, numpy.ones((3, 3), dtype=numpy.float32))
    big = numpy.pad(big, ((0, 0), (2, 2), (2, 2)))
    return big.reshape(len(images), 784).astype(numpy.float32)


def spidnn_temp_folders():
    return {name for name in os.listdir(tempfile.gettempdir())
            if name.startswith("spiDNN-")}


def keras_train(model, x, y, loss, learning_rate, epochs, batch_size):
    """Trains a Keras model in order (no shuffling) with plain SGD, batch
    by batch; returns each epoch's per-sample losses, each taken before
    its batch's update as in Keras' running loss."""
    import keras
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss=loss)
    loss_fn = keras.losses.get(loss)     # per sample, no reduction
    sample_losses = []
    for _ in range(epochs):
        losses = []
        for start in range(0, len(x), batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            losses.append(numpy.asarray(loss_fn(yb, model(xb))))
            model.train_on_batch(xb, yb)
        sample_losses.append(numpy.concatenate(losses))
    return sample_losses
