"""Keras' ``trainable=False`` on the machine, TensorFlow CPU the oracle:
a frozen layer's weights stay exactly (no gradients, no update, no
regulariser penalty in the loss, no optimizer state in Keras' optimizer),
while gradients flow through it to the layers before; through
``from_keras``, ``spiDNN.keras.fit``, ``to_keras`` and ``.keras`` files.
And layer names must be unique, as Keras requires."""
import numpy
import pytest

import spiDNN
from branch_oracle import assert_trains_as_keras, samples
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers import Dense, Input

N_SAMPLES = 192


def keras_mlp(frozen):
    """Dense(8) -> Dense(5, L2) -> Dense(3, softmax), the layers named in
    ``frozen`` frozen."""
    import keras
    x = keras.Input((6,))
    h = keras.layers.Dense(8, activation="relu", name="first")(x)
    h = keras.layers.Dense(5, activation="tanh", name="middle",
                           kernel_regularizer=keras.regularizers.L2(0.1))(h)
    kmodel = keras.Model(x, keras.layers.Dense(
        3, activation="softmax", name="last")(h))
    for name in frozen:
        kmodel.get_layer(name).trainable = False
    return kmodel


def keras_cnn():
    """A frozen Conv2D before a trained one: its gradients pass."""
    import keras
    x = keras.Input((6, 6, 1))
    h = keras.layers.Conv2D(3, 3, activation="relu", name="frozen")(x)
    h = keras.layers.Conv2D(2, 3, activation="tanh", name="trained")(h)
    h = keras.layers.Flatten()(h)
    kmodel = keras.Model(x, keras.layers.Dense(3, activation="softmax")(h))
    kmodel.get_layer("frozen").trainable = False
    return kmodel


CASES = {
    # The middle's regulariser leaves the loss; the first layer's copy of
    # the middle's rows stays as the middle does.
    "middle": (lambda: keras_mlp(["middle"]), (6,)),
    "first-and-last": (lambda: keras_mlp(["first", "last"]), (6,)),
    "conv": (keras_cnn, (6, 6, 1)),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("optimizer", ["sgd_momentum", "adam"])
def test_frozen_layers_train_as_keras_and_stay(case, optimizer):
    build, shape = CASES[case]
    kmodel = build()
    x, y = samples(shape, N_SAMPLES, classes=3)
    before = {layer.name: layer.get_weights() for layer in kmodel.layers}
    model = assert_trains_as_keras(kmodel, x, y, "categorical_crossentropy",
                                   optimizer)
    for layer in model.layers:
        if not layer.trainable:
            for now, then in zip(layer.get_weights(), before[layer.name]):
                assert now.tobytes() == then.tobytes()


def test_keras_fit_leaves_a_frozen_kernel_and_saves_it_frozen(tmp_path):
    import keras
    kmodel = keras_mlp(["middle"])
    kmodel.compile(optimizer=keras.optimizers.Adam(0.01),
                   loss="categorical_crossentropy")
    x, y = samples((6,), N_SAMPLES, classes=3)
    frozen = kmodel.get_layer("middle").get_weights()
    spiDNN.keras.fit(kmodel, x, y, epochs=1, batch_size=16, shuffle=False,
                     verbose=0)
    for now, then in zip(kmodel.get_layer("middle").get_weights(), frozen):
        assert now.tobytes() == then.tobytes()
    # Saved, loaded and trained on as Keras goes on: the optimizer's
    # state (Keras keeps none for the frozen kernel) lines up.
    path = str(tmp_path / "frozen.keras")
    kmodel.save(path)
    model = spiDNN.load_model(path)
    assert [layer.trainable for layer in model.layers] == [True, False, True]
    model.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    kmodel.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    for mine, theirs in zip(model.get_weights(), kmodel.get_weights()):
        numpy.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-4)
    assert not model.to_keras().get_layer("middle").trainable


def test_trainable_takes_a_bool():
    layer = Dense(3)
    with pytest.raises(SpiDNNConfigurationError, match="trainable"):
        layer.trainable = "False"


def test_layer_names_are_unique_as_keras_requires():
    model = spiDNN.Model().add(Input(4)).add(Dense(3, name="d"))
    with pytest.raises(SpiDNNConfigurationError,
                       match="'d' names 2 layers.*name of its own"):
        model.add(Dense(2, name="d"))
    x = Input(4)
    a = Dense(3, name="twin")(x)
    b = Dense(3, name="twin")(x)
    with pytest.raises(SpiDNNConfigurationError, match="'twin' names 2"):
        spiDNN.Model(x, spiDNN.layers.Add()([a, b]))
