"""Optimizers on the cores (optimizer.h) against Keras' own: SGD with
momentum and Nesterov, Adam, RMSprop, learning-rate schedules, weight
decay and gradient clipping by value, from the same initial weights, over
epochs whose last batch is short."""
import keras
import numpy
import pytest

import spiDNN
from spiDNN import Faults, Stall
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.optimizers import Adam, RMSprop, SGD

RNG = numpy.random.default_rng(3)
X = RNG.normal(size=(50, 8)).astype(numpy.float32)
Y = RNG.integers(0, 3, 50)
IMAGES = RNG.normal(size=(23, 6, 6, 1)).astype(numpy.float32)
#: 3 epochs; 50 samples in batches of 16 (and 23 in 8): short last batches.
EPOCHS = 3
TOLERANCE = 1e-4


def keras_mlp():
    keras.utils.set_random_seed(1)
    return keras.Sequential([
        keras.Input((8,)), keras.layers.Dense(6, activation="tanh"),
        keras.layers.Dense(5, activation="relu"),
        keras.layers.Dense(3, activation="softmax")])


def keras_cnn():
    keras.utils.set_random_seed(2)
    return keras.Sequential([
        keras.Input((6, 6, 1)),
        keras.layers.Conv2D(2, 3, activation="relu"),
        keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
        keras.layers.Dense(3, activation="softmax")])


OPTIMIZERS = {
    "sgd momentum": lambda: keras.optimizers.SGD(0.05, momentum=0.9),
    "sgd nesterov": lambda: keras.optimizers.SGD(
        0.05, momentum=0.8, nesterov=True),
    "adam": lambda: keras.optimizers.Adam(0.01),
    "adam betas": lambda: keras.optimizers.Adam(
        0.02, beta_1=0.8, beta_2=0.99, epsilon=1e-5),
    "rmsprop": lambda: keras.optimizers.RMSprop(0.01),
    "rmsprop momentum": lambda: keras.optimizers.RMSprop(
        0.005, rho=0.8, momentum=0.5),
    "adam schedule": lambda: keras.optimizers.Adam(
        keras.optimizers.schedules.ExponentialDecay(0.02, 3, 0.5)),
    "sgd piecewise": lambda: keras.optimizers.SGD(
        keras.optimizers.schedules.PiecewiseConstantDecay(
            [4, 8], [0.1, 0.05, 0.01]), momentum=0.5),
    "sgd decay clip": lambda: keras.optimizers.SGD(
        0.05, momentum=0.5, weight_decay=0.01, clipvalue=0.05),
    "adam decay schedule": lambda: keras.optimizers.Adam(
        keras.optimizers.schedules.ExponentialDecay(0.02, 3, 0.5),
        weight_decay=0.004),
    "rmsprop clip": lambda: keras.optimizers.RMSprop(0.01, clipvalue=0.01),
}


def train_both(make_keras, make_optimizer, x, y, batch_size):
    """(spiDNN's weights, Keras' weights) after the same training."""
    reference = make_keras()
    initial = reference.get_weights()
    reference.compile(optimizer=make_optimizer(),
                      loss="sparse_categorical_crossentropy")
    reference.fit(x, y, epochs=EPOCHS, batch_size=batch_size,
                  shuffle=False, verbose=0)
    model = spiDNN.from_keras(make_keras())
    model.set_weights(initial)
    model.compile(optimizer=make_optimizer(),
                  loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=EPOCHS, batch_size=batch_size,
                        shuffle=False, verbose=0)
    return model, reference, initial, history


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_dense_training_matches_keras(name):
    model, reference, initial, _ = train_both(
        keras_mlp, OPTIMIZERS[name], X, Y, 16)
    moved = max(numpy.max(numpy.abs(a - b))
                for a, b in zip(model.get_weights(), initial))
    assert moved > 1e-2
    for ours, theirs in zip(model.get_weights(), reference.get_weights()):
        numpy.testing.assert_allclose(ours, theirs, atol=TOLERANCE)


@pytest.mark.parametrize("name", ["sgd nesterov", "adam", "rmsprop"])
def test_conv_training_matches_keras(name):
    """The conv layer's kernel copies and the pooling in between."""
    model, reference, _, _ = train_both(
        keras_cnn, OPTIMIZERS[name], IMAGES, Y[:len(IMAGES)], 8)
    for ours, theirs in zip(model.get_weights(), reference.get_weights()):
        numpy.testing.assert_allclose(ours, theirs, atol=TOLERANCE)


def test_replays_keep_the_optimizer_state_exact():
    """A stall past the timeout in the middle of Adam's run: the replay
    gives the fault-free weights bit for bit (the state only moves on a
    commit)."""
    def train(faulty):
        model = spiDNN.from_keras(keras_mlp())
        if faulty:
            model.faults = Faults(
                stalls=[Stall(model.layers[0].name, core=1, at_packet=300,
                              duration=5000)],
                drop_rate=2e-4, reinjection=False, seed=4)
        model.compile(optimizer=Adam(0.01),
                      loss="sparse_categorical_crossentropy")
        model.fit(X, Y, epochs=2, batch_size=16, shuffle=False, verbose=0)
        return model

    clean = train(False)
    faulty = train(True)
    assert faulty.last_run.faults["replays"] > 0
    for ours, theirs in zip(faulty.get_weights(), clean.get_weights()):
        numpy.testing.assert_array_equal(ours, theirs)


@pytest.mark.unit
def test_step_scales_are_keras_float32_arithmetic():
    adam = Adam(0.01, beta_1=0.9, beta_2=0.999)
    for step in (0, 1, 9, 99):
        t = numpy.float32(step + 1)
        expected = (numpy.float32(0.01)
                    * numpy.sqrt(numpy.float32(1) - numpy.float32(0.999) ** t)
                    / (numpy.float32(1) - numpy.float32(0.9) ** t))
        assert adam.step_scale(step) == expected
        assert adam.step_scale(step).dtype == numpy.float32
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5)
    sgd = SGD(schedule)
    assert [float(sgd.step_scale(s)) for s in range(3)] == [
        float(numpy.float32(schedule(s))) for s in range(3)]


def test_optimizer_state_counts_against_dtcm():
    """A layer kept in DTCM that trains with plain SGD but not with Adam's
    two state arrays per weight is refused before mapping, naming the
    layer."""
    model = spiDNN.Model(seed=0, layers=[
        spiDNN.layers.Input(1200),
        spiDNN.layers.Dense(6, neurons_per_core=3, weights_in="dtcm"),
        spiDNN.layers.Dense(2)])
    x = numpy.zeros((2, 1200), dtype=numpy.float32)
    y = numpy.zeros((2, 2), dtype=numpy.float32)
    model.compile(optimizer=SGD(0.1), loss="mse")
    model.fit(x, y, epochs=1, verbose=0)
    model.compile(optimizer=Adam(), loss="mse")
    with pytest.raises(SpiDNNConfigurationError,
                       match=model.layers[0].name):
        model.fit(x, y, epochs=1, verbose=0)


@pytest.mark.unit
@pytest.mark.parametrize("make, match", [
    (lambda: SGD(0.1, momentum=1.5), "momentum must be in"),
    (lambda: Adam(beta_1=1.0), "beta_1 must be in"),
    (lambda: RMSprop(rho=-0.1), "rho must be in"),
    (lambda: Adam(learning_rate=0), "learning_rate must be a positive"),
    (lambda: spiDNN.optimizers.get(keras.optimizers.Adam(amsgrad=True)),
     "amsgrad"),
    (lambda: spiDNN.optimizers.get(keras.optimizers.RMSprop(centered=True)),
     "centered"),
    (lambda: spiDNN.optimizers.get(keras.optimizers.Adam(clipnorm=1.0)),
     "clipnorm"),
    (lambda: spiDNN.optimizers.get(keras.optimizers.SGD(
        global_clipnorm=1.0)), "global_clipnorm"),
    (lambda: SGD(weight_decay=-1.0), "weight_decay must be in"),
    (lambda: spiDNN.optimizers.get(keras.optimizers.Adagrad()),
     "unknown optimizer"),
])
def test_bad_optimizers(make, match):
    with pytest.raises(SpiDNNConfigurationError, match=match):
        make()


@pytest.mark.unit
def test_names_give_keras_defaults():
    assert isinstance(spiDNN.optimizers.get("adam"), Adam)
    assert spiDNN.optimizers.get("rmsprop").learning_rate == 0.001
    assert spiDNN.optimizers.get("sgd").learning_rate == 0.01


@pytest.mark.parametrize("make", [
    lambda: Adam(0.01), lambda: SGD(0.1, momentum=0.9, nesterov=True),
    lambda: RMSprop(0.01, momentum=0.3)], ids=["adam", "nesterov", "rmsprop"])
def test_training_resumed_after_save_and_load_continues_exactly(
        make, tmp_path):
    """The optimizer's state comes back with the weights: 2 + 2 epochs,
    saved and loaded in between, equal 4 epochs bit for bit; the file is
    Keras' own, so Keras goes on from it the same way."""
    def compiled():
        model = spiDNN.from_keras(keras_mlp())
        model.compile(optimizer=make(), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model
    kwargs = dict(batch_size=16, shuffle=False, verbose=0)
    whole = compiled()
    whole.fit(X, Y, epochs=4, **kwargs)
    first = compiled()
    first.fit(X, Y, epochs=2, **kwargs)
    path = str(tmp_path / "model.keras")
    first.save(path)
    resumed = spiDNN.load_model(path)
    assert resumed.optimizer_state["iterations"] == 8
    numpy.testing.assert_array_equal(resumed.predict(X), first.predict(X))
    resumed.fit(X, Y, epochs=2, **kwargs)
    for ours, theirs in zip(resumed.get_weights(), whole.get_weights()):
        numpy.testing.assert_array_equal(ours, theirs)
    reference = keras.models.load_model(path)
    reference.fit(X, Y, epochs=2, **kwargs)
    for ours, theirs in zip(whole.get_weights(), reference.get_weights()):
        numpy.testing.assert_allclose(ours, theirs, atol=TOLERANCE)


def test_a_layer_without_weights_resumes_its_copy_of_the_next_rows():
    """An Add before a Dense keeps a copy of the Dense's rows and their
    momentum: a second fit starts it from the last one's (as the Dense's
    own), so two fits of an epoch train as one of two, bit for bit."""
    from spiDNN.layers import Add, Dense, Input

    def compiled():
        x = Input(8)
        hidden = Dense(6, activation="tanh")(x)
        model = spiDNN.Model(x, Dense(3, activation="softmax")(
            Add()([Dense(5)(hidden), Dense(5)(hidden)])), seed=2)
        model.compile(optimizer=SGD(0.05, momentum=0.9),
                      loss="sparse_categorical_crossentropy")
        return model
    kwargs = dict(batch_size=16, shuffle=False, verbose=0)
    x = numpy.random.default_rng(3).normal(size=(64, 8)).astype(
        numpy.float32)
    y = numpy.arange(64) % 3
    twice, whole = compiled(), compiled()
    twice.fit(x, y, epochs=1, **kwargs)
    twice.fit(x, y, epochs=1, **kwargs)
    whole.fit(x, y, epochs=2, **kwargs)
    for ours, theirs in zip(twice.get_weights(), whole.get_weights()):
        numpy.testing.assert_array_equal(ours, theirs)


def test_keras_fit_carries_the_optimizer_state_both_ways():
    """spiDNN.keras.fit twice equals Keras' fit twice: the Keras
    optimizer's momenta go to the cores and come back."""
    kmodel, reference = keras_mlp(), keras_mlp()
    for k in (kmodel, reference):
        k.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss="sparse_categorical_crossentropy")
    kwargs = dict(epochs=1, batch_size=16, shuffle=False, verbose=0)
    for _ in range(2):
        spiDNN.keras.fit(kmodel, X, Y, **kwargs)
        reference.fit(X, Y, **kwargs)
    assert int(kmodel.optimizer.iterations.numpy()) == 8
    for ours, theirs in zip(kmodel.get_weights(), reference.get_weights()):
        numpy.testing.assert_allclose(ours, theirs, atol=TOLERANCE)


@pytest.mark.unit
def test_every_optimizer_is_one_abi_entry_one_class_and_one_c_header():
    """The registry (spiDNN/optimizers.py) is the ABI table's
    (spiDNN/abi/optimizers.py), in its order, and everything derives from
    it: get(name), the generated header's ids, dispatch list and update
    points, each optimizer's C header, and the calibration's cases."""
    import os
    from spiDNN import optimizers
    from spiDNN.abi import layouts, optimizers as abi
    from tools.calibration import grid
    classes = optimizers.registered()
    assert [cls.ABI for cls in classes] == list(abi.TABLE)
    assert layouts.OPTIMIZERS == {e.name: i for i, e in enumerate(abi.TABLE)}
    header = layouts.c_header()
    assert "#define OPTIMIZER_LIST(X) " + " ".join(
        f"X({e.name}, {e.name.upper()})" for e in abi.TABLE) in header
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for cls in classes:
        assert isinstance(optimizers.get(cls.KIND), cls)
        assert os.path.exists(os.path.join(
            root, "c_code", "common", "optimizers", f"{cls.KIND}.h"))
        for variant in cls.ABI.variants:
            assert f"#define COST_UPDATE_{variant.upper()} " in header
            made = grid.OPTIMIZERS[variant]()
            assert type(made) is cls
            fields = made.fields()
            layouts.LAYER_PARAMS.pack(**{
                name: fields.get(name, 0)
                for name in layouts.LAYER_PARAMS.fields})
    assert set(grid.OPTIMIZERS) == set(
        name[len("update_"):] for name in abi.cost_points())
    assert {case.optimizer for case in grid.FIT.values()} == set(
        grid.OPTIMIZERS)


@pytest.mark.unit
def test_an_unnamed_variant_gets_calibration_cases():
    from tools.calibration import grid
    cases = {"only": grid.FIT["mlp-3-relu-softmax-k1"]}
    grid._every_variant(cases)
    assert {case.optimizer for case in cases.values()} == set(
        grid.OPTIMIZERS)


@pytest.mark.unit
def test_each_optimizer_converts_to_keras_and_back():
    """Each registered optimizer's Keras class, settings and slot
    variables: to_keras and get(Keras) round-trip what the cores get, and the
    Keras optimizer built over a variable holds KERAS_SLOTS."""
    from spiDNN import optimizers
    for cls in optimizers.registered():
        for settings in cls.CALIBRATION.values():
            ours = cls(**settings)
            theirs = optimizers.to_keras(ours)
            assert type(theirs).__name__ == cls.KERAS
            back = optimizers.get(theirs)       # Keras' float32 settings
            assert type(back) is cls and back.fields() == ours.fields()
            assert back.learning_rate_at(0) == ours.learning_rate_at(0)
            variable = keras.Variable(numpy.zeros(3, numpy.float32))
            theirs.build([variable])
            for name in cls.KERAS_SLOTS[:ours.n_states]:
                assert len(getattr(theirs, name)) == 1
