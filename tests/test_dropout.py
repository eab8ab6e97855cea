"""Dropout: identity in predict; in fit, each unit dropped at the rate,
kept units scaled by 1 / (1 - rate) as Keras does, the backward pass
through the same mask, and seeded masks that repeat exactly.

The masks are read through the public API: with an identity first layer,
inputs of ones, an mse loss and a second layer whose kernel is a power of
two per unit, each sample's loss (history.sample_losses) encodes which
units were kept.
"""
import numpy
import pytest

import spiDNN
from spiDNN.layers import Dense, Dropout, Input

from conv_oracle import (
    assert_predicts_like_keras, keras_model, layer, max_abs_diff,
    spidnn_model)

#: A learning rate too small to change any weight visibly.
FROZEN = 1e-30


def masked_model(n_units, rate, second_kernel, seed=1, neurons_per_core=1):
    """Input(n) -> Dense(n, identity kernel, zero bias) -> Dropout(rate)
    -> Dense(1, linear, kernel=second_kernel, zero bias)."""
    model = spiDNN.Model(seed=0)
    model.add(Input(n_units))
    model.add(Dense(n_units, neurons_per_core=neurons_per_core))
    model.add(Dropout(rate, seed=seed))
    model.add(Dense(1))
    model.set_weights([
        numpy.eye(n_units, dtype=numpy.float32),
        numpy.zeros(n_units, numpy.float32),
        numpy.asarray(second_kernel, numpy.float32).reshape(n_units, 1),
        numpy.zeros(1, numpy.float32)])
    return model


def kept_bits(outputs, rate, n_units):
    """The units kept in each pass, from outputs sum_i 2^i m_i / (1 - rate)
    (second kernel 2^i / 2^(n-1)): an (n_passes, n_units) 0/1 array."""
    totals = outputs * (1 - rate) * 2.0 ** (n_units - 1)
    rounded = numpy.rint(totals)
    # Kept units are scaled by exactly 1 / (1 - rate): the sums are whole.
    assert max_abs_diff(totals, rounded) < 0.05
    rounded = rounded.astype(numpy.int64)
    return (rounded[:, None] >> numpy.arange(n_units)) & 1


def power_kernel(n_units):
    return 2.0 ** numpy.arange(n_units) / 2.0 ** (n_units - 1)


# ---------------------------------------------------------------- predict
@pytest.mark.parametrize("rate", [0.2, 0.5, 0.9])
def test_predict_ignores_dropout(rate):
    specs = [layer("Dense", 24, activation="relu"),
             layer("Dropout", rate, seed=3),
             layer("Dense", 16, activation="tanh"),
             layer("Dropout", rate),
             layer("Dense", 5, activation="softmax")]
    reference = keras_model((12,), specs)
    model = spidnn_model((12,), specs, reference.get_weights())
    x = numpy.random.default_rng(0).normal(size=(30, 12)).astype("float32")
    got = assert_predicts_like_keras(model, reference, x)
    plain = spidnn_model((12,), [s for s in specs if s.name != "Dropout"],
                         reference.get_weights())
    numpy.testing.assert_array_equal(plain.predict(x), got)


def test_predict_ignores_dropout_after_a_convolution():
    specs = [layer("Conv2D", 3, 3, activation="relu"),
             layer("Dropout", 0.5, seed=2),
             layer("MaxPooling2D", 2),
             layer("Flatten"),
             layer("Dense", 4, activation="softmax")]
    reference = keras_model((8, 8, 1), specs)
    model = spidnn_model((8, 8, 1), specs, reference.get_weights())
    x = numpy.random.default_rng(1).normal(size=(10, 8, 8, 1)).astype(
        "float32")
    assert_predicts_like_keras(model, reference, x)


# ------------------------------------------------------------ the masks
@pytest.mark.parametrize("rate", [0.3, 0.7])
def test_dropped_fraction_is_the_rate(rate):
    """1,000,000 draws (5,000 samples of 200 units): the fraction dropped
    is within 1% (relative) of the rate; that is over 6 standard
    deviations of a fair draw."""
    n_units, n_samples = 200, 5000
    model = masked_model(n_units, rate, numpy.ones(n_units),
                         neurons_per_core=20)
    x = numpy.ones((n_samples, n_units), numpy.float32)
    y = numpy.zeros((n_samples, 1), numpy.float32)
    history = model.fit(x, y, loss="mse", epochs=1, batch_size=50,
                        learning_rate=FROZEN, shuffle=False, verbose=0)
    # loss = (kept / (1 - rate))^2
    kept = numpy.sqrt(history.sample_losses[0].astype(numpy.float64)) * (
        1 - rate)
    assert max_abs_diff(kept, numpy.rint(kept)) < 0.02
    dropped = 1 - kept.sum() / (n_units * n_samples)
    assert abs(dropped - rate) <= 0.01 * rate
    # The number kept per sample is binomial, not fixed.
    expected_var = n_units * rate * (1 - rate)
    assert 0.8 * expected_var < kept.var() < 1.2 * expected_var


def test_masks_are_independent_per_unit_sample_and_epoch():
    n_units, n_samples, rate = 16, 3000, 0.4
    model = masked_model(n_units, rate, power_kernel(n_units))
    x = numpy.ones((n_samples, n_units), numpy.float32)
    y = numpy.zeros((n_samples, 1), numpy.float32)
    history = model.fit(x, y, loss="mse", epochs=2, batch_size=100,
                        learning_rate=FROZEN, shuffle=False, verbose=0)
    masks = [kept_bits(numpy.sqrt(e.astype(numpy.float64)), rate, n_units)
             for e in history.sample_losses]
    both = numpy.concatenate(masks)
    # Each unit on its own is dropped at the rate (5 standard deviations).
    sigma = numpy.sqrt(rate * (1 - rate) / len(both))
    assert numpy.all(numpy.abs(1 - both.mean(0) - rate) < 5 * sigma)
    # Units are not dropped together: correlations near zero.
    correlation = numpy.corrcoef(both.T)
    off_diagonal = correlation[~numpy.eye(n_units, dtype=bool)]
    assert numpy.abs(off_diagonal).max() < 5 / numpy.sqrt(len(both))
    # A fresh mask for every sample, and for the same sample next epoch.
    codes = [m @ (1 << numpy.arange(n_units)) for m in masks]
    assert len(numpy.unique(codes[0])) > 0.9 * n_samples
    assert numpy.mean(codes[0] == codes[1]) < 0.01


def test_backward_pass_goes_through_the_forward_mask():
    """One batch of 8 samples: the masks read from the losses give the
    exact SGD update of both layers (dropped units get no gradient)."""
    n_units, n_samples, rate, learning_rate = 12, 8, 0.5, 0.05
    w2 = power_kernel(n_units)
    model = masked_model(n_units, rate, w2, seed=7)
    x = numpy.ones((n_samples, n_units), numpy.float32)
    # Targets below every output: out - y = +sqrt(loss).
    y = numpy.random.default_rng(2).uniform(-2, -0.5, (n_samples, 1)).astype(
        numpy.float32)
    history = model.fit(x, y, loss="mse", epochs=1, batch_size=n_samples,
                        learning_rate=learning_rate, shuffle=False,
                        verbose=0)
    losses = history.sample_losses[0].astype(numpy.float64)
    outputs = y[:, 0] + numpy.sqrt(losses)
    masks = kept_bits(outputs, rate, n_units)
    assert 0 < masks.mean() < 1
    scale = masks / (1 - rate)                       # (samples, units)
    delta_out = 2 * (outputs - y[:, 0])              # d loss / d out
    hidden = scale                                   # ones, masked
    expected_w2 = w2 - learning_rate * numpy.mean(
        delta_out[:, None] * hidden, axis=0)
    expected_b2 = -learning_rate * numpy.mean(delta_out)
    delta_hidden = delta_out[:, None] * w2[None, :] * scale
    expected_b1 = -learning_rate * numpy.mean(delta_hidden, axis=0)
    expected_w1 = numpy.eye(n_units) + expected_b1[None, :]   # x = ones
    w1, b1, w2_new, b2 = model.get_weights()
    numpy.testing.assert_allclose(w2_new[:, 0], expected_w2, atol=1e-5)
    numpy.testing.assert_allclose(b2, [expected_b2], atol=1e-5)
    numpy.testing.assert_allclose(b1, expected_b1, atol=1e-5)
    numpy.testing.assert_allclose(w1, expected_w1, atol=1e-5)
    # Dropped in every sample means untouched.
    never_kept = masks.sum(0) == 0
    assert numpy.all(b1[never_kept] == 0)


# ---------------------------------------------------------------- seeds
def train_with_dropout_seed(digits, seed):
    x, classes = digits
    specs = [layer("Dense", 16, activation="tanh"),
             layer("Dropout", 0.4, seed=seed),
             layer("Dense", 10, activation="softmax")]
    reference = keras_model((64,), specs, seed=4)
    model = spidnn_model((64,), specs, reference.get_weights())
    history = model.fit(x[:200], classes[:200],
                        loss="sparse_categorical_crossentropy", epochs=1,
                        batch_size=8, learning_rate=0.1, shuffle=False,
                        verbose=0)
    return model.get_weights(), history.sample_losses[0]


def test_same_seed_same_weights_other_seed_other_weights(digits):
    weights_a, losses_a = train_with_dropout_seed(digits, 1)
    weights_b, losses_b = train_with_dropout_seed(digits, 1)
    for a, b in zip(weights_a, weights_b):
        numpy.testing.assert_array_equal(a, b)
    numpy.testing.assert_array_equal(losses_a, losses_b)
    weights_c, _ = train_with_dropout_seed(digits, 2)
    assert max(max_abs_diff(a, c) for a, c in zip(weights_a, weights_c)) \
        > 1e-3


def test_dropout_zero_trains_exactly_as_without(digits):
    """Dropout(0.0) keeps everything: Keras' weights to 1e-4."""
    from conv_oracle import assert_trains_like_keras
    x, classes = digits
    specs = [layer("Dense", 16, activation="tanh"),
             layer("Dropout", 0.0, seed=1),
             layer("Dense", 10, activation="softmax")]
    assert_trains_like_keras((64,), specs, x[:60], classes[:60],
                             "sparse_categorical_crossentropy", 7, 0.2)


def test_dropout_zero_in_a_cnn_trains_exactly_as_without():
    from conv_oracle import assert_trains_like_keras
    rng = numpy.random.default_rng(3)
    x = rng.normal(size=(20, 7, 7, 1)).astype(numpy.float32)
    y = (x[:, :3].sum((1, 2, 3)) > 0).astype(numpy.int64)
    specs = [layer("Conv2D", 3, 3, activation="relu"),
             layer("Dropout", 0.0),
             layer("MaxPooling2D", 2),
             layer("Flatten"),
             layer("Dropout", 0.0),
             layer("Dense", 2, activation="softmax")]
    assert_trains_like_keras((7, 7, 1), specs, x, y,
                             "sparse_categorical_crossentropy", 7, 0.3)


def train_cnn_with_dropout_seed(seed):
    rng = numpy.random.default_rng(4)
    x = rng.normal(size=(40, 7, 7, 1)).astype(numpy.float32)
    y = (x[:, :3].sum((1, 2, 3)) > 0).astype(numpy.int64)
    specs = [layer("Conv2D", 3, 3, activation="relu"),
             layer("Dropout", 0.3, seed=seed),
             layer("MaxPooling2D", 2),
             layer("Flatten"),
             layer("Dense", 2, activation="softmax")]
    reference = keras_model((7, 7, 1), specs)
    model = spidnn_model((7, 7, 1), specs, reference.get_weights())
    history = model.fit(x, y, loss="sparse_categorical_crossentropy",
                        epochs=2, batch_size=5, learning_rate=0.2,
                        shuffle=False, verbose=0)
    plain = spidnn_model((7, 7, 1), [s for s in specs if s.name != "Dropout"],
                         reference.get_weights())
    plain.fit(x, y, loss="sparse_categorical_crossentropy", epochs=2,
              batch_size=5, learning_rate=0.2, shuffle=False, verbose=0)
    return model.get_weights(), history.sample_losses, plain.get_weights()


def test_dropout_after_a_convolution_is_seeded_and_active():
    weights_a, losses_a, plain = train_cnn_with_dropout_seed(1)
    weights_b, losses_b, _ = train_cnn_with_dropout_seed(1)
    for a, b in zip(weights_a, weights_b):
        numpy.testing.assert_array_equal(a, b)
    for a, b in zip(losses_a, losses_b):
        numpy.testing.assert_array_equal(a, b)
    weights_c, _, _ = train_cnn_with_dropout_seed(2)
    assert max(max_abs_diff(a, c) for a, c in zip(weights_a, weights_c)) \
        > 1e-3
    # Dropout changed training compared with the same model without it.
    assert max(max_abs_diff(a, p) for a, p in zip(weights_a, plain)) > 1e-3


# ----------------------------------------------------------- accuracy
def test_digits_with_dropout_reaches_keras_accuracy(digits):
    """Same model, same initial weights, Keras' fit: the test accuracy,
    averaged over two dropout seeds (dropout makes one run's accuracy
    wander by about a point), is within 2 points of Keras'."""
    import keras
    from sklearn.model_selection import train_test_split
    x, y = digits
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=0, stratify=y)
    ours, theirs = [], []
    for seed in [5, 6]:
        specs = [layer("Dense", 64, activation="relu"),
                 layer("Dropout", 0.25, seed=seed),
                 layer("Dense", 10, activation="softmax")]
        reference = keras_model((64,), specs, seed=3)
        model = spidnn_model((64,), specs, reference.get_weights())
        model.compile(optimizer=spiDNN.optimizers.SGD(0.2),
                      loss="sparse_categorical_crossentropy")
        model.fit(x_train, y_train, epochs=15, batch_size=16, shuffle=False,
                  verbose=0)
        reference.compile(optimizer=keras.optimizers.SGD(0.2),
                          loss="sparse_categorical_crossentropy")
        reference.fit(x_train, y_train, epochs=15, batch_size=16,
                      shuffle=False, verbose=0)
        ours.append(numpy.mean(model.predict(x_test).argmax(1) == y_test))
        theirs.append(numpy.mean(
            reference.predict(x_test, verbose=0).argmax(1) == y_test))
    assert numpy.mean(theirs) > 0.95
    assert abs(numpy.mean(ours) - numpy.mean(theirs)) <= 0.02, (ours, theirs)
