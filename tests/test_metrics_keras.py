"""Keras' metrics computed on the machine: the regression metrics (MSE,
MAE, MAPE, RMSE), the top-k accuracies (TensorFlow's in_top_k, ties
included) and the confusion-matrix metrics (Precision, Recall and the
four counts, at 0.5 and at a given threshold), through spiDNN.keras.fit
and Model.evaluate against Keras' own fit and evaluate: History and every
batch's running logs to 1e-5 (1e-4 for the weights).  Metrics the cores
do not compute are refused by name.
"""
import numpy
import pytest

import spiDNN.keras
from spiDNN.errors import SpiDNNConfigurationError
from test_losses_keras import assert_fits_like_keras as fits_like_keras
from test_losses_keras import twin_models


def assert_fits_like_keras(ours, theirs, x, y, **fit_args):
    """History and per-batch logs to 1e-5, weights to 1e-4, as Keras'."""
    return fits_like_keras(ours, theirs, x, y, atol=1e-5, weights_atol=1e-4,
                           **fit_args)


def _data(n=40, n_in=5, n_out=4, seed=3):
    rng = numpy.random.default_rng(seed)
    x = rng.normal(size=(n, n_in)).astype(numpy.float32)
    return rng, x


def _dense_model(n_in, n_out, activation):
    import keras
    return lambda: keras.Sequential([
        keras.Input((n_in,)), keras.layers.Dense(6, activation="tanh"),
        keras.layers.Dense(n_out, activation=activation)])


def test_regression_metrics_match_keras():
    """mse, mae, mape as strings and as classes, RootMeanSquaredError:
    the mean over the samples so far (RMSE its
    root), every batch and epoch, training and validation."""
    import keras
    rng, x = _data()
    y = rng.normal(size=(40, 4)).astype(numpy.float32)
    ours, theirs = twin_models(_dense_model(5, 4, "linear"), lambda: dict(
        optimizer=keras.optimizers.Adam(0.01), loss="mse",
        metrics=["mse", "mae", "mape", keras.metrics.MeanSquaredError(),
                 keras.metrics.MeanAbsoluteError(),
                 keras.metrics.MeanAbsolutePercentageError(),
                 keras.metrics.RootMeanSquaredError()]))
    history = assert_fits_like_keras(
        ours, theirs, x, y, epochs=2, batch_size=7, validation_split=0.25)
    assert {"mse", "val_root_mean_squared_error", "mape"} <= set(
        history.history)
    # The logs are not all one number: RMSE is the root of the MSE.
    numpy.testing.assert_allclose(
        numpy.square(history.history["root_mean_squared_error"]),
        history.history["mean_squared_error"], rtol=1e-5)


def test_regression_metrics_of_a_softmax_see_its_probabilities():
    """After a softmax trained on categorical cross-entropy (the loss core
    takes the logits), MSE and MAE are of the probabilities, as Keras'."""
    import keras
    rng, x = _data()
    y = numpy.eye(4, dtype=numpy.float32)[rng.integers(0, 4, 40)]
    ours, theirs = twin_models(_dense_model(5, 4, "softmax"), lambda: dict(
        optimizer="sgd", loss="categorical_crossentropy",
        metrics=["mse", keras.metrics.MeanAbsoluteError(), "accuracy"]))
    assert_fits_like_keras(ours, theirs, x, y, epochs=2, batch_size=8)


def test_top_k_accuracies_match_keras():
    """TopKCategoricalAccuracy(k=2) and the string (k=5) on one-hot
    labels; SparseTopKCategoricalAccuracy(k=3) on class indices."""
    import keras
    rng, x = _data(n_in=5)
    classes = rng.integers(0, 7, 40)
    onehot = numpy.eye(7, dtype=numpy.float32)[classes]
    ours, theirs = twin_models(_dense_model(5, 7, "softmax"), lambda: dict(
        optimizer=keras.optimizers.Adam(0.02),
        loss="categorical_crossentropy",
        metrics=[keras.metrics.TopKCategoricalAccuracy(k=2, name="top2"),
                 "top_k_categorical_accuracy", "categorical_accuracy"]))
    history = assert_fits_like_keras(ours, theirs, x, onehot, epochs=2,
                                        batch_size=8)
    # k=2 counts fewer samples in than k=5, more than the argmax.
    logs = history.history
    assert min(logs["top2"]) < 1.0
    assert numpy.all(numpy.array(logs["top2"]) <= numpy.array(
        logs["top_k_categorical_accuracy"]))
    ours, theirs = twin_models(_dense_model(5, 7, "softmax"), lambda: dict(
        optimizer=keras.optimizers.Adam(0.02),
        loss="sparse_categorical_crossentropy",
        metrics=[keras.metrics.SparseTopKCategoricalAccuracy(k=3),
                 "sparse_categorical_accuracy"]))
    assert_fits_like_keras(ours, theirs, x, classes, epochs=2, batch_size=8,
                           validation_split=0.2)


def test_top_k_counts_ties_at_the_boundary_as_in_top_k():
    """All outputs equal (zero weights, untrained: evaluate): in_top_k
    puts every class in the top k, so even k=1 gives 1 where the argmax
    accuracy gives the share of class 0."""
    import keras
    rng, x = _data()
    classes = rng.integers(0, 4, 40)
    kmodel = _dense_model(5, 4, "softmax")()
    kmodel.set_weights([numpy.zeros_like(w) for w in kmodel.get_weights()])
    kmodel.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                   metrics=[keras.metrics.SparseTopKCategoricalAccuracy(k=1),
                            "accuracy"])
    expected = kmodel.evaluate(x, classes, verbose=0, return_dict=True)
    model = spiDNN.keras.from_keras(kmodel)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=[keras.metrics.SparseTopKCategoricalAccuracy(k=1),
                           "accuracy"])
    got = model.evaluate(x, classes, verbose=0, return_dict=True)
    assert expected["sparse_top_k_categorical_accuracy"] == 1.0
    for key, value in expected.items():
        numpy.testing.assert_allclose(got[key], value, rtol=1e-5, atol=1e-5,
                                      err_msg=key)


def _binary_case(threshold):
    import keras
    rng, x = _data(n=48)
    y = rng.integers(0, 2, (48, 3)).astype(numpy.float32)
    given = {} if threshold is None else {"thresholds": threshold}
    metrics = [keras.metrics.Precision(**given),
               keras.metrics.Recall(**given),
               keras.metrics.TruePositives(**given),
               keras.metrics.FalsePositives(**given),
               keras.metrics.TrueNegatives(**given),
               keras.metrics.FalseNegatives(**given)]
    if threshold is None:
        metrics += ["accuracy"]
    ours, theirs = twin_models(_dense_model(5, 3, "sigmoid"), lambda: dict(
        optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy",
        metrics=metrics))
    return ours, theirs, x, y


@pytest.mark.parametrize("threshold", [None, 0.3, [0.7]])
def test_confusion_metrics_match_keras(threshold):
    """Precision, Recall and the four counts, at Keras' default threshold
    and at a given one: counts summed over the epoch so far in each
    batch's logs, as Keras accumulates them."""
    ours, theirs, x, y = _binary_case(threshold)
    history = assert_fits_like_keras(
        ours, theirs, x, y, epochs=2, batch_size=10, validation_split=0.25)
    logs = history.history
    # The counts of one epoch cover each output of each sample once
    # (Keras numbers the names of metric objects made before).
    total = numpy.add.reduce([values for key, values in logs.items()
                              if key.startswith(("true_", "false_"))])
    numpy.testing.assert_array_equal(total, 36 * 3)


def test_confusion_metrics_by_name_match_keras():
    """The names compile takes: "precision", "recall", "true_positives",
    "false_negatives" (Keras' defaults, threshold 0.5), beside "mse"."""
    import keras
    rng, x = _data(n=48)
    y = rng.integers(0, 2, (48, 3)).astype(numpy.float32)
    ours, theirs = twin_models(_dense_model(5, 3, "sigmoid"), lambda: dict(
        optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy",
        metrics=["precision", "recall", "true_positives", "false_negatives",
                 "mse"]))
    history = assert_fits_like_keras(ours, theirs, x, y, epochs=2,
                                        batch_size=10)
    assert 0 < history.history["precision"][-1] < 1


def test_confusion_metrics_of_evaluate_match_keras():
    """Model.evaluate of a spiDNN model from Keras: the counts over all
    samples, Precision and Recall of them, in Keras' order."""
    import keras
    ours, theirs, x, y = _binary_case(0.4)
    model = spiDNN.keras.from_keras(ours)
    model.compile(optimizer="sgd", loss="binary_crossentropy",
                  metrics=[getattr(keras.metrics, name)(thresholds=0.4)
                           for name in ("Precision", "Recall",
                                        "TruePositives", "FalsePositives",
                                        "TrueNegatives", "FalseNegatives")])
    got = model.evaluate(x, y, verbose=0, batch_size=16)
    expected = theirs.evaluate(x, y, verbose=0, batch_size=16)
    numpy.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("metric, message", [
    ("keras.metrics.AUC()", "AUC"),
    ("keras.metrics.MeanIoU(num_classes=2)", "MeanIoU"),
    ("'rmse'", "'rmse'"),
    ("keras.metrics.Precision(thresholds=[0.3, 0.6])", "one threshold"),
    ("keras.metrics.Recall(top_k=1)", "top_k=1"),
    ("keras.metrics.TruePositives(thresholds=0.2), keras.metrics."
     "Precision()", "different thresholds"),
    ("keras.metrics.BinaryAccuracy(threshold=0.7)", "0.5 only"),
    # (spiDNN's names of the IoU settings are not Keras' metric names.)
    ("'iou_one_hot'", "'iou_one_hot'"),
    ("keras.metrics.F1Score(threshold=0.3), keras.metrics.FBetaScore("
     "threshold=0.6)", "F-scores; give them the same"),
])
def test_metrics_the_cores_do_not_compute_are_refused(metric, message):
    import keras
    rng, x = _data()
    y = rng.integers(0, 2, (40, 3)).astype(numpy.float32)
    kmodel = _dense_model(5, 3, "sigmoid")()
    kmodel.compile(optimizer="sgd", loss="binary_crossentropy",
                   metrics=list(eval(f"[{metric}]", {"keras": keras})))
    with pytest.raises(SpiDNNConfigurationError, match=message) as error:
        spiDNN.keras.fit(kmodel, x, y, epochs=1, batch_size=8, verbose=0)
    assert "the cores" in str(error.value) or "give" in str(error.value)


def test_metric_settings_round_trip_through_keras_files(tmp_path):
    """A model compiled with Precision(thresholds=0.3), TruePositives at
    0.3 and "mse", saved and loaded: spiDNN's evaluate of the loaded
    model equals the trained one's and Keras' of the same file."""
    import keras
    from spiDNN.keras.models import load_model
    rng, x = _data(n=32)
    y = rng.integers(0, 2, (32, 3)).astype(numpy.float32)
    model = spiDNN.keras.from_keras(_dense_model(5, 3, "sigmoid")())
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=[
        keras.metrics.Precision(thresholds=0.3), "mse",
        keras.metrics.TruePositives(thresholds=0.3)])
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "m.keras")
    trained = model.evaluate(x, y, verbose=0, return_dict=True)
    loaded = load_model(tmp_path / "m.keras").evaluate(
        x, y, verbose=0, return_dict=True)
    keras_logs = keras.models.load_model(tmp_path / "m.keras").evaluate(
        x, y, verbose=0, return_dict=True)
    assert sorted(loaded) == sorted(keras_logs) == sorted(trained)
    for key, value in keras_logs.items():
        numpy.testing.assert_allclose(loaded[key], value, rtol=1e-5,
                                      atol=1e-5, err_msg=key)
        assert loaded[key] == trained[key], key


def test_each_output_reduces_its_own_metrics():
    """Two outputs: Precision and a count on a sigmoid output (at 0.3),
    RMSE and MAE on a linear one, each logged under its output's name as
    Keras does, every batch."""
    import keras
    rng, x = _data(n=36)
    y = [rng.integers(0, 2, (36, 2)).astype(numpy.float32),
         rng.normal(size=(36, 3)).astype(numpy.float32)]

    def build():
        inputs = keras.Input((5,))
        hidden = keras.layers.Dense(4, activation="tanh")(inputs)
        return keras.Model(inputs, [
            keras.layers.Dense(2, activation="sigmoid", name="flag")(hidden),
            keras.layers.Dense(3, name="value")(hidden)])
    ours, theirs = twin_models(build, lambda: dict(
        optimizer=keras.optimizers.Adam(0.01),
        loss=["binary_crossentropy", "mse"],
        metrics=[[keras.metrics.Precision(thresholds=0.3, name="p"),
                  keras.metrics.FalseNegatives(thresholds=0.3, name="fn")],
                 [keras.metrics.RootMeanSquaredError(name="rmse"),
                  "mae"]]))
    history = assert_fits_like_keras(ours, theirs, x, y, epochs=2,
                                     batch_size=8)
    assert {"flag_p", "flag_fn", "value_rmse", "value_mae"} <= set(
        history.history)


def _auc_case(metrics, logits=False, n=48, seed=4):
    """A binary classifier of one output (sigmoid, or linear with a
    cross-entropy taking logits) compiled with ``metrics``."""
    import keras
    rng, x = _data(n=n, seed=seed)
    y = (x[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(numpy.float32)
    loss = (keras.losses.BinaryCrossentropy(from_logits=True) if logits
            else "binary_crossentropy")
    ours, theirs = twin_models(
        _dense_model(5, 1, None if logits else "sigmoid"), lambda: dict(
            optimizer=keras.optimizers.Adam(0.01), loss=loss,
            metrics=metrics()))
    return ours, theirs, x, y[:, None]


def test_auc_matches_keras():
    """AUC: "auc" by name, the ROC and PR curves, each summation method
    and the PR-gain curve, over the epoch so far in every batch's logs,
    training and validation; each threshold's counts from the buckets
    the loss core sends."""
    import keras
    ours, theirs, x, y = _auc_case(lambda: [
        "auc", keras.metrics.AUC(curve="PR", name="pr"),
        keras.metrics.AUC(summation_method="minoring", name="roc_min"),
        keras.metrics.AUC(curve="PR", summation_method="majoring",
                          name="pr_max"),
        keras.metrics.AUC(curve="PRGAIN", name="gain"), "accuracy"])
    history = assert_fits_like_keras(ours, theirs, x, y, epochs=3,
                                     batch_size=8, validation_split=0.25)
    logs = history.history
    # Not a constant: the areas move as the model learns, and differ.
    assert 0.5 < logs["auc"][-1] < 1.0 and logs["auc"][0] != logs["auc"][-1]
    assert logs["pr"][-1] != logs["auc"][-1]
    assert logs["roc_min"][-1] < logs["auc"][-1]


@pytest.mark.parametrize("settings", [
    dict(num_thresholds=7), dict(thresholds=[0.25, 0.5, 0.75]),
    dict(num_thresholds=3, curve="PR")])
def test_auc_with_few_thresholds_matches_keras(settings):
    """Few thresholds make the buckets coarse: num_thresholds, or the
    same given as evenly spaced thresholds."""
    import keras
    ours, theirs, x, y = _auc_case(
        lambda: [keras.metrics.AUC(**settings, name="auc")])
    assert_fits_like_keras(ours, theirs, x, y, epochs=2, batch_size=10)


def test_auc_from_logits_matches_keras():
    """AUC(from_logits=True) on a linear output trained with a
    cross-entropy that takes logits: the core takes the sigmoid first."""
    import keras
    ours, theirs, x, y = _auc_case(
        lambda: [keras.metrics.AUC(from_logits=True, name="auc")],
        logits=True)
    assert_fits_like_keras(ours, theirs, x, y, epochs=2, batch_size=8)


def test_auc_of_evaluate_matches_keras():
    import keras
    ours, theirs, x, y = _auc_case(lambda: [keras.metrics.AUC(name="a")])
    expected = theirs.evaluate(x, y, verbose=0, return_dict=True)
    got = spiDNN.keras.from_keras(ours)
    got.compile(optimizer="adam", loss="binary_crossentropy",
                metrics=[keras.metrics.AUC(name="a")])
    logs = got.evaluate(x, y, verbose=0, return_dict=True)
    numpy.testing.assert_allclose(logs["a"], expected["a"], rtol=1e-6)
    assert 0 < logs["a"] < 1


@pytest.mark.parametrize("metric, message", [
    ("keras.metrics.AUC(multi_label=True)", "multi_label=True"),
    ("keras.metrics.AUC(thresholds=[0.1, 0.7])", "evenly spaced"),
    ("keras.metrics.AUC(num_thresholds=20), keras.metrics.AUC("
     "name='b')", "give them the same"),
])
def test_auc_settings_the_cores_do_not_compute_are_refused(metric,
                                                           message):
    import keras
    ours, theirs, x, y = _auc_case(
        lambda: list(eval(f"[{metric}]", {"keras": keras})))
    with pytest.raises(SpiDNNConfigurationError, match=message):
        spiDNN.keras.fit(ours, x, y, epochs=1, batch_size=8, verbose=0)


def test_iou_metrics_match_keras():
    """MeanIoU, IoU of some classes and with an ignored class (sparse
    labels, the outputs' argmax: sparse_y_pred=False), and
    OneHotMeanIoU / OneHotIoU on one-hot labels: the confusion matrix of
    the classes over the epoch so far, in every batch's logs."""
    import keras
    rng, x = _data(n=48)
    classes = rng.integers(0, 4, 48)
    ours, theirs = twin_models(_dense_model(5, 4, "softmax"), lambda: dict(
        optimizer=keras.optimizers.Adam(0.02),
        loss="sparse_categorical_crossentropy",
        metrics=[keras.metrics.MeanIoU(4, sparse_y_pred=False, name="m"),
                 keras.metrics.IoU(4, [1, 3], sparse_y_pred=False,
                                   name="some"),
                 keras.metrics.MeanIoU(4, ignore_class=2,
                                       sparse_y_pred=False, name="ign"),
                 keras.metrics.MeanIoU(3, sparse_y_pred=False,
                                       name="three"), "accuracy"]))
    history = assert_fits_like_keras(ours, theirs, x, classes, epochs=3,
                                     batch_size=8, validation_split=0.25)
    logs = history.history
    assert 0 < logs["m"][-1] < 1 and logs["m"][-1] != logs["ign"][-1]
    onehot = numpy.eye(4, dtype=numpy.float32)[classes]
    ours, theirs = twin_models(_dense_model(5, 4, "softmax"), lambda: dict(
        optimizer=keras.optimizers.Adam(0.02),
        loss="categorical_crossentropy",
        metrics=[keras.metrics.OneHotMeanIoU(4, name="m"),
                 keras.metrics.OneHotIoU(4, [0, 2], name="some")]))
    assert_fits_like_keras(ours, theirs, x, onehot, epochs=2, batch_size=8)


def test_binary_iou_matches_keras():
    """BinaryIoU of one output at its default and at another threshold
    (output >= threshold predicts 1), and of one class."""
    import keras
    for threshold in (0.5, 0.3):
        ours, theirs, x, y = _auc_case(lambda: [
            keras.metrics.BinaryIoU(threshold=threshold, name="b"),
            keras.metrics.BinaryIoU([1], threshold=threshold, name="one")])
        history = assert_fits_like_keras(ours, theirs, x, y, epochs=2,
                                         batch_size=8)
        assert 0 < history.history["b"][-1] < 1


@pytest.mark.parametrize("metric, message", [
    ("keras.metrics.MeanIoU(3)", "sparse_y_pred=False"),
    ("keras.metrics.MeanIoU(3, sparse_y_pred=False, axis=0)", "axis=0"),
    ("keras.metrics.BinaryIoU()", "one value"),
])
def test_iou_settings_the_cores_do_not_compute_are_refused(metric,
                                                           message):
    import keras
    rng, x = _data()
    classes = rng.integers(0, 3, 40)
    kmodel = _dense_model(5, 3, "softmax")()
    kmodel.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                   metrics=list(eval(f"[{metric}]", {"keras": keras})))
    with pytest.raises(SpiDNNConfigurationError, match=message):
        spiDNN.keras.fit(kmodel, x, classes, epochs=1, batch_size=8,
                         verbose=0)


def test_losses_as_metrics_match_keras():
    """Keras' losses as metrics (the mean of the samples' losses, by the
    loss core's code of each loss), as classes and as strings, beside a
    training loss of another kind: on a softmax trained with MSE (the
    outputs arrive as probabilities) and with a cross-entropy (they
    arrive as z)."""
    import keras
    rng, x = _data()
    classes = rng.integers(0, 4, 40)
    onehot = numpy.eye(4, dtype=numpy.float32)[classes]
    for loss in ("mse", "categorical_crossentropy"):
        ours, theirs = twin_models(_dense_model(5, 4, "softmax"),
                                   lambda: dict(
            optimizer=keras.optimizers.Adam(0.02), loss=loss, metrics=[
                keras.metrics.CategoricalCrossentropy(),
                keras.metrics.KLDivergence(), keras.metrics.Poisson(),
                keras.metrics.CategoricalHinge(),
                keras.metrics.LogCoshError(),
                keras.metrics.MeanSquaredLogarithmicError()] + (
                ["binary_crossentropy"] if loss != "mse" else [])))
        assert_fits_like_keras(ours, theirs, x, onehot, epochs=2,
                               batch_size=8, validation_split=0.25)


def test_binary_cross_entropy_of_a_softmax_needs_its_logits():
    """Keras takes a binary cross-entropy metric of a softmax output from
    the softmax's logits (TensorFlow's _keras_logits), which reach the
    loss core only with a cross-entropy loss: with MSE it is refused."""
    rng, x = _data()
    onehot = numpy.eye(4, dtype=numpy.float32)[rng.integers(0, 4, 40)]
    kmodel = _dense_model(5, 4, "softmax")()
    kmodel.compile(optimizer="sgd", loss="mse",
                   metrics=["binary_crossentropy"])
    with pytest.raises(SpiDNNConfigurationError, match="logits"):
        spiDNN.keras.fit(kmodel, x, onehot, epochs=1, batch_size=8,
                         verbose=0)


def test_cross_entropy_metrics_of_class_indices_and_logits_match_keras():
    """SparseCategoricalCrossentropy as a metric on class indices, and
    the cross-entropy metrics' from_logits=True on a linear output."""
    import keras
    rng, x = _data()
    classes = rng.integers(0, 4, 40)
    ours, theirs = twin_models(_dense_model(5, 4, "softmax"), lambda: dict(
        optimizer="sgd", loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_crossentropy", "accuracy"]))
    assert_fits_like_keras(ours, theirs, x, classes, epochs=2, batch_size=8)
    onehot = numpy.eye(4, dtype=numpy.float32)[classes]
    ours, theirs = twin_models(_dense_model(5, 4, None), lambda: dict(
        optimizer="sgd", loss="mse", metrics=[
            keras.metrics.CategoricalCrossentropy(from_logits=True)]))
    assert_fits_like_keras(ours, theirs, x, onehot, epochs=2, batch_size=8)


def test_rates_under_a_constraint_match_keras():
    """SensitivityAtSpecificity, SpecificityAtSensitivity,
    PrecisionAtRecall and RecallAtPrecision of one output, beside an AUC
    (they share its buckets), and at few thresholds."""
    import keras
    for n in (200, 9):
        ours, theirs, x, y = _auc_case(lambda: [
            keras.metrics.SensitivityAtSpecificity(0.6, num_thresholds=n,
                                                   name="sens"),
            keras.metrics.SpecificityAtSensitivity(0.7, num_thresholds=n,
                                                   name="spec"),
            keras.metrics.PrecisionAtRecall(0.5, num_thresholds=n,
                                            name="prec"),
            keras.metrics.RecallAtPrecision(0.8, num_thresholds=n,
                                            name="rec"),
            keras.metrics.AUC(num_thresholds=n, name="auc")])
        history = assert_fits_like_keras(ours, theirs, x, y, epochs=2,
                                         batch_size=8,
                                         validation_split=0.25)
        assert 0 < history.history["sens"][-1] < 1


def test_correlation_and_cosine_metrics_match_keras():
    """PearsonCorrelation, ConcordanceCorrelation and CosineSimilarity:
    each sample's over its outputs (Keras' own formulas, the
    concordance's covariance as Keras writes it), the mean over the
    samples so far."""
    import keras
    rng, x = _data()
    y = rng.normal(size=(40, 4)).astype(numpy.float32)
    ours, theirs = twin_models(_dense_model(5, 4, "linear"), lambda: dict(
        optimizer=keras.optimizers.Adam(0.02), loss="mse", metrics=[
            keras.metrics.PearsonCorrelation(),
            keras.metrics.ConcordanceCorrelation(),
            keras.metrics.CosineSimilarity(name="cosine")]))
    history = assert_fits_like_keras(ours, theirs, x, y, epochs=2,
                                     batch_size=8, validation_split=0.25)
    assert history.history["pearson_correlation"][-1] != 0
    ours, theirs = twin_models(_dense_model(5, 4, "linear"), lambda: dict(
        optimizer="sgd", loss="mse", metrics=["cosine_similarity"]))
    assert_fits_like_keras(ours, theirs, x, y, epochs=1, batch_size=8)


def test_f_scores_match_keras():
    """F1Score and FBetaScore of a softmax classifier: the core sends the
    outputs predicted positive (those equal to the largest, ties
    included, or above the threshold) and the labels that are 1, a bit
    each; the host sums each class's counts and takes Keras' result, for
    every average (per-batch logs too)."""
    import keras
    rng, x = _data(n=44)
    y = numpy.eye(3, dtype=numpy.float32)[rng.integers(0, 3, 44)]
    for metrics in ([keras.metrics.F1Score(average="macro"),
                     keras.metrics.FBetaScore(average="weighted", beta=2.0,
                                              name="f2")],
                    [keras.metrics.F1Score(average="micro", threshold=0.35)]):
        ours, theirs = twin_models(_dense_model(5, 3, "softmax"), lambda: dict(
            optimizer=keras.optimizers.Adam(0.02),
            loss="categorical_crossentropy", metrics=[
                type(m).from_config(m.get_config()) for m in metrics]))
        history = assert_fits_like_keras(ours, theirs, x, y, epochs=2,
                                         batch_size=8, validation_split=0.25)
        assert 0 < history.history[metrics[0].name][-1] < 1


def assert_arrays_logged_as_keras(build, loss, metric, x, y, shape):
    """A metric whose value is an array (one per class): History holds
    them per epoch, of ``shape``, as Keras' (to 1e-5)."""
    name = metric.name
    ours, theirs = twin_models(build, lambda: dict(
        optimizer="adam", loss=loss,
        metrics=[type(metric).from_config(metric.get_config())]))
    kwargs = dict(epochs=2, batch_size=8, shuffle=False, verbose=0)
    history = spiDNN.keras.fit(ours, x, y, **kwargs)
    khistory = theirs.fit(x, y, **kwargs)
    numpy.testing.assert_allclose(numpy.array(history.history[name]),
                                  numpy.array(khistory.history[name]),
                                  rtol=0, atol=1e-5)
    assert numpy.shape(history.history[name]) == shape


def test_f_scores_of_each_class_match_keras():
    """average=None: History holds each class's score, as Keras'."""
    import keras
    rng, x = _data(n=40)
    y = (rng.random((40, 4)) > 0.6).astype(numpy.float32)   # multi-label
    assert_arrays_logged_as_keras(
        _dense_model(5, 4, "sigmoid"), "binary_crossentropy",
        keras.metrics.F1Score(threshold=0.5), x, y, (2, 4))


def assert_fit_refused(activation, loss, metric, y, match):
    """spiDNN.keras.fit of a Dense model of ``y``'s outputs compiled with
    ``metric`` raises ``match``."""
    _, x = _data(n=len(y))
    kmodel = _dense_model(5, y.shape[1], activation)()
    kmodel.compile(optimizer="sgd", loss=loss, metrics=[metric])
    with pytest.raises(SpiDNNConfigurationError, match=match):
        spiDNN.keras.fit(kmodel, x, y, epochs=1, batch_size=8, verbose=0)


def test_f_scores_of_labels_other_than_0_and_1_are_refused():
    import keras
    rng, _ = _data(n=16)
    assert_fit_refused("softmax", "categorical_crossentropy",
                       keras.metrics.F1Score(),
                       rng.random((16, 3)).astype(numpy.float32),
                       "neither 0 nor 1")


def _regression(n=48, seed=5):
    rng, x = _data(n=n, seed=seed)
    y = (x @ rng.normal(size=(5, 1)) + 0.3).astype(numpy.float32)
    return x, y


@pytest.mark.parametrize("settings", [
    {}, {"class_aggregation": "variance_weighted_average"},
    {"num_regressors": 3}])
def test_r2_score_matches_keras(settings):
    """R2Score of one output: the core sends each sample's squared
    residual, and its label's value; the host sums them as Keras'
    variables do and takes its result (the adjusted score with
    num_regressors, which Keras computes only eagerly)."""
    import keras
    x, y = _regression()
    ours, theirs = twin_models(_dense_model(5, 1, "linear"), lambda: dict(
        optimizer=keras.optimizers.Adam(0.02), loss="mse",
        metrics=[keras.metrics.R2Score(**settings)],
        run_eagerly=bool(settings.get("num_regressors"))))
    history = assert_fits_like_keras(ours, theirs, x, y, epochs=2,
                                     batch_size=8, validation_split=0.25)
    assert 0 < history.history["r2_score"][-1] < 1


def test_r2_score_without_aggregation_is_an_array_as_keras():
    import keras
    x, y = _regression()
    assert_arrays_logged_as_keras(
        _dense_model(5, 1, "linear"), "mse",
        keras.metrics.R2Score(class_aggregation=None), x, y, (2, 1))


def test_r2_score_of_several_outputs_is_refused():
    import keras
    rng, _ = _data(n=16)
    assert_fit_refused("linear", "mse", keras.metrics.R2Score(),
                       rng.normal(size=(16, 3)), "one value")


def test_hinge_metrics_match_keras():
    """Hinge and SquaredHinge as metrics: Keras turns a batch's 0/1
    labels into -1/1, the loss core each sample's (the same for labels
    all 0 and 1, or with no 0); -1/1 labels stay."""
    import keras
    rng, x = _data(n=40)
    binary = rng.integers(0, 2, (40, 3)).astype(numpy.float32)
    for y, loss in ((binary, "binary_crossentropy"),
                    (2 * binary - 1, "mse"), (binary, "hinge")):
        ours, theirs = twin_models(_dense_model(5, 3, "tanh"), lambda: dict(
            optimizer=keras.optimizers.Adam(0.02), loss=loss,
            metrics=[keras.metrics.Hinge(), "squared_hinge"]))
        history = assert_fits_like_keras(ours, theirs, x, y, epochs=2,
                                         batch_size=8, validation_split=0.25)
        assert history.history["hinge"][-1] > 0


def test_hinge_metric_labels_a_batch_could_take_otherwise_are_refused():
    import keras
    assert_fit_refused("tanh", "mse", keras.metrics.Hinge(),
                       numpy.tile(numpy.float32([0.0, 0.5, 1.0]), (16, 1)),
                       "metric 'hinge' labels: Keras turns labels 0")
