"""``sample_weight`` and ``class_weight`` in fit, ``sample_weight`` in
evaluate and in validation data, folded into the loss on the machine as
Keras folds them (each sample's loss and gradient times its weight, the
batch's sum divided by its size), against Keras' own fit and evaluate:
weights, History and per-batch logs to 1e-4.  Keras' compiled metrics
stay unweighted.  Then keras.io's imbalanced-classification example as
written (class_weight), on synthetic data.
"""
import numpy
import pytest

import spiDNN
import spiDNN.keras
from spiDNN.errors import SpiDNNConfigurationError
from test_losses_keras import assert_fits_like_keras, twin_models

rng = numpy.random.default_rng(5)
X = rng.normal(size=(60, 5)).astype(numpy.float32)
Y = (X[:, 0] + 0.5 * X[:, 1] > 0.3).astype(numpy.float32)
CLASSES = (numpy.abs(X[:, 2]) * 2).astype(int) % 3
WEIGHTS = rng.uniform(0.0, 4.0, len(X)).astype(numpy.float32)


def _mlp(units, activation):
    import keras

    def build():
        return keras.Sequential([
            keras.Input((5,)), keras.layers.Dense(6, activation="relu"),
            keras.layers.Dense(units, activation=activation)])
    return build


def _compiled(loss, metrics):
    import keras
    return lambda: dict(optimizer=keras.optimizers.Adam(0.02), loss=loss,
                        metrics=metrics)


def test_sample_weight_weighs_the_loss_not_the_metrics():
    ours, theirs = twin_models(_mlp(1, "sigmoid"), _compiled(
        "binary_crossentropy", ["accuracy"]))
    assert_fits_like_keras(ours, theirs, X, Y, epochs=3, batch_size=16,
                           sample_weight=WEIGHTS)


def test_class_weight_as_keras_folds_it_with_validation():
    ours, theirs = twin_models(_mlp(3, "softmax"), _compiled(
        "sparse_categorical_crossentropy", ["accuracy"]))
    assert_fits_like_keras(
        ours, theirs, X, CLASSES, epochs=2, batch_size=16,
        class_weight={0: 0.5, 1: 3.0}, validation_data=(X[:20],
                                                        CLASSES[:20]))


def test_class_weight_of_one_hot_labels():
    onehot = numpy.eye(3, dtype=numpy.float32)[CLASSES]
    ours, theirs = twin_models(_mlp(3, "linear"), _compiled(
        "mse", None))
    assert_fits_like_keras(ours, theirs, X, onehot, epochs=2, batch_size=16,
                           class_weight={0: 2.0, 2: 0.25})


def test_validation_weights_from_a_triple_and_from_validation_split():
    ours, theirs = twin_models(_mlp(1, "sigmoid"), _compiled(
        "binary_crossentropy", ["accuracy"]))
    assert_fits_like_keras(
        ours, theirs, X, Y, epochs=2, batch_size=16,
        validation_data=(X[:24], Y[:24], WEIGHTS[:24]))
    ours, theirs = twin_models(_mlp(1, "sigmoid"), _compiled(
        "binary_crossentropy", ["accuracy"]))
    assert_fits_like_keras(ours, theirs, X, Y, epochs=2, batch_size=16,
                           sample_weight=WEIGHTS, validation_split=0.3)


def test_evaluate_with_sample_weight_matches_keras():
    import keras
    from spiDNN.keras.models import from_keras
    kmodel = _mlp(3, "softmax")()
    kmodel.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                   metrics=["accuracy"])
    model = from_keras(kmodel)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    ours = model.evaluate(X, CLASSES, batch_size=16, sample_weight=WEIGHTS)
    theirs = kmodel.evaluate(X, CLASSES, batch_size=16, verbose=0,
                             sample_weight=WEIGHTS)
    numpy.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    assert keras.backend.floatx() == "float32"


def test_imbalanced_classification_example_as_written():
    """keras.io/examples/structured_data/imbalanced_classification: Dense
    256 relu three times (its two Dropouts left out), Dense(1, sigmoid),
    Adam(1e-2), binary_crossentropy, class_weight of the inverse class
    counts, validation_data, batch_size=2048 (one batch an epoch here);
    on synthetic data of its 30 features with 4% positives, with its
    metrics (true/false positives and negatives, precision, recall): it
    trains as Keras, History and every batch's logs."""
    import keras
    data = numpy.random.default_rng(8)
    features = data.normal(size=(250, 30)).astype(numpy.float32)
    targets = (features[:, 0] > 1.75).astype(numpy.uint8)
    counts = numpy.bincount(targets)
    weight_for_0, weight_for_1 = 1.0 / counts[0], 1.0 / counts[1]
    train, val = slice(0, 200), slice(200, 250)

    def build():
        return keras.Sequential([
            keras.Input(shape=features.shape[1:]),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid")])

    def compile_args(metrics):
        return lambda: dict(optimizer=keras.optimizers.Adam(1e-2),
                            loss="binary_crossentropy", metrics=metrics)
    fit_args = dict(batch_size=2048, epochs=6,
                    validation_data=(features[val], targets[val]),
                    class_weight={0: weight_for_0, 1: weight_for_1})
    example_metrics = [
        keras.metrics.FalseNegatives(name="fn"),
        keras.metrics.FalsePositives(name="fp"),
        keras.metrics.TrueNegatives(name="tn"),
        keras.metrics.TruePositives(name="tp"),
        keras.metrics.Precision(name="precision"),
        keras.metrics.Recall(name="recall")]
    ours, theirs = twin_models(build, compile_args(example_metrics))
    history = assert_fits_like_keras(ours, theirs, features[train],
                                     targets[train], **fit_args)
    assert {"val_loss", "val_precision", "fn", "tp"} <= set(history.history)
    # The counts cover the 200 training samples each epoch.
    numpy.testing.assert_array_equal(numpy.add.reduce([
        history.history[name] for name in ("fn", "fp", "tn", "tp")]), 200)


@pytest.mark.parametrize("arguments, message", [
    (dict(sample_weight=WEIGHTS, class_weight={0: 1.0}), "not both"),
    (dict(sample_weight=WEIGHTS[:10]), r"one weight per sample, shape \(60,\)"),
    (dict(sample_weight=numpy.full(60, numpy.nan)), "NaN"),
    (dict(class_weight=[1.0, 2.0]), "class_weight must be a dict"),
    (dict(class_weight={"a": 1.0}), "whole numbers"),
    (dict(class_weight={0: "x"}), "class_weight for class 0"),
    (dict(validation_data=(X, Y, WEIGHTS, WEIGHTS)),
     "a pair .* or a triple"),
])
def test_weights_spidnn_cannot_take_are_refused_by_name(arguments, message):
    from spiDNN.layers import Dense, Input
    model = spiDNN.Model()
    model.add(Input(5))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy")
    with pytest.raises(SpiDNNConfigurationError, match=message):
        model.fit(X, Y, verbose=0, **arguments)


def _weighted_compiled(loss, metrics, weighted):
    import keras
    return lambda: dict(optimizer=keras.optimizers.Adam(0.02), loss=loss,
                        metrics=metrics, weighted_metrics=weighted)


def test_weighted_metrics_match_keras():
    """compile(weighted_metrics=...): the loss core sends each sample's
    weight beside the metrics' values, the host weighs the mean metrics
    by it as Keras does; a name the unweighted metrics have becomes
    weighted_<name>.  With sample_weight, class_weight, weighted
    validation, and none (the weights 1); per-batch logs too."""
    import keras

    def weighted():
        return ["accuracy", "mse", keras.metrics.RootMeanSquaredError(),
                keras.metrics.TopKCategoricalAccuracy(k=2)]
    onehot = numpy.eye(3, dtype=numpy.float32)[CLASSES]
    for fit_args in (dict(sample_weight=WEIGHTS,
                          validation_data=(X[:24], onehot[:24],
                                           WEIGHTS[:24])),
                     dict(class_weight={0: 0.5, 1: 3.0}), {}):
        ours, theirs = twin_models(_mlp(3, "softmax"), _weighted_compiled(
            "categorical_crossentropy", ["accuracy"], weighted()))
        history = assert_fits_like_keras(ours, theirs, X, onehot, epochs=2,
                                         batch_size=16, **fit_args)
        assert "weighted_accuracy" in history.history
    # Weighted differs from unweighted where the weights are not all 1.
    assert history.history["weighted_accuracy"] == history.history[
        "accuracy"]


def test_weighted_metrics_of_evaluate_match_keras():
    from spiDNN.keras.models import from_keras
    kmodel = _mlp(1, "sigmoid")()
    kmodel.compile(optimizer="sgd", loss="binary_crossentropy",
                   metrics=["accuracy"], weighted_metrics=["accuracy", "mae"])
    model = from_keras(kmodel)
    model.compile(optimizer="sgd", loss="binary_crossentropy",
                  metrics=["accuracy"], weighted_metrics=["accuracy", "mae"])
    ours = model.evaluate(X, Y, batch_size=16, sample_weight=WEIGHTS,
                          return_dict=True)
    theirs = kmodel.evaluate(X, Y, batch_size=16, verbose=0,
                             sample_weight=WEIGHTS, return_dict=True)
    assert ours.keys() == theirs.keys()
    for name in theirs:
        assert ours[name] == pytest.approx(theirs[name], abs=1e-5), name
    assert ours["weighted_accuracy"] != ours["accuracy"]


def test_weighted_metrics_that_are_not_means_are_refused():
    import keras
    kmodel = _mlp(1, "sigmoid")()
    kmodel.compile(optimizer="sgd", loss="binary_crossentropy",
                   weighted_metrics=[keras.metrics.AUC(name="auc")])
    with pytest.raises(SpiDNNConfigurationError,
                       match="weighted metric 'auc'.*give it in metrics"):
        spiDNN.keras.fit(kmodel, X, Y, sample_weight=WEIGHTS, verbose=0)
