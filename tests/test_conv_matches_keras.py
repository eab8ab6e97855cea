"""Convolution, pooling and padding layers predict and train as Keras.

Each model is built twice from one description (tests/conv_oracle.py):
in Keras and in spiDNN, with the Keras model's weights copied over.
predict must equal Keras' to 1e-5; after two epochs of plain SGD without
shuffling every weight must be within 1e-4 of Keras' (TensorFlow CPU)
and every sample's loss too, and the weights must have moved.
"""
import numpy
import pytest

from conv_oracle import (
    assert_predicts_like_keras, assert_trains_like_keras, implicit_flatten,
    keras_model, layer, random_inputs, spidnn_model, teacher_labels)

CCE = "categorical_crossentropy"
SCCE = "sparse_categorical_crossentropy"
BCE = "binary_crossentropy"
MSE = "mean_squared_error"


def head(loss, n_outputs=3, flatten=True):
    """Flatten (or its implicit spiDNN form) and the output Dense."""
    activation = {CCE: "softmax", SCCE: "softmax", BCE: "sigmoid",
                  MSE: "linear"}[loss]
    return [layer("Flatten") if flatten else implicit_flatten(),
            layer("Dense", n_outputs, activation=activation)]


def case(case_id, input_shape, body, loss=SCCE, batch_size=7,
         learning_rate=0.2, n_samples=20, n_outputs=3, flatten=True,
         seed=0, bias_shift=0.0):
    specs = body + head(loss, n_outputs, flatten)
    return pytest.param(input_shape, specs, loss, batch_size, learning_rate,
                        n_samples, n_outputs, seed, bias_shift, id=case_id)


C2 = "Conv2D"
C1 = "Conv1D"

CASES = [
    # ---- Conv2D: kernels 1, 3, 5; strides 1, 2, 3; activations.
    case("conv2d-k1-relu", (7, 7, 2), [layer(C2, 3, 1, activation="relu")],
         loss=CCE),
    case("conv2d-k3-tanh", (7, 7, 2), [layer(C2, 4, 3, activation="tanh")]),
    case("conv2d-k5-s2-sigmoid", (9, 9, 1),
         [layer(C2, 2, 5, strides=2, activation="sigmoid")], loss=CCE,
         learning_rate=0.5),
    case("conv2d-k3-s3-linear-mse", (9, 9, 1),
         [layer(C2, 3, 3, strides=3, activation="linear")], loss=MSE,
         n_outputs=2, learning_rate=0.05),
    case("conv2d-k3-s2-no-activation", (7, 7, 2),
         [layer(C2, 3, 3, strides=2)], learning_rate=0.1),
    case("conv2d-k1-s3", (7, 7, 2), [layer(C2, 2, 1, strides=3,
                                           activation="tanh")]),
    # "same" padding: stride 2 on odd sizes (symmetric) and on an even
    # size (the extra row at the bottom, as TensorFlow pads).
    case("conv2d-same-k3-s2-odd", (7, 7, 2),
         [layer(C2, 3, 3, strides=2, padding="same", activation="relu")]),
    case("conv2d-same-k5-s2-odd", (9, 9, 1),
         [layer(C2, 2, 5, strides=2, padding="same", activation="tanh")],
         loss=CCE),
    case("conv2d-same-k3-s2-even-rows", (8, 7, 1),
         [layer(C2, 2, 3, strides=2, padding="same", activation="tanh")]),
    case("conv2d-same-k5-s1", (7, 7, 1),
         [layer(C2, 2, 5, padding="same", activation="sigmoid")],
         learning_rate=0.2),
    case("conv2d-same-k3-s3", (7, 7, 2),
         [layer(C2, 3, 3, strides=3, padding="same", activation="relu")]),
    # Non-square kernel, strides and input.
    case("conv2d-pairs", (8, 6, 2),
         [layer(C2, 3, (3, 1), strides=(2, 1), padding="same",
                activation="tanh")]),
    case("conv2d-pairs-valid", (9, 7, 1),
         [layer(C2, 2, (1, 5), strides=(3, 2), activation="relu")]),
    # Several input channels and filters.
    case("conv2d-3-channels-6-filters", (6, 6, 3),
         [layer(C2, 6, 3, activation="tanh")], learning_rate=0.1),
    # Softmax over each position's channels (Keras' softmax on a
    # convolution), hidden, sliced, before pooling and another conv, 1-D.
    case("conv2d-softmax-channels", (6, 6, 2),
         [layer(C2, 4, 3, activation="softmax")], learning_rate=0.5),
    case("conv2d-softmax-sliced-maxpool", (7, 7, 2),
         [layer(C2, 3, 3, activation="softmax", neurons_per_core=6),
          layer("MaxPooling2D", 2, neurons_per_core=3)], loss=CCE,
         learning_rate=0.5),
    case("conv2d-softmax-then-conv", (7, 7, 1),
         [layer(C2, 3, 2, strides=2, padding="same", activation="softmax",
                neurons_per_core=3),
          layer(C2, 2, 2, activation="tanh")], learning_rate=0.5),
    case("conv1d-softmax", (9, 2),
         [layer(C1, 5, 3, activation="softmax", neurons_per_core=10)],
         loss=MSE, n_outputs=2, learning_rate=0.5),
    # Large windows and strides (AlexNet's first layer's shape, small):
    # kernels of 11 and 7, stride 4, many filters.
    case("conv2d-k11-s4-24-filters", (23, 23, 2),
         [layer(C2, 24, 11, strides=4, activation="relu")],
         learning_rate=0.05),
    case("conv2d-same-k7-s4", (17, 17, 3),
         [layer(C2, 16, 7, strides=4, padding="same", activation="tanh")],
         loss=CCE, learning_rate=0.1),
    case("conv2d-k7-maxpool-4", (18, 18, 1),
         [layer(C2, 12, 7, activation="relu"), layer("MaxPooling2D", 4)],
         learning_rate=0.1),
    # ---- Conv after conv.
    case("conv2d-conv2d", (9, 9, 1),
         [layer(C2, 4, 3, activation="relu"),
          layer(C2, 3, 3, strides=2, activation="tanh")]),
    case("conv2d-same-conv2d-valid", (7, 7, 2),
         [layer(C2, 2, 3, padding="same", activation="tanh"),
          layer(C2, 3, 5, activation="relu")], loss=CCE),
    # A window that covers the whole input (one output position).
    case("conv2d-covers-input", (5, 5, 2),
         [layer(C2, 4, 5, activation="tanh")]),
    case("conv2d-covers-input-npc-2", (5, 5, 2),
         [layer(C2, 4, 5, activation="relu", neurons_per_core=2)],
         loss=CCE),
    case("conv1d-covers-input", (11, 2),
         [layer(C1, 3, 11, activation="sigmoid")], learning_rate=0.3),
    case("conv-pool-conv-covers", (8, 8, 1),
         [layer(C2, 3, 3, activation="relu"), layer("MaxPooling2D", 2),
          layer(C2, 4, 3, activation="tanh")]),
    # Pooling between two convolutions.
    case("conv-maxpool-conv", (9, 9, 1),
         [layer(C2, 3, 3, activation="relu"),
          layer("MaxPooling2D", 2, strides=1),
          layer(C2, 2, 3, strides=2, activation="tanh")]),
    case("conv1d-avgpool-conv1d", (11, 2),
         [layer(C1, 3, 3, activation="tanh"),
          layer("AveragePooling1D", 2),
          layer(C1, 2, 3, activation="relu")], loss=CCE),
    # ---- Pooling 2D.
    case("maxpool2d-2", (8, 8, 1),
         [layer(C2, 3, 3, activation="tanh"), layer("MaxPooling2D", 2)]),
    case("maxpool2d-3-s2-valid", (9, 9, 1),
         [layer(C2, 2, 3, activation="tanh"),
          layer("MaxPooling2D", 3, strides=2)], loss=CCE),
    case("maxpool2d-2-s1-same", (7, 7, 2),
         [layer(C2, 2, 3, activation="sigmoid"),
          layer("MaxPooling2D", 2, strides=1, padding="same")],
         learning_rate=0.1),
    case("maxpool2d-3-s2-same-odd", (7, 7, 1),
         [layer(C2, 3, 1, activation="linear"),
          layer("MaxPooling2D", 3, strides=2, padding="same")]),
    case("maxpool2d-2-s3", (9, 9, 1),
         [layer(C2, 2, 1, activation="tanh"),
          layer("MaxPooling2D", 2, strides=3)]),
    case("maxpool2d-input", (7, 7, 2),
         [layer("MaxPooling2D", 2), layer(C2, 3, 3, activation="tanh")]),
    case("avgpool2d-2", (8, 8, 1),
         [layer(C2, 3, 3, activation="relu"), layer("AveragePooling2D", 2)]),
    case("avgpool2d-3-s2-same", (7, 7, 1),
         [layer(C2, 2, 1, activation="tanh"),
          layer("AveragePooling2D", 3, strides=2, padding="same")],
         loss=CCE),
    case("avgpool2d-2-s1-same", (7, 7, 2),
         [layer(C2, 2, 3, activation="tanh"),
          layer("AveragePooling2D", 2, strides=1, padding="same")]),
    case("avgpool2d-3-s1-valid", (8, 8, 1),
         [layer(C2, 2, 3, activation="sigmoid"),
          layer("AveragePooling2D", 3, strides=1)], learning_rate=0.5),
    case("avgpool2d-pair", (9, 8, 1),
         [layer(C2, 2, 1, activation="relu"),
          layer("AveragePooling2D", (3, 2), strides=(2, 3))]),
    # Relu before max pooling: negative biases give many exact zeros, so
    # windows tie at 0 (TensorFlow routes the gradient to the first).
    case("relu-maxpool-ties", (8, 8, 1),
         [layer(C2, 3, 3, activation="relu"), layer("MaxPooling2D", 2)],
         bias_shift=-0.6, learning_rate=0.3),
    # ---- ZeroPadding2D: int, pair, pair of pairs.
    case("zeropad-int", (6, 6, 1),
         [layer("ZeroPadding2D", 1), layer(C2, 2, 3, activation="tanh")]),
    case("zeropad-pair", (6, 5, 2),
         [layer("ZeroPadding2D", (1, 2)),
          layer(C2, 2, 3, strides=2, activation="relu")]),
    case("zeropad-pairs-of-pairs", (6, 6, 1),
         [layer("ZeroPadding2D", ((0, 1), (2, 0))),
          layer(C2, 3, 3, activation="tanh"),
          layer("MaxPooling2D", 2)], loss=CCE),
    case("conv-zeropad-conv", (6, 6, 1),
         [layer(C2, 2, 3, activation="tanh"), layer("ZeroPadding2D", 1),
          layer(C2, 2, 3, activation="tanh")]),
    # ---- Implicit flatten: spiDNN's Dense straight after conv/pool.
    case("implicit-flatten-conv2d", (7, 7, 2),
         [layer(C2, 3, 3, activation="relu")], flatten=False),
    case("implicit-flatten-maxpool2d", (8, 8, 1),
         [layer(C2, 2, 3, activation="tanh"), layer("MaxPooling2D", 2)],
         flatten=False, loss=CCE),
    case("implicit-flatten-conv1d", (11, 2),
         [layer(C1, 3, 3, activation="tanh")], flatten=False),
    # ---- neurons_per_core: whole output positions (multiples of the
    # channels), small and large.
    case("npc-1-one-neuron-per-core", (7, 7, 2),
         [layer(C2, 1, 3, activation="tanh", neurons_per_core=1),
          layer("MaxPooling2D", 2, strides=1, neurons_per_core=1),
          layer(C2, 1, 2, activation="relu", neurons_per_core=1)]),
    case("npc-one-position", (7, 7, 1),
         [layer(C2, 4, 3, activation="tanh", neurons_per_core=4),
          layer("MaxPooling2D", 2, neurons_per_core=4)]),
    case("npc-multiple-4", (7, 7, 1),
         [layer(C2, 4, 3, activation="tanh", neurons_per_core=4),
          layer("AveragePooling2D", 2, neurons_per_core=4)]),
    case("npc-multiple-12", (7, 7, 2),
         [layer(C2, 4, 3, activation="tanh", neurons_per_core=12),
          layer("MaxPooling2D", 2, neurons_per_core=8)]),
    case("npc-large", (7, 7, 2),
         [layer(C2, 4, 3, activation="sigmoid", neurons_per_core=100)],
         learning_rate=0.1),
    case("npc-conv-conv-mixed", (8, 8, 1),
         [layer(C2, 6, 3, activation="relu", neurons_per_core=18),
          layer(C2, 2, 3, strides=2, activation="tanh",
                neurons_per_core=6)]),
    case("npc-conv1d", (11, 2),
         [layer(C1, 4, 3, activation="tanh", neurons_per_core=12),
          layer("MaxPooling1D", 2, neurons_per_core=8)]),
    # ---- Batch sizes.
    case("batch-1", (7, 7, 1), [layer(C2, 2, 3, activation="tanh")],
         batch_size=1, n_samples=12, learning_rate=0.1),
    case("batch-whole", (7, 7, 1), [layer(C2, 2, 3, activation="tanh")],
         batch_size=20, learning_rate=0.5),
    case("batch-larger-than-data", (7, 7, 1),
         [layer(C2, 2, 3, activation="tanh")], batch_size=32,
         learning_rate=0.5),
    case("batch-5-of-23", (7, 7, 2), [layer(C2, 2, 3, activation="relu")],
         batch_size=5, n_samples=23),
    # ---- Every loss (binary with a sigmoid output).
    case("loss-mse", (7, 7, 1), [layer(C2, 3, 3, activation="tanh")],
         loss=MSE, learning_rate=0.1),
    case("loss-binary", (7, 7, 1), [layer(C2, 3, 3, activation="relu")],
         loss=BCE, n_outputs=1, learning_rate=0.3),
    case("loss-binary-multilabel", (11, 2),
         [layer(C1, 3, 3, activation="tanh")], loss=BCE, n_outputs=3,
         learning_rate=0.3),
    case("loss-categorical", (11, 2), [layer(C1, 3, 3, activation="relu")],
         loss=CCE),
    # ---- Conv1D: kernels, strides, padding, activations, pooling.
    case("conv1d-k1", (11, 2), [layer(C1, 3, 1, activation="sigmoid")],
         learning_rate=0.2),
    case("conv1d-k3", (11, 3), [layer(C1, 4, 3, activation="relu")]),
    case("conv1d-k5-s2", (11, 2), [layer(C1, 3, 5, strides=2,
                                         activation="tanh")]),
    case("conv1d-k3-s3-linear", (11, 1), [layer(C1, 2, 3, strides=3)],
         loss=MSE, learning_rate=0.1),
    case("conv1d-same-k3-s2", (11, 2),
         [layer(C1, 3, 3, strides=2, padding="same", activation="relu")],
         loss=CCE),
    case("conv1d-same-k5-s3", (11, 2),
         [layer(C1, 2, 5, strides=3, padding="same", activation="tanh")]),
    case("conv1d-same-k3-s2-even", (10, 1),
         [layer(C1, 2, 3, strides=2, padding="same", activation="tanh")]),
    case("conv1d-conv1d", (11, 2),
         [layer(C1, 4, 3, activation="relu"),
          layer(C1, 3, 3, strides=2, activation="tanh")]),
    case("maxpool1d-2", (11, 2),
         [layer(C1, 3, 3, activation="tanh"), layer("MaxPooling1D", 2)]),
    case("maxpool1d-3-s2-same", (11, 2),
         [layer(C1, 3, 1, activation="linear"),
          layer("MaxPooling1D", 3, strides=2, padding="same")],
         learning_rate=0.1),
    case("maxpool1d-2-s3", (11, 1),
         [layer(C1, 2, 3, activation="tanh"),
          layer("MaxPooling1D", 2, strides=3)], loss=CCE),
    case("relu-maxpool1d-ties", (12, 1),
         [layer(C1, 3, 3, activation="relu"), layer("MaxPooling1D", 3)],
         bias_shift=-0.6, learning_rate=0.3),
    case("avgpool1d-2-s1", (11, 2),
         [layer(C1, 3, 3, activation="tanh"),
          layer("AveragePooling1D", 2, strides=1)]),
    case("avgpool1d-3-s2-same", (11, 2),
         [layer(C1, 2, 1, activation="sigmoid"),
          layer("AveragePooling1D", 3, strides=2, padding="same")],
         learning_rate=0.5),
    case("avgpool1d-3-s2-valid", (11, 2),
         [layer(C1, 2, 3, activation="relu"),
          layer("AveragePooling1D", 3, strides=2)], loss=CCE),
]


@pytest.mark.parametrize(
    "input_shape, specs, loss, batch_size, learning_rate, n_samples, "
    "n_outputs, seed, bias_shift", CASES)
def test_trains_like_keras(input_shape, specs, loss, batch_size,
                           learning_rate, n_samples, n_outputs, seed,
                           bias_shift):
    x = random_inputs(n_samples, input_shape, seed=seed)
    y = teacher_labels(x, n_outputs, loss, seed=seed)
    assert_trains_like_keras(input_shape, specs, x, y, loss, batch_size,
                             learning_rate, seed=seed, bias_shift=bias_shift)


@pytest.mark.unit
def test_relu_maxpool_ties_are_really_there():
    """The tie case above is only a test if windows do tie at zero."""
    import keras
    specs = [layer(C2, 3, 3, activation="relu"), layer("MaxPooling2D", 2)]
    reference = keras_model((8, 8, 1), specs, bias_shift=-0.6)
    x = random_inputs(20, (8, 8, 1), seed=0)
    conv = keras.Sequential([keras.Input((8, 8, 1)), reference.layers[0]])
    out = conv.predict(x, verbose=0)[:, :6, :6]
    windows = out.reshape(20, 3, 2, 3, 2, 3).transpose(0, 1, 3, 5, 2, 4)
    windows = windows.reshape(-1, 4)
    tied_at_zero = numpy.mean((windows == 0).sum(1) >= 2)
    assert tied_at_zero > 0.2
    assert numpy.mean(windows.max(1) > 0) > 0.3


def test_maxpool_ties_between_equal_positive_values():
    """Each 2x2 block of the input is one value, so a 1x1 convolution
    gives four equal values to each pooling window: exactly one of them
    (the first, as TensorFlow) may take the gradient, not all four."""
    rng = numpy.random.default_rng(11)
    small = rng.uniform(0.2, 1.0, size=(20, 4, 4, 2)).astype(numpy.float32)
    x = numpy.repeat(numpy.repeat(small, 2, axis=1), 2, axis=2)
    specs = [layer(C2, 3, 1, activation="relu"),
             layer("MaxPooling2D", 2)] + head(SCCE)
    y = teacher_labels(x, 3, SCCE, seed=11)
    assert_trains_like_keras((8, 8, 2), specs, x, y, SCCE, 7, 0.3,
                             bias_shift=0.5)


def test_maxpool_ties_go_to_the_first_in_the_window():
    """Channel 0 of the input is constant on 2x2 blocks, channel 1 is not,
    and the 1x1 kernel starts at 0 on channel 1: the first forward pass
    ties every pooling window, and the kernel's channel-1 gradient
    depends on which position of the window takes it.  TensorFlow gives
    it to the first in row-major order."""
    rng = numpy.random.default_rng(12)
    small = rng.uniform(0.2, 1.0, size=(12, 4, 4, 1))
    blocks = numpy.repeat(numpy.repeat(small, 2, axis=1), 2, axis=2)
    noise = rng.normal(size=(12, 8, 8, 1))
    x = numpy.concatenate([blocks, noise], axis=3).astype(numpy.float32)
    specs = [layer(C2, 2, 1, activation="relu"),
             layer("MaxPooling2D", 2)] + head(SCCE)
    y = teacher_labels(x, 3, SCCE, seed=12)

    def tie(weights):
        weights[0][:, :, 0, :] = numpy.abs(weights[0][:, :, 0, :]) + 0.5
        weights[0][:, :, 1, :] = 0.0
        weights[1][:] = 0.1
        return weights

    # Batch 12: one update from the tied state per epoch.
    assert_trains_like_keras((8, 8, 2), specs, x, y, SCCE, 12, 0.3,
                             adjust_weights=tie)


@pytest.mark.parametrize("input_shape, specs", [
    pytest.param((7, 7, 2), [layer(C2, 3, 3, activation="relu")],
                 id="conv2d"),
    pytest.param((9, 9, 1), [layer(C2, 2, 5, strides=2, padding="same",
                                   activation="sigmoid")],
                 id="conv2d-same-s2"),
    pytest.param((8, 8, 2), [layer(C2, 2, 3, activation="tanh"),
                             layer("MaxPooling2D", 3, strides=2,
                                   padding="same")], id="maxpool2d"),
    pytest.param((7, 7, 1), [layer(C2, 2, 1, activation="linear"),
                             layer("AveragePooling2D", 2, strides=1)],
                 id="avgpool2d"),
    pytest.param((5, 5, 1), [layer("ZeroPadding2D", ((1, 0), (0, 2))),
                             layer(C2, 2, 1, activation="tanh")],
                 id="zeropad"),
    pytest.param((11, 2), [layer(C1, 3, 3, strides=2, activation="tanh"),
                           layer("MaxPooling1D", 2)], id="conv1d-maxpool"),
    pytest.param((6, 6, 2), [layer(C2, 4, 3, activation="softmax",
                                   neurons_per_core=8)],
                 id="conv2d-softmax-output"),
    pytest.param((11, 2), [layer(C1, 3, 3, activation="relu",
                                 neurons_per_core=3),
                           layer("AveragePooling1D", 3, strides=2,
                                 padding="same")], id="conv1d-avgpool"),
])
def test_predict_ends_in_a_spatial_layer(input_shape, specs):
    """predict's output keeps the last layer's shape (n, *output_shape)."""
    reference = keras_model(input_shape, specs)
    model = spidnn_model(input_shape, specs, reference.get_weights())
    x = random_inputs(12, input_shape, seed=4)
    assert_predicts_like_keras(model, reference, x)


def test_flat_inputs_are_accepted():
    """x may also be given as (n, prod(input_shape))."""
    specs = [layer(C2, 2, 3, activation="tanh"), layer("MaxPooling2D", 2)
             ] + head(SCCE)
    reference = keras_model((7, 7, 2), specs)
    model = spidnn_model((7, 7, 2), specs, reference.get_weights())
    x = random_inputs(10, (7, 7, 2), seed=6)
    expected = reference.predict(x, verbose=0)
    got = model.predict(x.reshape(10, -1))
    numpy.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


def neurons_per_core_predictions(neurons_per_core):
    x = random_inputs(10, (7, 7, 2), seed=8)
    specs = [layer(C2, 4, 3, activation="tanh",
                   neurons_per_core=neurons_per_core),
             layer("MaxPooling2D", 2, neurons_per_core=neurons_per_core)
             ] + head(SCCE)
    reference = keras_model((7, 7, 2), specs)
    model = spidnn_model((7, 7, 2), specs, reference.get_weights())
    return model.predict(x)


@pytest.mark.parametrize("neurons_per_core", [4, 8, 20, 36])
def test_neurons_per_core_does_not_change_predictions(neurons_per_core):
    """Every legal slicing gives bit-identical outputs."""
    numpy.testing.assert_array_equal(
        neurons_per_core_predictions(neurons_per_core),
        neurons_per_core_predictions(None))


def test_compile_then_fit_matches_keras_fit():
    """Keras' own fit as the oracle: compile, fit (batch default 32),
    history and weights."""
    import keras
    import spiDNN
    specs = [layer(C2, 4, 3, activation="relu"), layer("MaxPooling2D", 2),
             layer("Conv2D", 3, 2, activation="tanh")] + head(SCCE, 4)
    x = random_inputs(70, (8, 8, 1), seed=9)
    y = teacher_labels(x, 4, SCCE, seed=9)
    reference = keras_model((8, 8, 1), specs, seed=9)
    model = spidnn_model((8, 8, 1), specs, reference.get_weights())
    model.compile(optimizer=spiDNN.optimizers.SGD(0.3),
                  loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=2, shuffle=False, verbose=0)
    reference.compile(optimizer=keras.optimizers.SGD(0.3),
                      loss="sparse_categorical_crossentropy")
    keras_history = reference.fit(x, y, epochs=2, shuffle=False, verbose=0)
    numpy.testing.assert_allclose(history.history["loss"],
                                  keras_history.history["loss"],
                                  rtol=0, atol=1e-4)
    for ours, theirs in zip(model.get_weights(), reference.get_weights()):
        numpy.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-4)
    x_test = random_inputs(15, (8, 8, 1), seed=10)
    numpy.testing.assert_allclose(model.predict(x_test),
                                  reference.predict(x_test, verbose=0),
                                  rtol=0, atol=1e-5)


@pytest.mark.parametrize("make_input", [
    lambda Input: Input(7, 7, 2),
    lambda Input: Input((7, 7, 2)),
    lambda Input: Input(shape=(7, 7, 2)),
], ids=["args", "tuple", "shape"])
def test_input_shape_spellings(make_input):
    import spiDNN
    from spiDNN.layers import Input
    specs = [layer(C2, 2, 3, activation="relu")] + head(SCCE)
    reference = keras_model((7, 7, 2), specs)
    model = spiDNN.Model(seed=0)
    model.add(make_input(Input))
    for spec in specs:
        model.add(spec.spidnn_layer())
    model.set_weights(reference.get_weights())
    x = random_inputs(5, (7, 7, 2), seed=3)
    assert_predicts_like_keras(model, reference, x)


@pytest.mark.unit
@pytest.mark.parametrize("name, base", [
    ("Conv1D", "conv1d"), ("Conv2D", "conv2d"),
    ("MaxPooling1D", "max_pooling1d"), ("MaxPooling2D", "max_pooling2d"),
    ("AveragePooling1D", "average_pooling1d"),
    ("AveragePooling2D", "average_pooling2d"),
    ("GlobalMaxPooling1D", "global_max_pooling1d"),
    ("GlobalMaxPooling2D", "global_max_pooling2d"),
    ("GlobalAveragePooling1D", "global_average_pooling1d"),
    ("GlobalAveragePooling2D", "global_average_pooling2d"),
    ("ZeroPadding2D", "zero_padding2d"), ("Flatten", "flatten"),
    ("Reshape", "reshape"), ("Dropout", "dropout")])
def test_default_names_are_keras_names(name, base):
    """Keras' names: base, base_1, base_2, ... (unique)."""
    import re
    import spiDNN
    args = {"Conv1D": (2, 3), "Conv2D": (2, 3), "ZeroPadding2D": (1,),
            "Dropout": (0.5,), "Reshape": ((-1,),)}.get(name, ())
    names = [getattr(spiDNN.layers, name)(*args).name for _ in range(3)]
    assert len(set(names)) == 3
    for each in names:
        assert re.fullmatch(re.escape(base) + r"(_\d+)?", each), each


def _softmax_conv_run(neurons_per_core):
    """A conv with Keras' softmax over its channels, sliced
    ``neurons_per_core``, trained with Adam (dropout after it): the
    predictions before and after, the weights and the losses, as bytes."""
    import spiDNN
    from spiDNN.layers import Conv2D, Dense, Dropout, Flatten, Input
    x = random_inputs(12, (6, 6, 2), seed=13)
    y = teacher_labels(x, 3, SCCE, seed=13)
    model = spiDNN.Model(seed=3, layers=[
        Input(6, 6, 2),
        Conv2D(5, 3, activation="softmax",
               neurons_per_core=neurons_per_core),
        Dropout(0.2, seed=4), Flatten(), Dense(3, "softmax")])
    before = model.predict(x)
    model.compile(spiDNN.optimizers.Adam(0.05),
                  "sparse_categorical_crossentropy")
    history = model.fit(x, y, batch_size=5, epochs=2, verbose=0,
                        shuffle=False)
    return [before.tobytes(), model.predict(x).tobytes(),
            numpy.float32(history.history["loss"]).tobytes()] + [
        w.tobytes() for w in model.get_weights()]


def test_softmax_over_channels_gives_the_same_bits_on_every_slicing():
    """A core computes the softmax of each of its positions alone: one
    position a core, several, and the whole layer give the same bits,
    trained with Adam and a Dropout after the softmax."""
    whole = _softmax_conv_run(80)
    assert _softmax_conv_run(5) == whole
    assert _softmax_conv_run(15) == whole
