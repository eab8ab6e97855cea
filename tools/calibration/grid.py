"""The models the calibration runs: small, but together they reach every
cost point of every app over a spread of sizes — Dense layers of 3 to
64 inputs and 1 to 8 neurons per core, every activation, loss and
optimizer, with and without the accuracy metric, predict, fit (with
validation, which evaluates) and the weights fetched back; convolution
(after input, padding, pooling or another convolution), max and average
pooling, zero padding and dropout; shared Dense and Conv2D layers.

``FIT`` are the models the table is fitted on; ``HELD_OUT`` are others,
of other shapes, that only check the table's predictions.  Each case
builds, compiles and runs one model; the calibration captures every
machine it builds.
"""
import collections

# Keras' IoU metrics exist only as keras.metrics objects (the test
# extras bring Keras).
import keras
import numpy

import spiDNN
from spiDNN import optimizers
from spiDNN.abi import layouts
from spiDNN.layers import (
    Activation, Add, Average, AveragePooling2D, Concatenate, Conv2D, Dense,
    Dropout, Flatten, GlobalAveragePooling2D, GlobalMaxPooling2D, Input,
    Maximum, MaxPooling2D, Minimum, Multiply, Permute, PReLU, Rescaling,
    RepeatVector, Softmax, Subtract, UpSampling2D, ZeroPadding2D)

N_SAMPLES = 6
BATCH_SIZE = 3

#: Every variant of every registered optimizer (spiDNN/optimizers/),
#: each a cost point update_<variant>, with the settings it is measured
#: with: a case names its optimizer's variant.
OPTIMIZERS = optimizers.calibration_optimizers()

MSE, CCE = "mean_squared_error", "categorical_crossentropy"
SCCE, BCE = "sparse_categorical_crossentropy", "binary_crossentropy"

#: A model to run: its optimizer's variant (the update_<variant> cost
#: point it reaches) and a function that runs it.
Case = collections.namedtuple("Case", "optimizer run")


#: The labels each of the other losses is measured with (their maths
#: takes other branches for others: clipped, converted, tied).
_OTHER_LABELS = {"kl_divergence": "distribution", "poisson": "counts",
                 "mean_squared_logarithmic_error": "counts",
                 "hinge": "binary", "squared_hinge": "binary",
                 "categorical_hinge": "onehot"}


def _labels(loss, n_outputs, rng):
    classes = rng.integers(0, n_outputs, N_SAMPLES)
    kind = _OTHER_LABELS.get(loss)
    if kind == "distribution":
        y = rng.random((N_SAMPLES, n_outputs)).astype(numpy.float32)
        return y / y.sum(axis=1, keepdims=True)
    if kind == "counts":
        return rng.integers(0, 4, (N_SAMPLES, n_outputs)).astype(
            numpy.float32)
    if kind == "onehot":
        loss = CCE
    elif kind is None and loss not in (CCE, SCCE, BCE):
        loss = MSE
    if loss == MSE:
        return rng.normal(size=(N_SAMPLES, n_outputs)).astype(numpy.float32)
    if loss == CCE:
        return numpy.eye(n_outputs, dtype=numpy.float32)[classes]
    if loss == SCCE:
        return classes
    return rng.integers(0, 2, (N_SAMPLES, n_outputs)).astype(numpy.float32)


def _run(input_shape, layers, loss, optimizer, metrics=(), predict=True,
         validation=False, batch_size=BATCH_SIZE, seed=0, graph=False,
         clipping=None, weighted_metrics=()):
    if graph:
        x = Input(*input_shape)
        model = spiDNN.Model(x, layers(x), seed=seed)
    else:
        model = spiDNN.Model(seed=seed)
        model.add(Input(*input_shape))
        for layer in layers():
            model.add(layer)
    trainer = OPTIMIZERS[optimizer]()
    for setting, value in (clipping or {}).items():
        setattr(trainer, setting, value)    # Keras' clipnorm, ...
    model.compile(optimizer=trainer, loss=loss,
                  metrics=list(metrics) or None,
                  weighted_metrics=list(weighted_metrics) or None)
    rng = numpy.random.default_rng(seed)
    x = rng.normal(size=(N_SAMPLES, *input_shape)).astype(numpy.float32)
    y = _labels(loss, model.layers[-1].units, rng)
    if predict:
        model.predict(x)
    model.fit(x, y, epochs=1, batch_size=batch_size, shuffle=False,
              verbose=0, validation_data=(x[:2], y[:2]) if validation
              else None)


def model(input_shape, layers, loss, optimizer, **kwargs):
    """A case: ``layers`` is a function returning fresh layers."""
    return Case(optimizer, lambda: _run(input_shape, layers, loss,
                                        optimizer, **kwargs))


def _shared_dense(x):
    shared = Dense(3, activation="tanh", neurons_per_core=2)
    return Dense(2, activation="softmax")(Add()([
        shared(Dense(4, activation="relu", neurons_per_core=3)(x)),
        shared(Dense(4, activation="sigmoid")(x))]))


def _shared_conv(x):
    shared = Conv2D(2, 3, padding="same", activation="relu",
                    neurons_per_core=6)
    return Dense(3, activation="softmax")(Flatten()(Add()([
        shared(x), shared(Conv2D(1, 1, activation="tanh")(x))])))


def graph(input_shape, build, loss, optimizer, **kwargs):
    """A case built with the functional API: ``build(x)`` returns the
    output of fresh layers called from the Input ``x``."""
    return model(input_shape, build, loss, optimizer, graph=True, **kwargs)


def _merged(op, per_core, n=3, units=6):
    """x -> n Dense branches (one feeding the next too) merged by ``op``,
    then a Dense: the merge's every cost point and a fan-out's sum."""
    def build(x):
        first = Dense(units, activation="relu", neurons_per_core=2)(x)
        branches = [first] + [
            Dense(units, activation="tanh", neurons_per_core=3)(first)
            for _ in range(n - 1)]
        merged = op(neurons_per_core=per_core)(branches)
        return Dense(3, activation="softmax")(merged)
    return build


def _scaled_activated(x):
    """Rescaling, a standalone tanh and a standalone softmax output."""
    scaled = Rescaling(0.5, 0.25, neurons_per_core=3)(x)
    hidden = Activation("tanh", neurons_per_core=3)(
        Dense(6, neurons_per_core=2)(scaled))
    return Softmax(neurons_per_core=2)(Dense(4)(hidden))


def _dense(units, activation, per_core):
    """A Dense of ``activation``: a name, or (name, its settings)."""
    name, settings = (activation if isinstance(activation, tuple)
                      else (activation, {}))
    layer = Dense(units, neurons_per_core=per_core)
    layer.set_activation(name, settings)
    return layer


def mlp(n_in, spec, per_core, loss, optimizer, **kwargs):
    """Dense layers [(units, activation)], ``per_core`` neurons a core."""
    return model((n_in,), lambda: [
        _dense(units, activation, per_core) for units, activation in spec],
        loss, optimizer, **kwargs)


FIT = {
    # Dense: inputs 3 to 64, 1 to 8 neurons a core.
    "mlp-3-relu-softmax-k1": mlp(3, [(4, "relu"), (3, "softmax")], 1, CCE,
                                 "sgd", metrics=["accuracy"]),
    "mlp-10-tanh-linear-k2": mlp(10, [(4, "tanh"), (2, "linear")], 2, MSE,
                                 "sgd_momentum"),
    "mlp-30-sigmoid-k4": mlp(30, [(8, "sigmoid"), (2, "sigmoid")], 4, BCE,
                             "adam", metrics=["accuracy"]),
    "mlp-30-relu-softmax-k8": mlp(30, [(8, "relu"), (4, "softmax")], 8,
                                  SCCE, "rmsprop", metrics=["accuracy"],
                                  validation=True),
    "mlp-64-linear-tanh-k8": mlp(64, [(8, "linear"), (3, "tanh")], 8, MSE,
                                 "sgd_nesterov", batch_size=4),
    "mlp-10-three-layers-k2": mlp(10, [(6, "relu"), (4, "sigmoid"),
                                       (3, "softmax")], 2, CCE,
                                  "rmsprop_momentum", batch_size=2),
    "mlp-3-softmax-hidden-k1": mlp(3, [(3, "softmax"), (2, "linear")], 1,
                                   MSE, "adam"),
    "mlp-30-tanh-softmax-k4": mlp(30, [(12, "tanh"), (5, "softmax")], 4,
                                  SCCE, "sgd", batch_size=4),
    "mlp-64-relu-k8-adam": mlp(64, [(16, "relu"), (4, "softmax")], 8, SCCE,
                               "adam", metrics=["accuracy"]),
    "mlp-3-sigmoid-k4-rmsprop": mlp(3, [(8, "sigmoid"), (1, "sigmoid")], 4,
                                    BCE, "rmsprop"),
    "mlp-10-wide-k8": mlp(10, [(16, "tanh"), (8, "relu"), (3, "softmax")],
                          8, CCE, "sgd_momentum", metrics=["accuracy"]),
    "mlp-30-linear-sgd-k1": mlp(30, [(4, "linear"), (2, "tanh")], 1, MSE,
                                "sgd", validation=True),
    "mlp-10-softmax-k2-momentum": mlp(10, [(6, "softmax"), (3, "softmax")],
                                      2, CCE, "sgd_momentum"),
    # The metrics beyond accuracy (metrics.h): the regression means, the
    # top-k ranks and the confusion counts of a softmax the loss core
    # takes as logits, and of sigmoids at a threshold.
    "mlp-metrics-regression": mlp(6, [(4, "tanh"), (3, "linear")], 2, MSE,
                                  "adam", metrics=[
                                      "mse", "mae", "mape",
                                      "root_mean_squared_error"]),
    "mlp-metrics-softmax": mlp(6, [(4, "relu"), (5, "softmax")], 2, CCE,
                               "sgd", metrics=[
                                   "top_k_categorical_accuracy", "mse",
                                   "precision", "recall"]),
    "mlp-metrics-sparse-top-k": mlp(6, [(5, "softmax")], 3, SCCE, "sgd",
                                    metrics=[
                                        "sparse_top_k_categorical_accuracy"]),
    # (A second size of each, for the metric points' slopes.)
    "mlp-metrics-regression-2": mlp(5, [(2, "linear")], 1, MSE, "sgd",
                                    metrics=["mae", "mape"]),
    "mlp-metrics-top-k-3": mlp(5, [(3, "softmax")], 2, CCE, "sgd",
                               metrics=["top_k_categorical_accuracy",
                                        "true_negatives"]),
    "mlp-metrics-sparse-top-k-2": mlp(5, [(2, "softmax")], 1, SCCE, "sgd",
                                      metrics=[
                                          "sparse_top_k_categorical_accuracy"]),
    "mlp-metrics-confusion": mlp(6, [(3, "sigmoid")], 2, BCE, "adam",
                                 metrics=["true_positives",
                                          "false_positives",
                                          "true_negatives",
                                          "false_negatives"]),
    # Keras' AUC of one output: its bucket and label.
    "mlp-metrics-auc": mlp(4, [(3, "tanh"), (1, "sigmoid")], 2, BCE, "sgd",
                           metrics=["auc", keras.metrics.PrecisionAtRecall(
                               0.5)]),
    # The IoU metrics' classes: sparse and one-hot labels, BinaryIoU's.
    "mlp-metrics-iou": mlp(4, [(3, "softmax")], 2, SCCE, "sgd", metrics=[
        keras.metrics.MeanIoU(3, sparse_y_pred=False)]),
    "mlp-metrics-iou-one-hot": mlp(5, [(4, "softmax")], 1, CCE, "sgd",
                                   metrics=[keras.metrics.OneHotMeanIoU(4)]),
    "mlp-metrics-binary-iou": mlp(4, [(1, "sigmoid")], 2, BCE, "sgd",
                                  metrics=[keras.metrics.BinaryIoU()]),
    # Keras' losses as metrics, of probabilities and of z.
    "mlp-metrics-losses": mlp(5, [(4, "softmax")], 2, MSE, "sgd", metrics=[
        "categorical_crossentropy", "kl_divergence", "poisson",
        "categorical_hinge", "logcosh", "msle"]),
    "mlp-metrics-losses-logits": mlp(4, [(3, "softmax")], 1, CCE, "sgd",
                                     metrics=["binary_crossentropy",
                                              "kl_divergence"]),
    "mlp-metrics-sparse-entropy": mlp(4, [(3, "softmax")], 2, SCCE, "sgd",
                                      metrics=[
                                          "sparse_categorical_crossentropy"]),
    # Keras' correlations and cosine similarity of a sample's outputs.
    "mlp-metrics-correlation": mlp(5, [(4, "linear")], 2, MSE, "sgd",
                                   metrics=[
                                       keras.metrics.PearsonCorrelation(),
                                       keras.metrics.ConcordanceCorrelation(),
                                       "cosine_similarity"]),
    # Keras' hinge metrics (0/1 labels turned into -1/1, and not).
    "mlp-metrics-hinge": mlp(5, [(3, "tanh")], 2, BCE, "sgd",
                             metrics=["hinge", "squared_hinge"]),
    "mlp-metrics-hinge-2": mlp(4, [(2, "tanh")], 1, MSE, "sgd",
                               metrics=["hinge", "squared_hinge"]),
    # compile's weighted_metrics: each sample's weight beside the values.
    "mlp-weighted-metrics": mlp(5, [(3, "softmax")], 2, CCE, "sgd",
                                metrics=["accuracy"],
                                weighted_metrics=["accuracy", "mse"]),
    # Keras' R2Score of one output: the squared residual, the label.
    "mlp-metrics-r2": mlp(5, [(3, "tanh"), (1, "linear")], 2, MSE, "sgd",
                          metrics=[keras.metrics.R2Score()]),
    # Keras' F-scores: the predicted and label masks.
    "mlp-metrics-fbeta": mlp(5, [(4, "softmax")], 2, CCE, "sgd",
                             metrics=[keras.metrics.F1Score()]),
    "mlp-metrics-fbeta-3": mlp(4, [(3, "sigmoid")], 1, BCE, "sgd",
                               metrics=[keras.metrics.F1Score(
                                   threshold=0.5)]),
    "mlp-metrics-correlation-2": mlp(4, [(2, "tanh")], 1, MSE, "sgd",
                                     metrics=[
                                         keras.metrics.PearsonCorrelation(),
                                         keras.metrics.ConcordanceCorrelation(),
                                         "cosine_similarity"]),
    "mlp-dropout": model((10,), lambda: [
        Dense(6, activation="relu", neurons_per_core=3),
        Dropout(0.3, seed=1), Dense(2, activation="sigmoid")], BCE,
        "sgd_momentum"),
    # Convolution, pooling and padding, in every position.
    "conv-relu-flatten": model((6, 6, 2), lambda: [
        Conv2D(3, 3, activation="relu", neurons_per_core=6), Flatten(),
        Dense(3, activation="softmax")], SCCE, "sgd", metrics=["accuracy"]),
    "conv-tanh-maxpool": model((7, 7, 1), lambda: [
        Conv2D(2, 3, activation="tanh", neurons_per_core=10),
        MaxPooling2D(2), Flatten(), Dense(2, activation="sigmoid")], BCE,
        "adam"),
    "avgpool-conv-sigmoid": model((8, 8, 2), lambda: [
        AveragePooling2D(2, neurons_per_core=8),
        Conv2D(2, 3, activation="sigmoid", neurons_per_core=2), Flatten(),
        Dense(3, activation="linear")], MSE, "rmsprop"),
    "pad-conv-relu": model((5, 5, 1), lambda: [
        ZeroPadding2D(1, neurons_per_core=6),
        Conv2D(3, 3, strides=2, activation="relu"), Flatten(),
        Dense(2, activation="softmax")], CCE, "sgd_momentum",
        metrics=["accuracy"]),
    "conv-conv": model((6, 6, 1), lambda: [
        Conv2D(4, 3, activation="linear", neurons_per_core=4),
        Conv2D(2, 3, activation="relu", neurons_per_core=2), Flatten(),
        Dense(2, activation="linear")], MSE, "adam"),
    "conv-k5-s2-sigmoid": model((9, 9, 1), lambda: [
        Conv2D(2, 5, strides=2, activation="sigmoid", neurons_per_core=2),
        Flatten(), Dense(2, activation="softmax")], SCCE,
        "rmsprop_momentum"),
    "conv-1x1-maxpool": model((8, 8, 3), lambda: [
        Conv2D(6, 1, activation="tanh", neurons_per_core=12),
        MaxPooling2D(2, neurons_per_core=6), Flatten(),
        Dense(3, activation="softmax")], CCE, "sgd"),
    "conv-avgpool-nesterov": model((10, 10, 1), lambda: [
        Conv2D(3, 3, activation="relu", neurons_per_core=24),
        AveragePooling2D(2, neurons_per_core=12), Flatten(),
        Dense(4, activation="softmax")], SCCE, "sgd_nesterov",
        metrics=["accuracy"]),
    "maxpool-conv-tanh": model((6, 6, 2), lambda: [
        MaxPooling2D(2, neurons_per_core=4),
        Conv2D(3, 2, activation="tanh", neurons_per_core=3), Flatten(),
        Dense(2, activation="sigmoid")], BCE, "adam"),
    "conv-maxpool-rmsprop": model((6, 6, 1), lambda: [
        Conv2D(2, 3, activation="relu"), MaxPooling2D(2), Flatten(),
        Dense(2, activation="softmax")], CCE, "rmsprop_momentum"),
    "conv-pool-conv": model((8, 8, 1), lambda: [
        Conv2D(2, 3, activation="relu", neurons_per_core=6),
        MaxPooling2D(2, neurons_per_core=6),
        Conv2D(3, 2, activation="tanh", neurons_per_core=3), Flatten(),
        Dense(2, activation="softmax")], SCCE, "sgd"),
    "conv-avgpool3-conv1x1": model((9, 9, 1), lambda: [
        Conv2D(2, 3, activation="linear", neurons_per_core=14),
        AveragePooling2D(3, strides=2),
        Conv2D(4, 1, activation="relu", neurons_per_core=4), Flatten(),
        Dense(3, activation="linear")], MSE, "rmsprop"),
    "pad2-conv5-maxpool3": model((5, 5, 2), lambda: [
        ZeroPadding2D(2, neurons_per_core=18),
        Conv2D(3, 5, activation="sigmoid", neurons_per_core=9),
        MaxPooling2D(3, neurons_per_core=3), Flatten(),
        Dense(2, activation="sigmoid")], BCE, "adam"),
    "pad-conv-linear": model((4, 4, 2), lambda: [
        ZeroPadding2D(1, neurons_per_core=16),
        Conv2D(2, 3, activation="linear", neurons_per_core=8), Flatten(),
        Dense(3, activation="linear")], MSE, "sgd"),
    # Global pooling: one window over the whole input.
    "conv-global-max": model((6, 6, 1), lambda: [
        Conv2D(3, 3, activation="relu", neurons_per_core=6),
        GlobalMaxPooling2D(), Dense(3, activation="softmax")], SCCE, "sgd"),
    "conv-global-average": model((5, 5, 2), lambda: [
        Conv2D(2, 2, activation="tanh", neurons_per_core=8),
        GlobalAveragePooling2D(), Dense(2, activation="sigmoid")], BCE,
        "adam"),
    "conv-upsample": model((4, 4, 1), lambda: [
        Conv2D(2, 2, activation="relu", neurons_per_core=4),
        UpSampling2D((2, 3), neurons_per_core=6), Flatten(),
        Dense(2, activation="softmax")], CCE, "sgd"),
    # Keras' softmax over a convolution's channels, each core's
    # positions alone.
    "conv-softmax-channels": model((5, 5, 2), lambda: [
        Conv2D(3, 2, activation="softmax", neurons_per_core=6), Flatten(),
        Dense(2, activation="linear")], MSE, "adam"),
    "conv-permute": model((3, 4, 2), lambda: [
        Conv2D(3, 2, activation="tanh", neurons_per_core=3),
        Permute((3, 1, 2), neurons_per_core=6), Flatten(),
        Dense(2, activation="softmax")], CCE, "sgd"),
    "dense-repeat": model((5,), lambda: [
        Dense(3, activation="tanh", neurons_per_core=2),
        RepeatVector(4, neurons_per_core=3), Flatten(),
        Dense(2, activation="linear")], MSE, "sgd_momentum"),
    # Merges (each op, 2 or 3 sources, 1 to 6 elements a core), fan-out
    # to Dense and merge consumers, a standalone activation and softmax.
    "merge-add-k2": graph((5,), _merged(Add, 2), CCE, "sgd"),
    "merge-add2-k6": graph((8,), _merged(Add, 6, n=2), SCCE, "adam"),
    "merge-subtract-k3": graph((4,), _merged(Subtract, 3, n=2), CCE,
                               "sgd_momentum"),
    "merge-multiply-k1": graph((6,), _merged(Multiply, 1), CCE, "sgd"),
    "merge-average-k3": graph((5,), _merged(Average, 3, units=9), SCCE,
                              "rmsprop"),
    "merge-maximum-k2": graph((7,), _merged(Maximum, 2), CCE, "sgd"),
    "merge-minimum-k6": graph((4,), _merged(Minimum, 6, n=2), CCE, "adam"),
    "merge-concatenate": graph((5,), lambda x: Dense(2, activation="softmax")(
        Concatenate()([
            Dense(4, activation="relu", neurons_per_core=2)(x),
            Dense(3, activation="tanh")(x)])), CCE, "sgd"),
    "merge-concatenate-conv": graph((6, 6, 1), lambda x: Dense(
        2, activation="softmax")(Flatten()(Concatenate(neurons_per_core=10)([
            Conv2D(2, 3, activation="relu", neurons_per_core=4)(x),
            Conv2D(3, 3, activation="linear", neurons_per_core=6)(x)]))),
        SCCE, "sgd"),
    "merge-scale-activation": graph((6,), _scaled_activated, CCE, "sgd"),
    # PReLU: an alpha per element (1 and 4 a core), and alphas shared
    # over a convolution's positions (the chain).
    "prelu-dense-k1": model((5,), lambda: [
        Dense(4, neurons_per_core=2), PReLU(0.25, neurons_per_core=1),
        Dense(3, activation="softmax")], CCE, "sgd"),
    "prelu-dense-k4": model((6,), lambda: [
        Dense(8, neurons_per_core=3), PReLU(-0.1, neurons_per_core=4),
        Dense(2, activation="linear")], MSE, "adam"),
    "prelu-conv-shared": model((5, 5, 1), lambda: [
        Conv2D(3, 3, neurons_per_core=6),
        PReLU(0.2, shared_axes=[1, 2], neurons_per_core=6), Flatten(),
        Dense(2, activation="softmax")], SCCE, "sgd_momentum"),
    # Shared layers: a Dense applied to two branches (its chain over the
    # uses, 2 slices; the branches take its rows' totals) and a Conv2D
    # applied twice (one chain over both uses' cores).
    "shared-dense": graph((5,), _shared_dense, CCE, "adam"),
    "shared-conv": graph((5, 5, 1), _shared_conv, SCCE, "sgd_momentum"),
    # Clipping by a norm (clip_norm.h): each app's owned squares, the
    # words it gathers and the gradients it scales (a pooling core's of
    # the Dense rows it copies).
    "clipnorm-mlp": mlp(5, [(4, "tanh"), (3, "softmax")], 2, CCE, "sgd",
                        clipping={"clipnorm": 0.1}),
    "clipnorm-conv-prelu": model((5, 5, 1), lambda: [
        Conv2D(2, 3, neurons_per_core=4), PReLU(0.2, neurons_per_core=6),
        MaxPooling2D(2), Flatten(), Dense(2, activation="softmax")], SCCE,
        "sgd_momentum", clipping={"clipnorm": 0.1}),
    "global-clipnorm-shared-prelu": model((6, 6, 1), lambda: [
        Conv2D(2, 3, activation="relu", neurons_per_core=8),
        PReLU(0.2, shared_axes=[1, 2], neurons_per_core=8), Flatten(),
        Dense(3, activation="tanh", neurons_per_core=2),
        Dense(2, activation="softmax")], SCCE, "adam",
        clipping={"global_clipnorm": 0.1}),
}

def variant_cases(variant):
    """Cases that measure an optimizer's variant that no case above
    names: Dense cores of a few sizes, a convolution and a pooling core
    before Dense (which updates its copy of the next kernel)."""
    return {
        f"{variant}-mlp-10-k2": mlp(10, [(6, "relu"), (3, "softmax")], 2,
                                    CCE, variant),
        f"{variant}-mlp-30-k4": mlp(30, [(8, "tanh"), (2, "sigmoid")], 4,
                                    BCE, variant, batch_size=2),
        f"{variant}-conv-maxpool": model((6, 6, 1), lambda: [
            Conv2D(2, 3, activation="relu", neurons_per_core=4),
            MaxPooling2D(2), Flatten(), Dense(2, activation="softmax")],
            SCCE, variant),
    }


def _every_variant(cases):
    """``cases`` and variant_cases of each variant none of them names:
    a new optimizer is measured without an edit here."""
    named = {case.optimizer for case in cases.values()}
    unknown = named - set(OPTIMIZERS)
    assert not unknown, f"cases name no registered variant: {unknown}"
    for variant in OPTIMIZERS:
        if variant not in named:
            cases.update(variant_cases(variant))
    return cases


#: The activations the cases above compute; activation_cases measures
#: the others.
NAMED_ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "softmax")


#: The ids only settings reach (activation_settings.SETTINGS_IDS), each
#: at settings taking every branch of its code over the inputs.
SETTINGS_EXAMPLES = {
    "relu_parametric": ("relu", {"max_value": 1.5, "negative_slope": 0.2,
                                 "threshold": -0.5}),
    "elu_alpha": ("elu", {"alpha": 0.5}),
}


def activation_cases():
    """A Dense case for each activation the cases above do not name, its
    cores of 3 and 2 neurons (two sizes for the line) over inputs of both
    signs: a new activation is measured without an edit here."""
    cases = {}
    for name in layouts.ACTIVATIONS:
        if name not in NAMED_ACTIVATIONS:
            activation = SETTINGS_EXAMPLES.get(name, name)
            cases[f"mlp-10-{name}-k3"] = mlp(
                10, [(5, activation), (2, activation)], 3, MSE, "sgd")
    return cases


def loss_cases():
    """A Dense case for each loss the cases above do not name, its loss
    core of 2 and of 4 outputs (two sizes for the line): a new loss is
    measured without an edit here."""
    named = (MSE, CCE, SCCE, BCE)
    cases = {}
    for name in layouts.LOSSES:
        if name not in named:
            activation = ("softplus" if _OTHER_LABELS.get(name) == "counts"
                          else "linear")
            for units in (2, 4):
                cases[f"mlp-10-{name}-{units}"] = mlp(
                    10, [(5, "tanh"), (units, activation)], 3, name, "sgd")
    return cases


FIT = _every_variant({**FIT, **activation_cases(), **loss_cases()})

HELD_OUT = {
    "held-out-mlp-20": mlp(20, [(6, "relu"), (4, "softmax")], 3, CCE,
                           "adam", metrics=["accuracy"]),
    "held-out-mlp-12": mlp(12, [(5, "tanh"), (2, "sigmoid")], 5, BCE,
                           "sgd"),
    "held-out-conv-maxpool": model((7, 7, 2), lambda: [
        Conv2D(4, 3, activation="relu", neurons_per_core=8),
        MaxPooling2D(2, neurons_per_core=4), Flatten(),
        Dense(3, activation="softmax")], SCCE, "rmsprop"),
    "held-out-pad-conv-avgpool": model((6, 6, 1), lambda: [
        ZeroPadding2D(1), Conv2D(2, 3, activation="tanh",
                                 neurons_per_core=4),
        AveragePooling2D(2), Flatten(), Dense(2, activation="linear")],
        MSE, "sgd_momentum"),
    "held-out-merge-add": graph((6,), _merged(Add, 4, units=8), CCE,
                                "sgd_momentum"),
    "held-out-merge-concatenate": graph((4,), lambda x: Dense(3)(
        Concatenate()([
            Dense(5, activation="relu", neurons_per_core=1)(x),
            Dense(2, activation="relu")(x), x])), MSE, "adam"),
}
