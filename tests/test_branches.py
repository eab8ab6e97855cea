"""Models that branch and merge, against Keras: the functional API,
Keras' demo_functional.py, a residual CNN, Inception-style
concatenation, every merge and standalone activation, fan-out gradients
summed in a fixed order (bit-identical whatever the slicing)."""
import numpy
import pytest

import spiDNN
from spiDNN.layers import (
    Add, Concatenate, Dense, Input, ReLU)
from tests.branch_oracle import (
    assert_predicts_as_keras, assert_trains_as_keras, samples)


def demo_functional(n_in=24, width=16, n_out=4):
    """Keras' examples/demo_functional.py, narrower: a residual MLP with
    ``x += residual``."""
    import keras
    keras.utils.set_random_seed(1)
    inputs = keras.layers.Input((n_in,))
    x = keras.layers.Dense(width, activation="relu")(inputs)
    residual = x
    x = keras.layers.Dense(width, activation="relu")(x)
    x = keras.layers.Dense(width, activation="relu")(x)
    x += residual
    outputs = keras.layers.Dense(n_out)(x)
    return keras.Model(inputs, outputs)


def test_demo_functional_as_written_adam_mse():
    """Adam and MSE as the demo compiles them."""
    kmodel = demo_functional()
    x, y = samples((24,), 256)
    model = assert_predicts_as_keras(kmodel, x)
    assert [type(layer).__name__ for layer in model.layers] == [
        "Dense", "Dense", "Dense", "Add", "Dense"]
    assert_trains_as_keras(kmodel, x, y, "mse", "adam", batch_size=32)


def residual_cnn(projection=True, seed=2):
    """A stem Conv2D, a block added to its identity and a block added to
    a strided 1x1 projection, each Conv2D(use_bias=False) -> ReLU ->
    Conv2D, ReLU after the add; GlobalAveragePooling2D, softmax Dense."""
    import keras
    from keras import layers
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, 1))
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    for filters, strides in ((4, 1), (6, 2) if projection else (4, 1)):
        y = layers.Conv2D(filters, 3, strides=strides, padding="same",
                          use_bias=False)(x)
        y = layers.ReLU()(y)
        y = layers.Conv2D(filters, 3, padding="same")(y)
        shortcut = (layers.Conv2D(filters, 1, strides=strides)(x)
                    if strides != 1 or filters != x.shape[-1] else x)
        x = layers.ReLU()(layers.Add()([y, shortcut]))
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(3, activation="softmax")(x)
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("optimizer", ["sgd_momentum", "adam"])
def test_residual_cnn_trains_as_keras(optimizer):
    kmodel = residual_cnn()
    x, y = samples((8, 8, 1), 96, classes=3)
    model = assert_predicts_as_keras(kmodel, x)
    kinds = [type(layer).__name__ for layer in model.layers]
    # The ReLUs after a convolution fold into it; those after an Add
    # take cores of their own.
    assert kinds.count("Add") == 2 and kinds.count("ReLU") == 2
    assert_trains_as_keras(kmodel, x, y, "categorical_crossentropy",
                           optimizer)


def inception(seed=3):
    """Branches of 1x1, 3x3 and pooled convolutions, concatenated along
    the channels, then a flat concatenation with the raw input."""
    import keras
    from keras import layers
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((6, 6, 2))
    a = layers.Conv2D(2, 1, activation="relu")(inputs)
    b = layers.Conv2D(3, 3, padding="same", activation="tanh")(inputs)
    c = layers.Conv2D(2, 1)(layers.MaxPooling2D(3, strides=1,
                                                padding="same")(inputs))
    x = layers.Concatenate()([a, b, c])
    x = layers.Flatten()(layers.MaxPooling2D(2)(x))
    x = layers.Concatenate()([x, layers.Flatten()(inputs)])
    return keras.Model(inputs, layers.Dense(4, activation="softmax")(x))


def test_inception_concatenation_trains_as_keras():
    kmodel = inception()
    x, y = samples((6, 6, 2), 64, classes=4)
    assert_predicts_as_keras(kmodel, x)
    assert_trains_as_keras(kmodel, x, y, "categorical_crossentropy", "adam")


MERGES = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
          "Concatenate"]


def merged(kind, seed=4):
    """x -> Dense a -> Dense b; kind([a, b] (+ a third branch where the
    merge takes more)), then a Dense: a fans out to b and the merge."""
    import keras
    from keras import layers
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((6,))
    a = layers.Dense(5, activation="tanh")(inputs)
    b = layers.Dense(5, activation="relu")(a)
    branches = [a, b]
    if kind not in ("Subtract",):
        branches.append(layers.Dense(5, activation="sigmoid")(inputs))
    x = getattr(layers, kind)()(branches)
    return keras.Model(inputs, layers.Dense(3)(x))


@pytest.mark.parametrize("kind", MERGES)
def test_each_merge_trains_as_keras(kind):
    kmodel = merged(kind)
    x, y = samples((6,), 64)
    assert_predicts_as_keras(kmodel, x)
    assert_trains_as_keras(kmodel, x, y[:, :3], "mse", "sgd_momentum")


def _graph(kind, per_core):
    """merged(kind) in spiDNN's functional API at ``per_core`` neurons
    per core (None: the planner's)."""
    from spiDNN import layers
    x = Input(6)
    a = Dense(5, activation="tanh", neurons_per_core=per_core or 5)(x)
    b = Dense(5, activation="relu", neurons_per_core=per_core or 5)(a)
    branches = [a, b]
    if kind != "Subtract":
        branches.append(Dense(5, activation="sigmoid",
                              neurons_per_core=per_core or 5)(x))
    merge = getattr(layers, kind)(
        neurons_per_core=(per_core if kind != "Concatenate" else None)
        or "auto")(branches)
    return spiDNN.Model(x, Dense(3, neurons_per_core=per_core or 3)(merge),
                        seed=7)


@pytest.mark.parametrize("kind", MERGES)
def test_merges_and_fan_out_are_bit_identical_across_slicings(kind):
    """One neuron per core and every neuron on one core: the same bits,
    predicted and trained (the fan-out's two gradients summed in the
    model's order, whatever order they arrive in)."""
    x, y = samples((6,), 24)
    results = []
    for per_core in (1, None):
        model = _graph(kind, per_core)
        model.compile(optimizer="adam", loss="mse")
        model.fit(x, y[:, :3], batch_size=8, epochs=1, shuffle=False,
                  verbose=0)
        results.append((model.predict(x), model.get_weights()))
    (p1, w1), (p2, w2) = results
    assert numpy.array_equal(p1, p2)
    assert all(numpy.array_equal(a, b) for a, b in zip(w1, w2))


def test_standalone_activations_and_rescaling_as_keras():
    """Rescaling first, a ReLU after an Add, a Softmax output layer of its
    own (after an Add; after a Dense it folds into it)."""
    import keras
    from keras import layers
    keras.utils.set_random_seed(5)
    inputs = keras.Input((5,))
    x = layers.Rescaling(0.5, offset=-0.25)(inputs)
    a = layers.Dense(6)(x)
    b = layers.Dense(6, activation="tanh")(x)
    h = layers.ReLU()(layers.Add()([a, b]))
    h = layers.Activation("sigmoid")(layers.Maximum()([h, b]))
    logits = layers.Add()([layers.Dense(3)(h), layers.Dense(3)(x)])
    outputs = layers.Softmax()(logits)
    kmodel = keras.Model(inputs, outputs)
    x, y = samples((5,), 64, classes=3)
    model = assert_predicts_as_keras(kmodel, x)
    assert [type(layer).__name__ for layer in model.layers] == [
        "Rescaling", "Dense", "Dense", "Add", "ReLU", "Maximum",
        "Activation", "Dense", "Dense", "Add", "Softmax"]
    assert model.layers[-1].activation == "softmax"
    assert_trains_as_keras(kmodel, x, y, "categorical_crossentropy",
                           "sgd_momentum")


def test_nested_sequential_is_flattened():
    import keras
    from keras import layers
    keras.utils.set_random_seed(6)
    block = keras.Sequential([keras.Input((8,)),
                              layers.Dense(8, activation="relu"),
                              layers.Dense(8)], name="block")
    inputs = keras.Input((4,))
    x = layers.Dense(8, activation="tanh")(inputs)
    x = layers.Add()([block(x), x])
    kmodel = keras.Model(inputs, layers.Dense(2)(x))
    x, y = samples((4,), 48)
    model = assert_predicts_as_keras(kmodel, x)
    assert len(model.layers) == 5
    assert_trains_as_keras(kmodel, x, y[:, :2], "mse", "adam")


def test_functional_model_round_trips_through_keras(tmp_path):
    x = Input(4)
    a = Dense(6, activation="relu")(x)
    b = Dense(6)(a)
    out = Dense(2, activation="softmax")(ReLU()(a + b))
    model = spiDNN.Model(x, out, seed=3)
    kmodel = model.to_keras()
    inputs = samples((4,), 16)[0]
    numpy.testing.assert_allclose(kmodel.predict(inputs, verbose=0),
                                  model.predict(inputs), atol=1e-6)
    path = str(tmp_path / "graph.keras")
    model.save(path)
    loaded = spiDNN.load_model(path)
    assert [layer.name for layer in loaded.layers] == [
        layer.name for layer in model.layers]
    assert numpy.array_equal(loaded.predict(inputs), model.predict(inputs))


# ------------------------------------------------- the API (unit tier)
@pytest.mark.unit
def test_functional_api_builds_a_graph_and_summary_shows_inputs():
    x = Input(3)
    a = Dense(4, name="a")(x)
    b = Dense(4, name="b")(a)
    merged = a + b
    assert isinstance(merged, Add) and merged.shape == (None, 4)
    model = spiDNN.Model(inputs=x, outputs=Dense(2, name="out")(merged))
    assert [layer.name for layer in model.layers] == ["a", "b", merged.name,
                                                      "out"]
    text = model.summary(print_fn=None)
    assert "Connected to" in text
    assert f"{merged.name} (Add)" in text and "a, b" in text


@pytest.mark.unit
def test_functional_api_errors_name_what_to_change():
    x = Input(3)
    a = Dense(4)(x)
    with pytest.raises(spiDNN.SpiDNNConfigurationError,
                       match="takes a list of inputs"):
        Add()(a)
    with pytest.raises(spiDNN.SpiDNNConfigurationError,
                       match="one input, not a list"):
        Dense(2)([a, a])
    with pytest.raises(spiDNN.SpiDNNConfigurationError,
                       match="inputs of shape \\(3,\\) and now \\(5,\\).*one "
                             "shape"):
        a(Input(5))
    with pytest.raises(spiDNN.SpiDNNConfigurationError,
                       match="merges inputs of one shape"):
        Add()([a, Dense(5)(x)])
    model = spiDNN.Model(x, Dense(2)(a))
    with pytest.raises(spiDNN.SpiDNNConfigurationError,
                       match="functional API"):
        model.add(Dense(2))
    with pytest.raises(spiDNN.SpiDNNConfigurationError,
                       match="spiDNN.Model\\(inputs, outputs\\)"):
        spiDNN.Model([Input(3), Concatenate()])


@pytest.mark.unit
def test_layers_the_output_does_not_need_are_left_out():
    """As Keras: a branch the output does not depend on is no part of the
    model (and its layers stay free for another)."""
    x = Input(3)
    a = Dense(4)(x)
    unused = Dense(2)(a)
    out = Dense(4)(a)
    model = spiDNN.Model(x, out)
    assert model.layers == [a, out] and unused.model is None


@pytest.mark.unit
def test_a_dropout_before_a_fan_out_is_refused():
    from spiDNN.layers import Dropout
    x = Input(3)
    a = Dense(4)(x)
    Dense(4)(a)
    d = Dropout(0.5)(a)
    with pytest.raises(spiDNN.SpiDNNConfigurationError,
                       match="feeds other layers too"):
        spiDNN.Model(x, Add()([Dense(4)(d), Dense(4)(a)]))


@pytest.mark.unit
def test_keras_models_with_several_problems_name_them_all():
    import keras
    from keras import layers
    inputs = keras.Input((4,))
    x = layers.Dense(4, activity_regularizer="l2")(inputs)
    shared = layers.Dense(4)      # applied twice: shared, as Keras
    y = shared(shared(x))
    z = layers.LayerNormalization()(y)
    kmodel = keras.Model(inputs, [layers.Dense(2)(z), x])
    with pytest.raises(spiDNN.SpiDNNConfigurationError) as error:
        spiDNN.from_keras(kmodel)
    text = str(error.value)
    for part in ("2 thing(s) to change",
                 "activity_regularizer=", "LayerNormalization"):
        assert part in text, text
    assert "{" not in text


@pytest.mark.unit
def test_operator_forms_become_merges():
    import keras
    inputs = keras.Input((3,))
    a = keras.layers.Dense(3)(inputs)
    b = keras.layers.Dense(3)(inputs)
    kmodel = keras.Model(inputs, keras.layers.Dense(1)((a - b) * a + b))
    model = spiDNN.from_keras(kmodel)
    assert [type(layer).__name__ for layer in model.layers
            if layer.merges] == ["Subtract", "Multiply", "Add"]
    scaled = keras.Model(inputs, keras.layers.Dense(1)(a * 2.0))
    with pytest.raises(spiDNN.SpiDNNConfigurationError,
                       match="two tensors of one shape"):
        spiDNN.from_keras(scaled)


def two_inputs(seed=8):
    """An image through a convolution and a vector through a Dense,
    concatenated; the vector also added to a projection of the image."""
    import keras
    from keras import layers
    keras.utils.set_random_seed(seed)
    image = keras.Input((6, 6, 1), name="image")
    vector = keras.Input((5,), name="vector")
    seen = layers.Flatten()(layers.Conv2D(2, 3, activation="relu")(image))
    projected = layers.Dense(5, activation="tanh")(seen)
    mixed = layers.Add()([projected, vector])
    joined = layers.Concatenate()([mixed, layers.Dense(4)(vector)])
    return keras.Model([image, vector],
                       layers.Dense(3, activation="softmax")(joined))


def test_a_two_input_model_trains_as_keras():
    kmodel = two_inputs()
    images, y = samples((6, 6, 1), 64, classes=3)
    vectors, _ = samples((5,), 64, seed=1)
    model = spiDNN.from_keras(kmodel)
    assert [one.name for one in model.inputs] == ["image", "vector"]
    numpy.testing.assert_allclose(
        model.predict([images, vectors]),
        kmodel.predict([images, vectors], verbose=0), atol=1e-5)
    by_name = model.predict({"vector": vectors, "image": images})
    assert numpy.array_equal(by_name, model.predict([images, vectors]))
    kmodel.compile(optimizer="adam", loss="categorical_crossentropy")
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    history = model.fit([images, vectors], y, batch_size=16, epochs=1,
                        shuffle=False, verbose=0, validation_split=0.25)
    khistory = kmodel.fit([images, vectors], y, batch_size=16, epochs=1,
                          shuffle=False, verbose=0, validation_split=0.25)
    for key in ("loss", "val_loss"):
        numpy.testing.assert_allclose(history.history[key],
                                      khistory.history[key], atol=1e-4)
    for mine, theirs in zip(model.get_weights(), kmodel.get_weights()):
        numpy.testing.assert_allclose(mine, theirs, atol=1e-4)
    back = model.to_keras()
    numpy.testing.assert_allclose(
        back.predict([images, vectors], verbose=0),
        model.predict([images, vectors]), atol=1e-6)


@pytest.mark.unit
def test_several_inputs_are_checked_by_count_and_shape():
    a, b = Input(3, name="a"), Input(2, name="b")
    model = spiDNN.Model([a, b], Dense(2)(Concatenate()([a, b])))
    assert model.n_inputs == 5
    with pytest.raises(spiDNN.SpiDNNConfigurationError,
                       match="2 Inputs \\(a, b\\)"):
        model.predict(numpy.zeros((4, 3)))
    with pytest.raises(spiDNN.SpiDNNConfigurationError,
                       match="inputs of b must have shape"):
        model.predict([numpy.zeros((4, 3)), numpy.zeros((4, 3))])
    with pytest.raises(spiDNN.SpiDNNConfigurationError,
                       match="different numbers of samples"):
        model.predict([numpy.zeros((4, 3)), numpy.zeros((5, 2))])
