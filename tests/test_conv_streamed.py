"""Convolutions whose kernels live in SDRAM (weights_in="sdram", or the
planner's choice for a kernel DTCM cannot hold): the weights, their
gradients, optimizer state and each position's sums stream through DMA
(c_code/conv/conv_stream.h) and give the DTCM kernel's numbers bit for
bit, on any slicing; keras.io's mnist_convnet, refused before, predicts
and trains as Keras does."""
import keras
import numpy
import pytest

import spiDNN
from spiDNN import Faults
from spiDNN.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D

from tools.mapped import MappedModel, identical

RNG = numpy.random.default_rng(3)
X = RNG.normal(size=(9, 8, 8, 3)).astype(numpy.float32)
Y = RNG.integers(0, 4, 9)


def _model(where, first_per_core, second_per_core):
    """Two convolutions (the second padded, its chain over several
    cores), a Dense after them."""
    return spiDNN.Model(seed=0, layers=[
        Input(8, 8, 3),
        Conv2D(8, 3, activation="relu", weights_in=where,
               neurons_per_core=first_per_core),
        Conv2D(4, 3, padding="same", weights_in=where,
               neurons_per_core=second_per_core),
        Flatten(), Dense(4, "softmax")])


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop"])
def test_streamed_and_dtcm_kernels_give_the_same_numbers(optimizer):
    """Predictions and trained weights of streamed kernels at two
    slicings equal those of DTCM kernels at a third, bit for bit."""
    results = []
    for where, first, second in (("dtcm", 24, 12), ("sdram", 8, 12),
                                 ("sdram", 72, 144)):
        model = _model(where, first, second)
        before = model.predict(X)
        model.compile(optimizer, "sparse_categorical_crossentropy")
        model.fit(X, Y, batch_size=4, epochs=2, verbose=0)
        convs = [layer for layer in model.plan.layers
                 if layer.name.startswith("conv")]
        assert [layer.streamed for layer in convs] == [where == "sdram"] * 2
        assert [layer.neurons_per_core for layer in convs] == [first, second]
        results.append([before.tobytes(), model.predict(X).tobytes()]
                       + [w.tobytes() for w in model.get_weights()])
    assert results[0] == results[1] == results[2]


def test_lost_packets_of_a_streamed_kernel_are_recovered():
    """Drops anywhere, the abort cancelling a stream mid-way: every run
    trains to the fault-free weights."""
    model = _model("sdram", 16, 48)
    with MappedModel(model, X, Y, loss="sparse_categorical_crossentropy",
                     epochs=2, batch_size=4) as rig:
        expected = rig.run()
        injected = 0
        for seed in range(8):
            result = rig.run(Faults(drop_rate=1e-2, seed=seed))
            assert identical(result, expected)
            injected += rig.report.faults["dropped_random"]
        assert injected > 0


def _mnist_convnet():
    """keras.io's examples/vision/mnist_convnet.py, its Dropout removed
    (the masks would differ)."""
    layers = keras.layers
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dense(10, activation="softmax")])


def _cifar10_tutorial():
    """TensorFlow's CIFAR-10 CNN tutorial at 32x32x3, with a softmax
    output (the tutorial's logits take from_logits=True)."""
    layers = keras.layers
    return keras.Sequential([
        keras.Input(shape=(32, 32, 3)),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.Flatten(),
        layers.Dense(64, activation="relu"),
        layers.Dense(10, activation="softmax")])


def _assert_trains_like_keras(build, n, batch_size, optimizer, streamed):
    """``build``'s model predicts within 1e-5 of Keras and, after an
    epoch of ``n`` samples, ends within 1e-4 of Keras' weights and
    History; the layers of ``kmodel.layers`` at ``streamed`` stream
    from SDRAM predicting, with no setting."""
    keras.utils.set_random_seed(0)
    kmodel = build()
    kmodel.compile(loss="categorical_crossentropy", optimizer=optimizer,
                   metrics=["accuracy"])
    reference = keras.models.clone_model(kmodel)
    reference.set_weights(kmodel.get_weights())
    reference.compile(loss="categorical_crossentropy", optimizer=optimizer,
                      metrics=["accuracy"])
    rng = numpy.random.default_rng(0)
    x = rng.random((n,) + kmodel.input_shape[1:]).astype(numpy.float32)
    y = keras.utils.to_categorical(rng.integers(0, 10, n), 10)
    model = spiDNN.from_keras(kmodel)
    numpy.testing.assert_allclose(
        model.predict(x[:8]), kmodel.predict(x[:8], verbose=0), atol=1e-5)
    expected = reference.fit(x, y, batch_size=batch_size, epochs=1,
                             verbose=0, shuffle=False)
    history = spiDNN.keras.fit(kmodel, x, y, batch_size=batch_size,
                               epochs=1, verbose=0, shuffle=False)
    planned = {layer.name: layer.streamed for layer in model.plan.layers}
    assert [planned[kmodel.layers[index].name] for index in streamed] == [
        True] * len(streamed)
    for got, want in zip(kmodel.get_weights(), reference.get_weights()):
        numpy.testing.assert_allclose(got, want, atol=1e-4)
    for key in ("loss", "accuracy"):
        numpy.testing.assert_allclose(history.history[key],
                                      expected.history[key], atol=1e-4)


def test_mnist_convnet_predicts_and_trains_like_keras():
    """Its second convolution (73,984 bytes of kernel) streams from
    SDRAM with no setting; one epoch of 256 samples with Adam at batch
    128, as the example trains."""
    _assert_trains_like_keras(_mnist_convnet, 256, 128, "adam", [2])


def test_cifar10_tutorial_predicts_and_trains_like_keras():
    """Its last two convolutions stream, the last keeping its copy of
    Dense(64)'s rows in SDRAM (64 KB with Adam's state)."""
    _assert_trains_like_keras(_cifar10_tutorial, 256, 128, "adam", [2, 4])
