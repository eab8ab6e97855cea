"""Large windows (kernels of 7 and 11, strides of 4, many filters) give
the same bits on every receptive-field slicing, with the kernel in DTCM
or in SDRAM; tests/test_conv_matches_keras.py trains the same shapes
against Keras."""
import functools

import numpy
import pytest

import spiDNN
from spiDNN.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D

RNG = numpy.random.default_rng(12)
X = RNG.normal(size=(10, 27, 27, 1)).astype(numpy.float32)
Y = RNG.integers(0, 3, 10)


@functools.cache
def _trained(where, per_core):
    """conv 11x11 stride 4 (16 filters) -> MaxPooling2D(2, 1) -> conv
    7x7 "same" stride 4 -> Dense, trained with SGD (a DTCM kernel must
    fit with its gradients and each position's sums): ``per_core``
    output positions per core of each windowed layer."""
    first, pool, second = per_core
    model = spiDNN.Model(seed=1, layers=[
        Input(27, 27, 1),
        Conv2D(16, 11, strides=4, activation="relu", weights_in=where,
               neurons_per_core=16 * first),
        MaxPooling2D(2, strides=1, neurons_per_core=16 * pool),
        Conv2D(3, 7, strides=4, padding="same", activation="tanh",
               weights_in=where, neurons_per_core=3 * second),
        Flatten(), Dense(3, "softmax")])
    before = model.predict(X)
    model.compile(spiDNN.optimizers.SGD(0.1, momentum=0.9),
                  "sparse_categorical_crossentropy")
    history = model.fit(X, Y, batch_size=4, epochs=2, verbose=0,
                        shuffle=False)
    convs = [layer for layer in model.plan.layers
             if layer.name.startswith("conv")]
    assert [layer.streamed for layer in convs] == [where == "sdram"] * 2
    return tuple([before.tobytes(), model.predict(X).tobytes()]
                 + [w.tobytes() for w in model.get_weights()]
                 + [numpy.float32(history.history["loss"]).tobytes()])


@pytest.mark.parametrize("where, per_core", [
    ("dtcm", (1, 4, 1)), ("sdram", (1, 1, 1)), ("sdram", (25, 16, 1)),
    ("sdram", (2, 3, 1))])
def test_large_windows_give_the_same_bits_on_every_slicing(where, per_core):
    """One position a core, part rows and whole layers, DTCM or SDRAM:
    against the DTCM kernels at one position a core."""
    assert _trained(where, per_core) == _trained("dtcm", (1, 1, 1))
