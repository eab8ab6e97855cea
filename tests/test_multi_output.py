"""Models with several outputs, against Keras: a loss core per output,
its gradient scaled by its loss weight; compile's loss, loss_weights and
metrics as one value, lists and dicts; labels, predictions and the
History (``loss``, ``<output>_loss``, ``<output>_<metric>``, ``val_``
forms, in Keras' order) as Keras 3 gives them; an output that feeds
other layers too; bit identity across slicings; clear refusals."""
import numpy
import pytest

import spiDNN
from spiDNN.layers import Dense, Flatten, Input
from tests.branch_oracle import (
    PREDICT_TOLERANCE, TRAINED_TOLERANCE, keras_optimizer, samples)

N_IN = 10


def two_heads(seed=11, regularizer=None, as_dict=False):
    """x -> Dense(12, relu) -> a softmax head ``cls`` (3 classes) and a
    linear regression head ``reg`` (2 values); a list of outputs, or a
    dict by keys other than the layers' names."""
    import keras
    from keras import layers
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((N_IN,))
    h = layers.Dense(12, activation="relu", name="trunk",
                     kernel_regularizer=regularizer)(inputs)
    cls = layers.Dense(3, activation="softmax", name="cls")(h)
    reg = layers.Dense(2, name="reg", kernel_regularizer=regularizer)(h)
    outputs = {"value": reg, "label": cls} if as_dict else [cls, reg]
    return keras.Model(inputs, outputs)


def labels(n, seed=0):
    """(one-hot labels of 3 classes, regression targets of 2)."""
    rng = numpy.random.default_rng(seed + 1)
    return (numpy.eye(3, dtype=numpy.float32)[rng.integers(0, 3, n)],
            rng.normal(size=(n, 2)).astype(numpy.float32))


LOSSES = ["categorical_crossentropy", "mse"]
LOSS_WEIGHTS = [1.0, 0.5]
METRICS = [["accuracy"], None]


def assert_close(mine, theirs, atol):
    for a, b in zip(mine, theirs):
        numpy.testing.assert_allclose(a, b, rtol=0, atol=atol)


def assert_history_as_keras(history, khistory):
    """Every key, in Keras' order, every value within the tolerance."""
    assert list(history.history) == list(khistory.history)
    for key, values in khistory.history.items():
        numpy.testing.assert_allclose(history.history[key], values, rtol=0,
                                      atol=TRAINED_TOLERANCE, err_msg=key)


def fit_both(kmodel, model, x, y, optimizer, validation, **compile_args):
    for one in (kmodel, model):
        one.compile(optimizer=keras_optimizer(optimizer), **compile_args)
    history = model.fit(x, y, batch_size=16, epochs=1, shuffle=False,
                        verbose=0, validation_data=validation)
    khistory = kmodel.fit(x, y, batch_size=16, epochs=1, shuffle=False,
                          verbose=0, validation_data=validation)
    return history, khistory


def test_predicts_and_evaluates_as_keras():
    kmodel = two_heads()
    x, _ = samples((N_IN,), 70)     # evaluate's batches: 32, 32 and 6
    y = list(labels(70))
    model = spiDNN.from_keras(kmodel)
    assert model.output_names == ["cls", "reg"]
    predicted = model.predict(x)
    assert isinstance(predicted, list) and len(predicted) == 2
    assert_close(predicted, kmodel.predict(x, verbose=0), PREDICT_TOLERANCE)
    for one in (kmodel, model):
        one.compile(optimizer="sgd", loss=LOSSES, loss_weights=LOSS_WEIGHTS,
                    metrics=METRICS)
    # Keras' order: the loss, each output's, then the others by name.
    mine, theirs = model.evaluate(x, y), kmodel.evaluate(x, y, verbose=0)
    assert len(mine) == len(theirs) == 4
    numpy.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-5)
    assert model.evaluate(x, y, return_dict=True).keys() == kmodel.evaluate(
        x, y, verbose=0, return_dict=True).keys()


@pytest.mark.parametrize("optimizer", ["sgd_momentum", "adam"])
def test_an_epoch_with_loss_weights_trains_as_keras(optimizer):
    """A softmax head on categorical_crossentropy with accuracy and a
    regression head on mse weighted 0.5: weights, every History key
    (validation's too) and evaluate after the epoch, as Keras."""
    kmodel = two_heads()
    x, _ = samples((N_IN,), 320)
    y = list(labels(320))
    model = spiDNN.from_keras(kmodel)
    validation = (x[:48], [part[:48] for part in y])
    history, khistory = fit_both(
        kmodel, model, x, y, optimizer, validation, loss=LOSSES,
        loss_weights=LOSS_WEIGHTS, metrics=METRICS)
    assert list(history.history) == [
        "cls_accuracy", "cls_loss", "loss", "reg_loss", "val_cls_accuracy",
        "val_cls_loss", "val_loss", "val_reg_loss"]
    assert_history_as_keras(history, khistory)
    assert_close(model.get_weights(), kmodel.get_weights(),
                 TRAINED_TOLERANCE)
    numpy.testing.assert_allclose(
        model.evaluate(x[:64], [part[:64] for part in y]),
        kmodel.evaluate(x[:64], [part[:64] for part in y], verbose=0),
        rtol=0, atol=TRAINED_TOLERANCE)


def test_the_dict_forms_as_keras():
    """Outputs as a dict (Keras flattens it by its sorted keys and names
    the logs by them); loss, loss_weights, metrics and labels by name;
    predict returns a dict in the order the outputs were given."""
    kmodel = two_heads(as_dict=True)
    x, _ = samples((N_IN,), 128)
    cls, reg = labels(128)
    y = {"label": cls, "value": reg}
    model = spiDNN.from_keras(kmodel)
    assert model.output_names == ["label", "value"]
    predicted = model.predict(x)
    theirs = kmodel.predict(x, verbose=0)
    assert list(predicted) == list(theirs) == ["value", "label"]
    assert_close([predicted[k] for k in theirs], theirs.values(),
                 PREDICT_TOLERANCE)
    history, khistory = fit_both(
        kmodel, model, x, y, "adam", None,
        loss={"value": "mse", "label": "categorical_crossentropy"},
        loss_weights={"label": 0.25, "value": 2.0},
        metrics={"label": "accuracy"})
    assert list(history.history) == [
        "label_accuracy", "label_loss", "loss", "value_loss"]
    assert_history_as_keras(history, khistory)
    assert_close(model.get_weights(), kmodel.get_weights(),
                 TRAINED_TOLERANCE)
    # Back to Keras: the same dict, compiled by name.
    back = model.to_keras()
    assert list(back.output) == ["value", "label"]
    assert back.loss == {"label": "categorical_crossentropy",
                         "value": "mean_squared_error"}
    trained, again = model.predict(x), back.predict(x, verbose=0)
    assert list(again) == list(trained)
    assert_close(again.values(), trained.values(), 1e-6)


def test_one_loss_and_a_flat_metric_list_apply_per_output_as_keras():
    """One loss for every output; a metric list with an entry per output
    (Keras 3's reading of a flat list for several outputs)."""
    import keras
    from keras import layers
    keras.utils.set_random_seed(12)
    inputs = keras.Input((N_IN,))
    h = layers.Dense(8, activation="tanh")(inputs)
    kmodel = keras.Model(inputs, [layers.Dense(3, name="p")(h),
                                  layers.Dense(2, name="q")(h)])
    x, target = samples((N_IN,), 96)
    y = [target[:, :3], target[:, 3:4] * numpy.ones((1, 2), numpy.float32)]
    model = spiDNN.from_keras(kmodel)
    history, khistory = fit_both(kmodel, model, x, y, "sgd_momentum",
                                 (x[:32], [part[:32] for part in y]),
                                 loss="mse", metrics=[None, None])
    assert_history_as_keras(history, khistory)
    assert_close(model.get_weights(), kmodel.get_weights(),
                 TRAINED_TOLERANCE)


def test_an_output_that_feeds_another_layer_trains_as_keras():
    """``feat`` is an output and the source of ``out``: its cores sum
    ``out``'s deltas and its own loss's gradient."""
    import keras
    from keras import layers
    keras.utils.set_random_seed(13)
    inputs = keras.Input((N_IN,))
    feat = layers.Dense(4, activation="tanh", name="feat")(
        layers.Dense(8, activation="relu")(inputs))
    out = layers.Dense(3, activation="softmax", name="out")(feat)
    kmodel = keras.Model(inputs, [feat, out])
    x, target = samples((N_IN,), 128)
    cls, _ = labels(128)
    y = [target, cls]
    model = spiDNN.from_keras(kmodel)
    assert model.output_names == ["feat", "out"]
    assert_close(model.predict(x), kmodel.predict(x, verbose=0),
                 PREDICT_TOLERANCE)
    history, khistory = fit_both(
        kmodel, model, x, y, "adam", None,
        loss=["mse", "categorical_crossentropy"], loss_weights=[0.3, 1.0],
        metrics=[None, ["accuracy"]])
    assert_history_as_keras(history, khistory)
    assert_close(model.get_weights(), kmodel.get_weights(),
                 TRAINED_TOLERANCE)


def test_regularised_outputs_report_the_penalty_as_keras():
    """``loss`` holds the L2 penalties, each output's loss does not."""
    import keras
    kmodel = two_heads(regularizer=keras.regularizers.L2(0.02))
    x, _ = samples((N_IN,), 160)
    y = list(labels(160))
    model = spiDNN.from_keras(kmodel)
    history, khistory = fit_both(
        kmodel, model, x, y, "sgd_momentum", (x[:32], [p[:32] for p in y]),
        loss=LOSSES, loss_weights=LOSS_WEIGHTS, metrics=METRICS)
    assert_history_as_keras(history, khistory)
    assert history.history["loss"][0] > (
        history.history["cls_loss"][0] + 0.5 * history.history["reg_loss"][0])
    assert_close(model.get_weights(), kmodel.get_weights(),
                 TRAINED_TOLERANCE)
    numpy.testing.assert_allclose(
        model.evaluate(x[:32], [p[:32] for p in y]),
        kmodel.evaluate(x[:32], [p[:32] for p in y], verbose=0), rtol=0,
        atol=TRAINED_TOLERANCE)


def test_validation_split_splits_each_outputs_labels_as_keras():
    """88 samples train (a short last batch), 22 validate (one too): each
    output's loss is Keras' mean of its batches' means."""
    kmodel = two_heads(seed=14)
    x, _ = samples((N_IN,), 110)
    y = list(labels(110))
    model = spiDNN.from_keras(kmodel)
    for one in (kmodel, model):
        one.compile(optimizer=keras_optimizer("adam"), loss=LOSSES,
                    metrics=METRICS)
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False,
                        verbose=0, validation_split=0.2)
    khistory = kmodel.fit(x, y, batch_size=16, epochs=2, shuffle=False,
                          verbose=0, validation_split=0.2)
    assert_history_as_keras(history, khistory)


def _native(per_core, flattened=False):
    """Two heads in spiDNN's functional API at ``per_core`` neurons per
    core (None: the planner's); the trunk feeds a head and is an output
    itself; ``flattened``: a third output is a Flatten of the trunk (a
    layer computing two outputs)."""
    x = Input(N_IN, name="x")
    trunk = Dense(6, activation="tanh", neurons_per_core=per_core or 6,
                  name="trunk")(x)
    cls = Dense(3, activation="softmax", neurons_per_core=per_core or 3,
                name="cls")(Dense(5, activation="relu", name="hidden",
                                  neurons_per_core=per_core or 5)(trunk))
    outputs = [cls, trunk] + ([Flatten(name="flat")(trunk)]
                              if flattened else [])
    return spiDNN.Model(x, outputs, seed=5)


@pytest.mark.parametrize("flattened", [False, True])
def test_several_outputs_are_bit_identical_across_slicings(flattened):
    """One neuron per core and whole layers on a core: the same
    predictions, History and weights, bit for bit (an output's own loss
    gradient added after its consumer's deltas, in that order)."""
    x, target = samples((N_IN,), 48)
    cls, _ = labels(48)
    y = [cls, target[:, :1].repeat(6, axis=1)] + (
        [target[:, 1:2].repeat(6, axis=1)] if flattened else [])
    results = []
    for per_core in (1, None):
        model = _native(per_core, flattened)
        model.compile(optimizer="adam",
                      loss=["categorical_crossentropy"] + ["mse"] * (
                          len(y) - 1),
                      loss_weights=[1.0, 0.7] + [0.2] * (len(y) - 2),
                      metrics=[["accuracy"]] + [None] * (len(y) - 1))
        history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False,
                            verbose=0, validation_data=(x[:8], [
                                part[:8] for part in y]))
        results.append((model.predict(x), history.history,
                        model.get_weights(), model.plan))
    (p1, h1, w1, plan1), (p2, h2, w2, plan2) = results
    assert plan1.layer("trunk").n_cores == 6
    assert plan2.layer("trunk").n_cores < 6
    assert all(numpy.array_equal(a, b) for a, b in zip(p1, p2))
    assert h1 == h2
    assert all(numpy.array_equal(a, b) for a, b in zip(w1, w2))


def test_a_layer_computing_two_outputs_predicts_both():
    model = _native(None, flattened=True)
    x, _ = samples((N_IN,), 5)
    trunk, flat = model.predict(x)[1:]
    assert trunk.shape == flat.shape == (5, 6)
    assert numpy.array_equal(trunk, flat)
    assert model.last_run.cores == sum(
        layer.n_cores for layer in model.plan.layers)


def test_summary_lists_the_outputs():
    model = spiDNN.from_keras(two_heads(as_dict=True))
    text = model.summary(print_fn=None)
    assert "Outputs (each with a loss core, training): label: cls, " \
           "value: reg" in text
    model.compile(optimizer="sgd", loss=LOSSES[::-1])
    x, _ = samples((N_IN,), 8)
    cls, reg = labels(8)
    model.fit(x, {"label": cls, "value": reg}, verbose=0)
    report = model.last_run.packets_per_sample
    assert {"loss_label/loss", "loss_value/loss"} <= set(report)


def test_spidnn_keras_fit_trains_a_two_output_model():
    kmodel = two_heads(seed=15)
    reference = two_heads(seed=15)
    x, _ = samples((N_IN,), 64)
    y = list(labels(64))
    for one in (kmodel, reference):
        one.compile(optimizer=keras_optimizer("adam"), loss=LOSSES,
                    loss_weights=LOSS_WEIGHTS, metrics=METRICS)
    history = spiDNN.keras.fit(kmodel, x, y, batch_size=16, shuffle=False,
                               verbose=0)
    khistory = reference.fit(x, y, batch_size=16, shuffle=False, verbose=0)
    assert_history_as_keras(history, khistory)
    assert_close(kmodel.get_weights(), reference.get_weights(),
                 TRAINED_TOLERANCE)


def test_a_keras_file_keeps_the_outputs_and_compile_settings(tmp_path):
    model = spiDNN.from_keras(two_heads(seed=16))
    model.compile(optimizer="adam", loss=LOSSES, loss_weights=[2.0, 1.0],
                  metrics=METRICS)
    x, _ = samples((N_IN,), 32)
    y = list(labels(32))
    model.fit(x, y, batch_size=8, verbose=0, shuffle=False)
    path = str(tmp_path / "heads.keras")
    model.save(path)
    loaded = spiDNN.load_model(path)
    assert loaded.output_names == ["cls", "reg"]
    assert loaded.loss == ["categorical_crossentropy", "mean_squared_error"]
    assert loaded.loss_weights == [2.0, 1.0]
    assert_close(loaded.predict(x), model.predict(x), 0)
    # Both go on training from the same optimizer state: the same bits.
    first = model.fit(x, y, batch_size=8, verbose=0, shuffle=False)
    second = loaded.fit(x, y, batch_size=8, verbose=0, shuffle=False)
    assert first.history == second.history


# ----------------------------------------------- refusals (unit tier)
def _model():
    x = Input(4)
    h = Dense(5, name="h")(x)
    return spiDNN.Model(x, [Dense(3, activation="softmax", name="a")(h),
                            Dense(2, name="b")(h)])


@pytest.mark.unit
@pytest.mark.parametrize("settings, words", [
    ({"loss": ["mse"]}, "a list of 1, but the model has 2 output"),
    ({"loss": {"a": "mse", "c": "mse"}}, "'c' is not an output; 'b' missing"),
    ({"loss": ["mse", None]}, "gives 'b' no loss"),
    ({"loss": "mse", "loss_weights": 0.5}, "give a list of 2"),
    ({"loss": "mse", "loss_weights": [1.0, 2.0, 3.0]}, "a list of 3"),
    ({"loss": "mse", "loss_weights": {"a": 1.0}}, "'b' missing"),
    ({"loss": "mse", "loss_weights": [1.0, "x"]}, "for b: a finite number"),
    ({"loss": "mse", "metrics": ["accuracy"]}, "a list of 1 for a model of"),
    ({"loss": "mse", "metrics": "accuracy"}, "entry per output"),
    ({"loss": "mse", "metrics": {"c": "accuracy"}}, "name 'c', not an output"),
])
def test_compile_refuses_what_does_not_match_the_outputs(settings, words):
    with pytest.raises(spiDNN.SpiDNNConfigurationError, match=words):
        _model().compile(optimizer="sgd", **settings)


@pytest.mark.unit
def test_labels_that_do_not_match_the_outputs_are_refused():
    model = _model()
    model.compile(optimizer="sgd", loss=["categorical_crossentropy", "mse"])
    x = numpy.zeros((4, 4), numpy.float32)
    a, b = numpy.eye(3, dtype=numpy.float32)[[0, 1, 2, 0]], x[:, :2]
    for y, words in (
            (a, "give their labels as a list of 2 arrays"),
            ([a], "not a list of 1"),
            ({"a": a, "c": b}, "'c' is not an output; 'b' missing"),
            ([a, x[:3, :2]], "4 input samples but 3 labels of b"),
            ([b, a], r"labels of shape \(4, 3\)")):
        with pytest.raises(spiDNN.SpiDNNConfigurationError, match=words):
            model.fit(x, y, verbose=0)


@pytest.mark.unit
def test_an_output_whose_loss_takes_logits_cannot_feed_other_layers():
    x = Input(4)
    a = Dense(3, activation="softmax", name="a")(x)
    model = spiDNN.Model(x, [a, Dense(2, name="b")(a)])
    model.compile(optimizer="sgd", loss=["categorical_crossentropy", "mse"])
    with pytest.raises(spiDNN.SpiDNNConfigurationError,
                       match="a: the categorical_crossentropy of output 'a' "
                             "is taken from its softmax's logits.*feeds b"):
        model.fit(numpy.zeros((3, 4)), [numpy.eye(3), numpy.zeros((3, 2))],
                  verbose=0)


@pytest.mark.unit
def test_outputs_given_badly_are_refused():
    x = Input(4)
    h = Dense(3)(x)
    for outputs, words in (([h, h], "outputs once each"),
                           ({1: h}, "names \\(str\\) as keys"),
                           ([h, x], "is an Input")):
        with pytest.raises(spiDNN.SpiDNNConfigurationError, match=words):
            spiDNN.Model(x, outputs)


@pytest.mark.live
def test_live_io_refuses_several_outputs_naming_why():
    model = _model()
    model.live_io = spiDNN.LiveIO()
    with pytest.raises(spiDNN.SpiDNNConfigurationError,
                       match="listens to one output layer and one loss core"):
        model.predict(numpy.zeros((2, 4), numpy.float32))
