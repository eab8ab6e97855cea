"""The loss core's maths (``c_code/common/losses.h``) against TensorFlow's
autodiff of Keras' own losses, in seconds.

Each loss of ``keras.losses`` spiDNN computes, with its settings
(``from_logits``, ``label_smoothing``, Huber's ``delta``), weighted by
sample weights and a loss weight as Keras folds them: the loss core's
per-sample values, summed over the batch and divided by its size, are
Keras' loss, and its gradients are ``tape.gradient`` of that loss with
respect to the outputs (or logits), each to 1e-6 of the largest.
``losses.h`` is compiled with the host's gcc through a small shim and
loaded with ctypes, its parameters packed by the one definition the
loss vertex packs them with (``spiDNN/abi/layouts.py``).
"""
import ctypes
import os
import shutil
import subprocess
import sys

import numpy
import pytest

from spiDNN import losses
from spiDNN.abi.layouts import LOSS_PARAMS
from spiDNN.training.outputs import OutputLoss

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMON = os.path.join(REPO, "c_code", "common")
LAYOUTS = os.path.join(REPO, "spiDNN", "abi", "layouts.py")

SHIM = r"""
#include "losses.h"
uint32_t shim_params_size(void) { return (uint32_t) sizeof(loss_params_t); }
float shim_loss(const loss_params_t *p, uint32_t n, const float *out,
                const float *y, uint32_t k, float scale, float *grad,
                float *smooth) {
    return loss_compute(p, n, out, y, k, scale, grad, smooth);
}
"""
_F = ctypes.POINTER(ctypes.c_float)
_U = ctypes.c_uint32

BATCH = 6
N = 5


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    gcc = shutil.which("gcc")
    assert gcc is not None, "the unit tier needs the host's gcc"
    build = tmp_path_factory.mktemp("losses")
    with open(build / "spidnn_layouts.h", "w") as header:
        subprocess.run([sys.executable, LAYOUTS], stdout=header, check=True)
    (build / "shim.c").write_text(SHIM)
    so = build / "libspidnn_losses.so"
    result = subprocess.run(
        [gcc, "-std=gnu11", "-O2", "-fPIC", "-shared", "-ffp-contract=off",
         "-Wall", "-Wextra", "-Werror", f"-I{COMMON}", f"-I{build}",
         str(build / "shim.c"), "-o", str(so)],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    loaded = ctypes.CDLL(str(so))
    loaded.shim_params_size.restype = _U
    loaded.shim_loss.restype = ctypes.c_float
    loaded.shim_loss.argtypes = [ctypes.c_void_p, _U, _F, _F, _U,
                                 ctypes.c_float, _F, _F]
    assert loaded.shim_params_size() == LOSS_PARAMS.n_bytes
    return loaded


def _ptr(array):
    assert array.dtype == numpy.float32 and array.flags.c_contiguous
    return array.ctypes.data_as(_F)


def machine(lib, loss, activation, outputs, labels, weights, loss_weight):
    """The loss core's (per-sample weighted losses, gradients) of a
    batch, as loss.c scales them."""
    output = OutputLoss(None, loss, outputs.shape[1], activation,
                        weight=loss_weight, weighted=weights is not None)
    fields = {name: 0 for name in LOSS_PARAMS.fields}
    fields.update(output.loss_fields())
    params = ctypes.create_string_buffer(LOSS_PARAMS.pack(**fields),
                                         LOSS_PARAMS.n_bytes)
    n = outputs.shape[1]
    values, grads = [], []
    for i in range(len(outputs)):
        out = numpy.ascontiguousarray(outputs[i], numpy.float32)
        y = numpy.ascontiguousarray(labels[i], numpy.float32)
        grad = numpy.zeros(n, numpy.float32)
        smooth = numpy.zeros(n, numpy.float32)
        weight = numpy.float32(1.0 if weights is None else weights[i])
        scale = (numpy.float32(1.0 if loss_weight is None else loss_weight)
                 / numpy.float32(len(outputs))) * weight
        k = int(labels[i][0]) if loss == "sparse_categorical_crossentropy" \
            else 0
        value = numpy.float32(lib.shim_loss(
            ctypes.cast(params, ctypes.c_void_p), n, _ptr(out), _ptr(y), k,
            float(scale), _ptr(grad), _ptr(smooth)))
        values.append(value * weight)
        grads.append(grad)
    return numpy.array(values, numpy.float32), numpy.array(grads)


def keras_oracle(kloss, activation, z, labels, weights, loss_weight):
    """Keras' batch loss and its gradient with respect to ``z``: the
    outputs, or the output layer's z before its softmax or sigmoid (as
    Keras' model outputs carry them)."""
    import keras
    import tensorflow as tf
    variable = tf.Variable(z)
    with tf.GradientTape() as tape:
        if activation == "linear":
            outputs = tf.identity(variable)
        else:
            layer = keras.layers.Activation(activation)
            outputs = layer(variable)
        value = kloss(tf.constant(labels), outputs,
                      None if weights is None else tf.constant(weights))
        if loss_weight is not None:
            value = value * loss_weight
    return float(value), tape.gradient(value, variable).numpy()


def _labels(kind, rng):
    if kind == "sparse":
        return rng.integers(0, N, size=(BATCH, 1)).astype(numpy.float32)
    if kind == "onehot":
        return numpy.eye(N, dtype=numpy.float32)[rng.integers(0, N, BATCH)]
    if kind == "binary":
        return rng.integers(0, 2, size=(BATCH, N)).astype(numpy.float32)
    if kind == "distribution":
        y = rng.random((BATCH, N)).astype(numpy.float32)
        return y / y.sum(axis=1, keepdims=True)
    if kind == "counts":
        return rng.integers(0, 4, size=(BATCH, N)).astype(numpy.float32)
    if kind == "signs":
        return rng.choice([-1.0, 1.0], size=(BATCH, N)).astype(numpy.float32)
    return rng.normal(size=(BATCH, N)).astype(numpy.float32)


def _outputs(kind, rng):
    if kind == "positive":
        return rng.uniform(0.05, 3.0, size=(BATCH, N)).astype(numpy.float32)
    if kind == "probabilities":
        p = rng.uniform(0.01, 1.0, size=(BATCH, N)).astype(numpy.float32)
        return p / p.sum(axis=1, keepdims=True)
    z = rng.normal(scale=2.0, size=(BATCH, N)).astype(numpy.float32)
    if kind == "ties":
        z[:, 1] = z[:, 3]          # a categorical hinge's tied maxima
    return z


#: (Keras loss, activation of the output layer, kind of outputs, labels)
CASES = {
    "mse": ("MeanSquaredError()", "linear", "normal", "normal"),
    "mae": ("MeanAbsoluteError()", "linear", "normal", "normal"),
    "mape": ("MeanAbsolutePercentageError()", "linear", "normal", "normal"),
    "msle": ("MeanSquaredLogarithmicError()", "linear", "normal", "counts"),
    "huber": ("Huber()", "linear", "normal", "normal"),
    "huber_delta": ("Huber(delta=0.3)", "linear", "normal", "normal"),
    "log_cosh": ("LogCosh()", "linear", "normal", "normal"),
    "kld": ("KLDivergence()", "linear", "probabilities", "distribution"),
    "kld_clipped": ("KLDivergence()", "linear", "normal", "distribution"),
    "poisson": ("Poisson()", "linear", "positive", "counts"),
    "hinge": ("Hinge()", "linear", "normal", "signs"),
    "hinge_binary": ("Hinge()", "linear", "normal", "binary"),
    "squared_hinge": ("SquaredHinge()", "linear", "normal", "binary"),
    "categorical_hinge": ("CategoricalHinge()", "linear", "normal",
                          "onehot"),
    "categorical_hinge_ties": ("CategoricalHinge()", "linear", "ties",
                               "onehot"),
    "cosine": ("CosineSimilarity()", "linear", "normal", "normal"),
    "cce_logits": ("CategoricalCrossentropy(from_logits=True)", "linear",
                   "normal", "onehot"),
    "cce_logits_smoothed": (
        "CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)",
        "linear", "normal", "onehot"),
    "cce_softmax_smoothed": (
        "CategoricalCrossentropy(label_smoothing=0.2)", "softmax", "normal",
        "onehot"),
    "cce_probabilities_smoothed": (
        "CategoricalCrossentropy(label_smoothing=0.2)", "linear",
        "probabilities", "onehot"),
    "cce_softmax_from_logits": (
        "CategoricalCrossentropy(from_logits=True)", "softmax", "normal",
        "onehot"),
    "sparse_logits": ("SparseCategoricalCrossentropy(from_logits=True)",
                      "linear", "normal", "sparse"),
    "sparse_softmax_from_logits": (
        "SparseCategoricalCrossentropy(from_logits=True)", "softmax",
        "normal", "sparse"),
    "bce_logits": ("BinaryCrossentropy(from_logits=True)", "linear",
                   "normal", "binary"),
    "bce_logits_smoothed": (
        "BinaryCrossentropy(from_logits=True, label_smoothing=0.1)",
        "linear", "normal", "binary"),
    "bce_sigmoid_smoothed": ("BinaryCrossentropy(label_smoothing=0.3)",
                             "sigmoid", "normal", "binary"),
    "bce_probabilities_smoothed": (
        "BinaryCrossentropy(label_smoothing=0.3)", "linear", "probabilities",
        "binary"),
}


@pytest.mark.parametrize("weighting", ["plain", "weighted"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_loss_and_gradient_match_tensorflow(lib, case, weighting):
    import keras
    written, activation, output_kind, label_kind = CASES[case]
    kloss = eval(f"keras.losses.{written}", {"keras": keras})
    rng = numpy.random.default_rng(sorted(CASES).index(case))
    z = _outputs(output_kind, rng)
    labels = _labels(label_kind, rng)
    weights, loss_weight = None, None
    if weighting == "weighted":
        weights = rng.uniform(0.0, 3.0, BATCH).astype(numpy.float32)
        loss_weight = 0.7
    expected, expected_grad = keras_oracle(kloss, activation, z, labels,
                                           weights, loss_weight)
    loss = losses.get(kloss)
    output = OutputLoss(None, loss, N, activation)
    # What the output layer sends: z, or its activation's outputs.
    sent = z if output.sends_logits or activation == "linear" else (
        keras.layers.Activation(activation)(z).numpy())
    if loss in losses.HINGES:
        labels = losses.check_labels(loss, labels, BATCH, N).view(
            numpy.float32)
    values, grads = machine(lib, loss, activation, sent, labels, weights,
                            loss_weight)
    total = numpy.float32(values.sum() / numpy.float32(BATCH))
    if loss_weight is not None:
        total = total * numpy.float32(loss_weight)
    numpy.testing.assert_allclose(total, expected, rtol=1e-6, atol=1e-7)
    if not output.sends_logits and activation != "linear":
        # Keras' gradient is with respect to z; the core's to the outputs:
        # through the activation's Jacobian.
        pytest.fail("no case sends activations of a nonlinear output")
    scale = numpy.abs(expected_grad).max()
    numpy.testing.assert_allclose(grads, expected_grad, rtol=0,
                                  atol=1e-6 * scale)
