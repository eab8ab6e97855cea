"""Keras in, Keras out: from_keras, to_keras and spiDNN.keras.fit, with
every Keras setting spiDNN cannot compute refused rather than ignored."""
import numpy
import pytest

import spiDNN
from spiDNN.errors import SpiDNNConfigurationError

RNG = numpy.random.default_rng(0)
X = RNG.normal(size=(20, 9, 9, 1)).astype(numpy.float32)
Y = numpy.arange(20) % 3


def keras_cnn(seed=0):
    import keras
    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((9, 9, 1)), keras.layers.ZeroPadding2D(1),
        keras.layers.Conv2D(3, 3), keras.layers.Activation("relu"),
        keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
        keras.layers.Dropout(0.0), keras.layers.Dense(5, activation="tanh"),
        keras.layers.Dense(3, activation="softmax")])


def test_from_keras_predicts_like_keras():
    kmodel = keras_cnn()
    model = spiDNN.from_keras(kmodel)
    assert [type(layer).__name__ for layer in model.layers] == [
        "ZeroPadding2D", "Conv2D", "MaxPooling2D", "Flatten", "Dropout",
        "Dense", "Dense"]
    assert model.layers[1].activation == "relu"   # the Activation, folded
    for ours, theirs in zip(model.get_weights(), kmodel.get_weights()):
        numpy.testing.assert_array_equal(ours, theirs)
    numpy.testing.assert_allclose(model.predict(X),
                                  kmodel.predict(X, verbose=0), atol=1e-5)


def test_a_functional_chain_converts():
    import keras
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(3, activation="relu")(inputs)
    kmodel = keras.Model(inputs, keras.layers.Dense(2)(hidden))
    model = spiDNN.from_keras(kmodel)
    x = RNG.normal(size=(5, 4)).astype(numpy.float32)
    numpy.testing.assert_allclose(model.predict(x),
                                  kmodel.predict(x, verbose=0), atol=1e-5)


def _refusal_cases():
    import keras
    layers = keras.layers
    return [
        ((4,), layers.Dense(3, activity_regularizer="l2"),
         "activity_regularizer"),
        ((4,), layers.Dense(3, kernel_regularizer=(
            keras.regularizers.OrthogonalRegularizer())),
         "kernel_regularizer"),
        ((7, 7, 1), layers.Conv2D(2, 3, dilation_rate=2), "dilation_rate"),
        ((7, 1), layers.Conv1D(2, 3, padding="causal"), "causal"),
        ((4,), layers.BatchNormalization(), "no such layer"),
        ((5, 5, 1), layers.Dense(3), "last axis"),
        ((4,), layers.Dropout(0.5, noise_shape=(1, 4)), "noise_shape"),
    ]


@pytest.mark.unit
@pytest.mark.parametrize("index", range(7))
def test_what_spiDNN_cannot_run_exactly_is_refused(index):
    import keras
    shape, layer, setting = _refusal_cases()[index]
    kmodel = keras.Sequential([keras.Input(shape), layer])
    with pytest.raises(SpiDNNConfigurationError, match=setting) as error:
        spiDNN.from_keras(kmodel)
    assert layer.name in str(error.value)


@pytest.mark.unit
def test_a_branching_model_converts_and_a_shared_layer_too():
    import keras
    inputs = keras.Input((4,))
    left, right = keras.layers.Dense(3)(inputs), keras.layers.Dense(3)(inputs)
    kmodel = keras.Model(inputs, keras.layers.Add()([left, right]))
    model = spiDNN.from_keras(kmodel)
    assert model.functional and type(model.layers[-1]).__name__ == "Add"
    shared = keras.layers.Dense(4, name="twice")
    twice = keras.Model(inputs, shared(shared(inputs)))
    model = spiDNN.from_keras(twice)
    assert [layer.name for layer in model.layers] == ["twice", "twice[1]"]
    assert model.layers[1].shares is model.layers[0]
    assert len(model.get_weights()) == 2


def test_to_keras_makes_the_implicit_flatten_explicit():
    from spiDNN.layers import Conv2D, Dense, Input
    model = spiDNN.Model(seed=0).add(Input(6, 6, 2))
    model.add(Conv2D(2, 3, activation="tanh")).add(Dense(3))
    kmodel = model.to_keras()
    assert [type(layer).__name__ for layer in kmodel.layers] == [
        "Conv2D", "Flatten", "Dense"]
    x = RNG.normal(size=(4, 6, 6, 2)).astype(numpy.float32)
    numpy.testing.assert_allclose(kmodel.predict(x, verbose=0),
                                  model.predict(x), atol=1e-5)


def test_keras_fit_trains_on_the_machine_and_writes_back():
    import keras
    from conftest import keras_train
    kmodel, reference = keras_cnn(), keras_cnn()
    kmodel.compile(optimizer=keras.optimizers.SGD(0.1),
                   loss="sparse_categorical_crossentropy")
    initial = kmodel.get_weights()
    history = spiDNN.keras.fit(kmodel, X, Y, epochs=2, batch_size=7,
                               shuffle=False, verbose=0)
    keras_train(reference, X, Y, "sparse_categorical_crossentropy", 0.1, 2, 7)
    assert len(history.history["loss"]) == 2 and history.epoch == [0, 1]
    assert history.model is kmodel
    moved = max(numpy.abs(a - b).max()
                for a, b in zip(kmodel.get_weights(), initial))
    assert moved > 1e-2
    for ours, theirs in zip(kmodel.get_weights(), reference.get_weights()):
        numpy.testing.assert_allclose(ours, theirs, atol=1e-4)


def _compile_refusals():
    import keras
    return [
        (dict(optimizer=keras.optimizers.SGD(0.1, use_ema=True)),
         "use_ema"),
        (dict(optimizer=keras.optimizers.SGD(0.1, loss_scale_factor=2.0)),
         "loss_scale_factor"),
        (dict(optimizer=keras.optimizers.Nadam(gradient_accumulation_steps=2)),
         "gradient_accumulation_steps"),
        (dict(optimizer=keras.optimizers.Ftrl()), "Ftrl"),
        (dict(optimizer="adafactor"), "unknown optimizer Keras Adafactor"),
        (dict(loss=keras.losses.CategoricalFocalCrossentropy()),
         "CategoricalFocalCrossentropy"),
        (dict(loss=keras.losses.SparseCategoricalCrossentropy(
            ignore_class=0)), "ignore_class"),
        (dict(metrics=["auc"]), "metric 'auc'"),
    ]


@pytest.mark.unit
@pytest.mark.parametrize("index", range(8))
def test_keras_fit_refuses_settings_it_would_ignore(index):
    settings, match = _compile_refusals()[index]
    kmodel = keras_cnn()
    kmodel.compile(**{"optimizer": "sgd",
                      "loss": "sparse_categorical_crossentropy",
                      **settings})
    before = kmodel.get_weights()
    with pytest.raises(SpiDNNConfigurationError, match=match):
        spiDNN.keras.fit(kmodel, X, Y, verbose=0)
    for ours, theirs in zip(kmodel.get_weights(), before):
        numpy.testing.assert_array_equal(ours, theirs)


def test_a_model_takes_its_layers_as_keras_sequential_does():
    from spiDNN.layers import Dense, Input
    model = spiDNN.Model([Input(8), Dense(3, activation="softmax")], seed=0)
    assert model.predict(numpy.ones((2, 8))).shape == (2, 3)
    with pytest.raises(SpiDNNConfigurationError, match="list of layers"):
        spiDNN.Model(0)


# Keras' h5 weight reader trips a numpy 2 deprecation inside Keras itself.
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_save_and_load_as_keras_files(tmp_path):
    import keras
    kmodel = keras_cnn()
    model = spiDNN.from_keras(kmodel, seed=0)
    model.fit(X, Y, loss="sparse_categorical_crossentropy", epochs=1,
              batch_size=5, learning_rate=0.1, verbose=0)
    trained = model.get_weights()
    # Weights: a fresh model of the same layers reads them back; so does
    # Keras.
    model.save_weights(tmp_path / "model.weights.h5")
    fresh = spiDNN.from_keras(keras_cnn(seed=1))
    fresh.load_weights(tmp_path / "model.weights.h5")
    other = keras_cnn(seed=2)
    other.load_weights(tmp_path / "model.weights.h5")
    for ours, keras_read, theirs in zip(
            fresh.get_weights(), other.get_weights(), trained):
        numpy.testing.assert_array_equal(ours, theirs)
        numpy.testing.assert_array_equal(keras_read, theirs)
    # The whole model, as a .keras file.
    model.save(tmp_path / "model.keras")
    loaded = spiDNN.load_model(tmp_path / "model.keras")
    assert [type(layer).__name__ for layer in loaded.layers] == [
        type(layer).__name__ for layer in model.layers]
    numpy.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    reference = keras.models.load_model(tmp_path / "model.keras")
    numpy.testing.assert_allclose(reference.predict(X, verbose=0),
                                  model.predict(X), atol=1e-5)


def _one_layer_models():
    import keras
    L = keras.layers
    return {
        "Dense": ((6,), [L.Dense(4, activation="sigmoid")]),
        "Conv1D": ((9, 2), [L.Conv1D(3, 2, strides=2, padding="same",
                                     activation="relu")]),
        "Conv2D": ((7, 7, 2), [L.Conv2D(3, (3, 2), strides=(2, 1),
                                        activation="tanh")]),
        "MaxPooling1D": ((8, 2), [L.MaxPooling1D(2)]),
        "AveragePooling1D": ((8, 2), [L.AveragePooling1D(3, strides=2)]),
        "MaxPooling2D": ((6, 6, 2), [L.MaxPooling2D(2)]),
        "AveragePooling2D": ((6, 6, 2), [L.AveragePooling2D(
            2, padding="same")]),
        "ZeroPadding2D": ((4, 4, 1), [L.ZeroPadding2D(((1, 0), (2, 1)))]),
        "GlobalMaxPooling1D": ((8, 2), [L.GlobalMaxPooling1D()]),
        "GlobalAveragePooling2D": ((6, 5, 2), [L.GlobalAveragePooling2D(
            keepdims=True)]),
        "Flatten": ((3, 3, 2), [L.Flatten(), L.Dense(2)]),
        "Reshape": ((3, 3, 2), [L.Reshape((-1, 3)), L.Conv1D(2, 2)]),
        "Dropout": ((6,), [L.Dense(5), L.Dropout(0.3), L.Dense(2)]),
        "Activation": ((6,), [L.Dense(5), L.Activation("tanh")]),
    }


@pytest.mark.unit
@pytest.mark.parametrize("kind", sorted(_one_layer_models()))
def test_round_trip_through_spiDNN_keeps_predictions(kind):
    """kmodel -> from_keras -> to_keras predicts as kmodel did, to 1e-6,
    for every layer spiDNN has."""
    import keras
    shape, layers = _one_layer_models()[kind]
    keras.utils.set_random_seed(3)
    kmodel = keras.Sequential([keras.Input(shape)] + layers)
    x = RNG.normal(size=(5,) + shape).astype(numpy.float32)
    back = spiDNN.from_keras(kmodel).to_keras()
    numpy.testing.assert_allclose(back.predict(x, verbose=0),
                                  kmodel.predict(x, verbose=0), atol=1e-6)


@pytest.mark.unit
def test_every_unsupported_layer_and_setting_is_named_at_once():
    """One error lists them all, by the names and arguments the user
    wrote, with no config dicts or object reprs; a residual merge is
    named, and a layer applied twice."""
    import keras
    kmodel = keras.Sequential([
        keras.Input((8, 8, 3)),
        keras.layers.Conv2D(4, 3, dilation_rate=2, name="stem",
                            activity_regularizer=keras.regularizers.L2(1e-4)),
        keras.layers.BatchNormalization(name="bn"),
        keras.layers.LayerNormalization(),
        keras.layers.GlobalAveragePooling2D(data_format="channels_first"),
        keras.layers.Dense(3)])
    with pytest.raises(SpiDNNConfigurationError) as error:
        spiDNN.from_keras(kmodel)
    message = str(error.value)
    for expected in ("5 thing(s) to change",
                     "'stem' (Conv2D): dilation_rate=(2, 2) (spiDNN "
                     "supports 1)",
                     "'stem' (Conv2D): activity_regularizer=L2(l2=0.0001) "
                     "(spiDNN computes kernel_regularizer and "
                     "bias_regularizer",
                     "'bn' (BatchNormalization): spiDNN has no such layer",
                     "(LayerNormalization): spiDNN has no such layer",
                     "(GlobalAveragePooling2D): data_format="
                     "'channels_first' (spiDNN supports 'channels_last')"):
        assert expected in message
    assert "{" not in message and " at 0x" not in message
    images, small = keras.Input((6, 6, 1)), keras.Input((5, 5, 2))
    x = keras.layers.Conv2D(2, 3, name="first")(images)
    shared = keras.layers.Conv2D(2, 1, name="shared")
    y = keras.layers.Concatenate()([
        keras.layers.Flatten()(shared(x)),
        keras.layers.Flatten()(shared(small))])
    two = keras.Model([images, small],
                      keras.layers.Dense(2, name="out")(y))
    with pytest.raises(SpiDNNConfigurationError) as error:
        spiDNN.from_keras(two)
    message = str(error.value)
    assert ("'shared' (Conv2D): shared (Conv2D) is applied to inputs of "
            "shape (4, 4, 2) and now (5, 5, 2)") in message
    assert "'out'" not in message and "'first'" not in message
