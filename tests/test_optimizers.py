"""Optimizers on the cores (optimizer.h) against Keras' own: SGD with
momentum and Nesterov, Adam (AMSGrad) and AdamW, RMSprop (momentum,
centred), Adagrad, Adadelta, Adamax, Nadam and Lion, learning-rate
schedules, weight decay and gradient clipping by value, from the same
initial weights, over epochs whose last batch is short; their state
through .keras files, their bits across slicings, their refusals."""
import keras
import numpy
import pytest

import spiDNN
from spiDNN import Faults, Stall
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.optimizers import (
    Adadelta, Adagrad, Adam, Adamax, AdamW, Lion, Nadam, RMSprop, SGD)

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
    "adam amsgrad": lambda: keras.optimizers.Adam(0.01, amsgrad=True),
    "adamw": lambda: keras.optimizers.AdamW(0.01, weight_decay=0.05),
    "adamw amsgrad schedule": lambda: keras.optimizers.AdamW(
        keras.optimizers.schedules.ExponentialDecay(0.02, 3, 0.5),
        amsgrad=True),
    "rmsprop centered": lambda: keras.optimizers.RMSprop(
        0.01, centered=True),
    "rmsprop centered momentum": lambda: keras.optimizers.RMSprop(
        0.005, rho=0.8, momentum=0.5, centered=True),
    "adagrad": lambda: keras.optimizers.Adagrad(0.05),
    "adagrad accumulator": lambda: keras.optimizers.Adagrad(
        0.1, initial_accumulator_value=0.5, epsilon=1e-4, clipvalue=0.05),
    "adadelta": lambda: keras.optimizers.Adadelta(1.0),
    "adadelta rho": lambda: keras.optimizers.Adadelta(
        0.5, rho=0.8, epsilon=1e-5, weight_decay=0.01),
    "adamax": lambda: keras.optimizers.Adamax(0.01),
    "adamax betas": lambda: keras.optimizers.Adamax(
        0.02, beta_1=0.8, beta_2=0.99, epsilon=1e-5),
    "nadam": lambda: keras.optimizers.Nadam(0.01),
    "nadam schedule": lambda: keras.optimizers.Nadam(
        keras.optimizers.schedules.ExponentialDecay(0.02, 3, 0.5),
        beta_1=0.85, beta_2=0.99, epsilon=1e-5),
    "lion": lambda: keras.optimizers.Lion(0.002),
    "lion betas decay": lambda: keras.optimizers.Lion(
        0.003, beta_1=0.8, beta_2=0.95, weight_decay=0.1),
}

#: Keras' strings for the optimizers spiDNN runs (keras.optimizers.get).
KERAS_NAMES = ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta",
               "adamax", "nadam", "lion"]


def train_both(make_keras, make_optimizer, x, y, batch_size):
    """(spiDNN's weights, Keras' weights) after the same training."""
    reference = make_keras()
    initial = reference.get_weights()
    reference.compile(optimizer=make_optimizer(),
                      loss="sparse_categorical_crossentropy")
    expected = reference.fit(x, y, epochs=EPOCHS, batch_size=batch_size,
                             shuffle=False, verbose=0)
    model = spiDNN.from_keras(make_keras())
    model.set_weights(initial)
    model.compile(optimizer=make_optimizer(),
                  loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=EPOCHS, batch_size=batch_size,
                        shuffle=False, verbose=0)
    numpy.testing.assert_allclose(history.history["loss"],
                                  expected.history["loss"], rtol=0,
                                  atol=TOLERANCE)
    return model, reference, initial, history


def assert_moved_as_keras(model, reference, initial):
    """The weights moved (the test can fail) and are Keras'."""
    moved = max(numpy.max(numpy.abs(a - b))
                for a, b in zip(model.get_weights(), initial))
    assert moved > 1e-2
    for ours, theirs in zip(model.get_weights(), reference.get_weights()):
        numpy.testing.assert_allclose(ours, theirs, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_dense_training_matches_keras(name):
    """Weights and History after three epochs."""
    model, reference, initial, _ = train_both(
        keras_mlp, OPTIMIZERS[name], X, Y, 16)
    assert_moved_as_keras(model, reference, initial)


@pytest.mark.parametrize("name", [
    "sgd nesterov", "adam", "rmsprop", "adam amsgrad", "adamw",
    "rmsprop centered momentum", "adagrad accumulator", "adadelta",
    "adamax", "nadam", "lion"])
def test_conv_training_matches_keras(name):
    """The conv layer's kernel copies, and the pooling in between, whose
    cores keep a copy of the Dense rows (and their state) after it."""
    model, reference, initial, _ = train_both(
        keras_cnn, OPTIMIZERS[name], IMAGES, Y[:len(IMAGES)], 8)
    assert_moved_as_keras(model, reference, initial)


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
def test_step_values_are_keras_float32_arithmetic():
    """What each commit carries, written out as Keras' update_step
    computes it in float32 (the powers numpy's float32 power of one step:
    its loop over several may round otherwise)."""
    f, power = numpy.float32, numpy.power
    adam = Adam(0.01, beta_1=0.9, beta_2=0.999)
    adamax = Adamax(0.02, beta_1=0.8)
    steps = [0, 1, 9, 99]
    for row, step in enumerate(steps):
        t = f(step + 1)
        expected = (f(0.01) * numpy.sqrt(f(1) - power(f(0.999), t))
                    / (f(1) - power(f(0.9), t)))
        assert adam.step_values(steps)[row, 0] == expected
        assert adamax.step_values(steps)[row].tolist() == [
            f(0.02), f(1) - power(f(0.8), t)]
    assert adam.step_values(steps).dtype == numpy.float32
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5)
    sgd = SGD(schedule)
    assert sgd.step_values(range(3))[:, 0].tolist() == [
        float(f(schedule(s))) for s in range(3)]


@pytest.mark.unit
def test_nadam_steps_its_momentum_cache_as_keras():
    """Nadam's step values from Keras' update_step, its product stepped
    as _backend_update_step steps Keras' variable; the product agrees
    with Keras' own variable (to its pow's last bit)."""
    f, power = numpy.float32, numpy.power
    nadam = Nadam(0.01, beta_1=0.85, beta_2=0.99)
    b1, b2, one = f(0.85), f(0.99), f(1)
    product, rows = f(1), []
    for step in range(40):
        t = f(step + 1)
        product = product * b1 * (one - f(0.5) * power(f(0.96), t))
        u = b1 * (one - f(0.5) * power(f(0.96), t))
        u_next = b1 * (one - f(0.5) * power(f(0.96), t + one))
        rows.append([f(0.01), u_next, one - product * u_next, one - u,
                     one - product, one - power(b2, t)])
    values = nadam.step_values(range(40))
    assert values.tolist() == numpy.array(rows, dtype=f).tolist()
    assert values[7:9].tolist() == nadam.step_values([7, 8]).tolist()
    reference = keras.optimizers.Nadam(0.01, beta_1=0.85, beta_2=0.99)
    variable = keras.Variable(numpy.ones(2, f))
    reference.build([variable])
    for _ in range(40):
        reference.apply_gradients([(numpy.ones(2, f), variable)])
    ours = nadam.keras_variables(40)["_u_product"]
    numpy.testing.assert_allclose(ours, reference._u_product.numpy(),
                                  rtol=1e-6)


@pytest.mark.unit
def test_constants_are_rounded_as_each_keras_update_rounds_them():
    """Adam and Adamax take 1 - beta_1 in Python, then float32; Nadam and
    Lion cast beta_1 to float32 first: at 0.9 the two differ."""
    f = numpy.float32
    python_first, cast_first = float(f(1 - 0.9)), float(f(1) - f(0.9))
    assert python_first != cast_first
    for cls in (Adam, Adamax):
        assert cls(beta_1=0.9).constants()["one_minus_beta_1"] == (
            python_first)
    for cls in (Nadam, Lion):
        assert cls(beta_1=0.9).constants()["one_minus_beta_1"] == cast_first
    assert Adadelta(rho=0.9).constants()["one_minus_rho"] == python_first


@pytest.mark.unit
def test_adagrad_starts_from_its_initial_accumulators():
    weights = [numpy.zeros((3, 2)), numpy.zeros(2)]
    state = Adagrad(initial_accumulator_value=0.25).initial_state(weights)
    assert state["iterations"] == 0
    (slot,) = state["slots"]
    assert [a.shape for a in slot] == [(3, 2), (2,)]
    assert all(numpy.all(a == numpy.float32(0.25)) for a in slot)
    assert Adam().initial_state(weights) is None


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
    (lambda: Adagrad(initial_accumulator_value=-1.0),
     "initial_accumulator_value must be in"),
    (lambda: Adadelta(rho=1.0), "Adadelta rho must be in"),
    (lambda: Adamax(beta_2=1.5), "Adamax beta_2 must be in"),
    (lambda: Nadam(epsilon=-1.0), "Nadam epsilon must be in"),
    (lambda: Lion(beta_1=0.0), r"Lion beta_1 must be in \(0.0, 1.0\]"),
    (lambda: AdamW(weight_decay=None), "AdamW needs a weight_decay"),
    (lambda: Nadam(clipnorm=1.0, clipvalue=0.5),
     "Nadam: only one of clipnorm, clipvalue and global_clipnorm"),
    (lambda: SGD(global_clipnorm=-2.0), r"global_clipnorm must be in"),
    (lambda: spiDNN.optimizers.get(keras.optimizers.Adam(
        gradient_accumulation_steps=2)),
     "Keras Adam with gradient_accumulation_steps=2"),
    (lambda: spiDNN.optimizers.get(keras.optimizers.Nadam(
        loss_scale_factor=2.0)), "Keras Nadam with loss_scale_factor=2.0"),
    (lambda: spiDNN.optimizers.get(keras.optimizers.Lion(use_ema=True)),
     "Keras Lion with use_ema=True"),
    (lambda: SGD(weight_decay=-1.0), "weight_decay must be in"),
    (lambda: spiDNN.optimizers.get(keras.optimizers.Ftrl()),
     "Keras Ftrl: spiDNN does not train with it.*pow"),
    (lambda: spiDNN.optimizers.get("ftrl"), "'ftrl': spiDNN does not"),
    (lambda: spiDNN.optimizers.get(keras.optimizers.Adafactor()),
     "unknown optimizer Keras Adafactor; spiDNN trains with SGD"),
    (lambda: spiDNN.optimizers.get("adamm"), "unknown optimizer 'adamm'"),
])
def test_bad_optimizers(make, match):
    """Each refusal names what the user wrote, never an object's repr."""
    with pytest.raises(SpiDNNConfigurationError, match=match) as error:
        make()
    assert " object at 0x" not in str(error.value)


@pytest.mark.unit
@pytest.mark.parametrize("name", KERAS_NAMES)
def test_names_give_keras_defaults(name):
    """get(name) is Keras' get(name): the same class and the settings the
    cores get (Keras' defaults), upper case as well."""
    ours = spiDNN.optimizers.get(name)
    theirs = spiDNN.optimizers.get(keras.optimizers.get(name))
    assert type(ours) is type(theirs)
    assert type(ours).KERAS == type(keras.optimizers.get(name)).__name__
    assert ours.fields() == theirs.fields()
    assert ours.learning_rate_at(0) == theirs.learning_rate_at(0)
    assert ours.initial_values() == theirs.initial_values()
    assert type(spiDNN.optimizers.get(name.upper())) is type(ours)


#: Each optimizer's variants, as the resumed runs train with them.
RESUMED = {
    "adam": lambda: Adam(0.01),
    "nesterov": lambda: SGD(0.1, momentum=0.9, nesterov=True),
    "rmsprop": lambda: RMSprop(0.01, momentum=0.3),
    "amsgrad": lambda: Adam(0.01, amsgrad=True),
    "adamw": lambda: AdamW(0.01, weight_decay=0.05),
    "rmsprop centered": lambda: RMSprop(0.01, momentum=0.3, centered=True),
    "adagrad": lambda: Adagrad(0.05, initial_accumulator_value=0.2),
    "adadelta": lambda: Adadelta(1.0),
    "adamax": lambda: Adamax(0.01),
    "nadam": lambda: Nadam(0.01),
    "lion": lambda: Lion(0.002),
}


@pytest.mark.parametrize("make_keras, kwargs, name", [
    *((keras_mlp, dict(batch_size=16), name) for name in RESUMED),
    *((keras_cnn, dict(batch_size=8), name)
      for name in ("adagrad", "nadam", "rmsprop centered"))],
    ids=[*(f"mlp-{name}" for name in RESUMED),
         *(f"cnn-{name}" for name in ("adagrad", "nadam",
                                      "rmsprop centered"))])
def test_training_resumed_after_save_and_load_continues_exactly(
        make_keras, kwargs, name, tmp_path):
    """The optimizer's state comes back with the weights: 2 + 2 epochs,
    saved and loaded in between, equal 4 epochs bit for bit; the file is
    Keras' own, so Keras goes on from it the same way (Nadam's momentum
    cache product included)."""
    x, y = (X, Y) if make_keras is keras_mlp else (IMAGES, Y[:len(IMAGES)])

    def compiled():
        model = spiDNN.from_keras(make_keras())
        model.compile(optimizer=RESUMED[name](),
                      loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model
    kwargs = dict(shuffle=False, verbose=0, **kwargs)
    whole = compiled()
    whole.fit(x, y, epochs=4, **kwargs)
    first = compiled()
    first.fit(x, y, epochs=2, **kwargs)
    path = str(tmp_path / "model.keras")
    first.save(path)
    resumed = spiDNN.load_model(path)
    steps = 2 * -(-len(x) // kwargs["batch_size"])
    assert resumed.optimizer_state["iterations"] == steps
    numpy.testing.assert_array_equal(resumed.predict(x), first.predict(x))
    resumed.fit(x, y, epochs=2, **kwargs)
    for ours, theirs in zip(resumed.get_weights(), whole.get_weights()):
        numpy.testing.assert_array_equal(ours, theirs)
    for ours, theirs in zip(resumed.optimizer_state["slots"],
                            whole.optimizer_state["slots"]):
        for mine, expected in zip(ours, theirs):
            numpy.testing.assert_array_equal(mine, expected)
    reference = keras.models.load_model(path)
    assert type(reference.optimizer).__name__ == RESUMED[name]().KERAS
    reference.fit(x, y, epochs=2, **kwargs)
    for ours, theirs in zip(whole.get_weights(), reference.get_weights()):
        numpy.testing.assert_allclose(ours, theirs, rtol=0, atol=TOLERANCE)


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


@pytest.mark.parametrize("make", [
    lambda: keras.optimizers.Adam(0.01), lambda: keras.optimizers.Nadam(0.01),
    lambda: keras.optimizers.Adagrad(0.05)], ids=["adam", "nadam", "adagrad"])
def test_keras_fit_carries_the_optimizer_state_both_ways(make):
    """spiDNN.keras.fit twice equals Keras' fit twice: the Keras
    optimizer's state (momenta, Adagrad's initial accumulators, Nadam's
    momentum cache product) goes to the cores and comes back."""
    kmodel, reference = keras_mlp(), keras_mlp()
    for k in (kmodel, reference):
        k.compile(optimizer=make(), loss="sparse_categorical_crossentropy")
    kwargs = dict(epochs=1, batch_size=16, shuffle=False, verbose=0)
    for _ in range(2):
        spiDNN.keras.fit(kmodel, X, Y, **kwargs)
        reference.fit(X, Y, **kwargs)
    assert int(kmodel.optimizer.iterations.numpy()) == 8
    for ours, theirs in zip(kmodel.get_weights(), reference.get_weights()):
        numpy.testing.assert_allclose(ours, theirs, rtol=0, atol=TOLERANCE)
    for ours, theirs in zip(kmodel.optimizer.variables,
                            reference.optimizer.variables):
        numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=0,
                                      atol=TOLERANCE)


def _spidnn_mlp(per_core, weights_in, make_optimizer):
    model = spiDNN.Model(seed=5, layers=[
        spiDNN.layers.Input(8),
        spiDNN.layers.Dense(6, activation="tanh", neurons_per_core=per_core,
                            weights_in=weights_in),
        spiDNN.layers.Dense(5, activation="relu", neurons_per_core=per_core),
        spiDNN.layers.Dense(3, activation="softmax",
                            neurons_per_core=min(per_core, 3))])
    model.compile(optimizer=make_optimizer(),
                  loss="sparse_categorical_crossentropy")
    return model


def _every_variant():
    """{id: a function making it}: each cost point's calibration
    settings, AdamW's and a weight decay with clipping."""
    from spiDNN import optimizers
    made = dict(optimizers.calibration_optimizers())
    made["adamw"] = lambda: AdamW(0.01, weight_decay=0.05)
    made["lion decay clip"] = lambda: Lion(
        0.002, weight_decay=0.1, clipvalue=0.05)
    return made


@pytest.mark.parametrize("variant", list(_every_variant()))
def test_every_optimizer_is_bit_identical_across_slicings(variant):
    """Each optimizer's update and state do not depend on how the layers
    are cut: one neuron per core, two, all on one core with the first
    kernel streamed from SDRAM; losses, weights and state, bit for bit."""
    make = _every_variant()[variant]
    results = []
    for per_core, weights_in in ((1, "auto"), (2, "auto"), (6, "sdram")):
        model = _spidnn_mlp(per_core, weights_in, make)
        history = model.fit(X, Y, epochs=2, batch_size=16, shuffle=False,
                            verbose=0)
        results.append((history.history["loss"], model.get_weights(),
                        model.optimizer_state["slots"]))
    first_loss, first_weights, first_state = results[0]
    assert len(first_state) == make().n_states
    for loss, weights, state in results[1:]:
        assert loss == first_loss
        for mine, theirs in zip(weights, first_weights):
            assert mine.tobytes() == theirs.tobytes()
        for mine, theirs in zip(state, first_state):
            for a, b in zip(mine, theirs):
                assert a.tobytes() == b.tobytes()


@pytest.mark.unit
def test_every_optimizer_is_one_abi_entry_one_class_and_one_c_header():
    """The registry (spiDNN/optimizers/) is the ABI table's
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
    assert optimizers.get("adamw").ABI is abi.BY_NAME["adam"]
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
@pytest.mark.parametrize("variant", list(_every_variant()))
def test_each_optimizer_converts_to_keras_and_back(variant):
    """Each optimizer's Keras class, settings and slot variables: to_keras
    and get(Keras) round-trip what the cores get; the Keras optimizer
    built over a variable holds exactly the slots the cores keep, and
    state_into_keras / state_from_keras carry them both ways."""
    from spiDNN import optimizers
    ours = _every_variant()[variant]()
    theirs = optimizers.to_keras(ours)
    assert type(theirs).__name__ == ours.KERAS
    back = optimizers.get(theirs)       # Keras' float32 settings
    assert type(back) is type(ours) and back.fields() == ours.fields()
    assert back.learning_rate_at(0) == ours.learning_rate_at(0)
    variable = keras.Variable(numpy.zeros(3, numpy.float32))
    state = {"iterations": 5, "slots": [
        [numpy.full(3, k + 1.5, numpy.float32)] for k in range(ours.n_states)]}
    optimizers.state_into_keras(ours, state, theirs, [variable],
                                [((3,), True)])
    kept = {name for name in ours.KERAS_SLOTS
            if getattr(theirs, name, None)}
    assert kept == set(ours.slots)
    again = optimizers.state_from_keras(ours, theirs, [((3,), True)])
    assert again["iterations"] == 5
    assert [[a.tolist() for a in kind] for kind in again["slots"]] == [
        [a.tolist() for a in kind] for kind in state["slots"]]
    for name, value in ours.keras_variables(5).items():
        assert getattr(theirs, name).numpy() == value
