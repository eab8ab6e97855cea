"""Keras' clipnorm and global_clipnorm on the machine (clip_norm.h): each
batch's gradient norms reduced across the cores holding the weights, from
exact sums of the squares, TensorFlow CPU the oracle.  Trained an epoch
beside Keras from the same initial weights (weights and History within
1e-4), with a partial last batch, regularisers (whose gradients the norm
includes), convolutions, a residual graph, PReLU, shared and frozen
layers; the clipping shown to matter; the weights bit-identical across
slicings, kernels streamed from SDRAM and 2-D splits, and under lost norm
packets with recovery; the settings carried by from_keras and to_keras."""
import numpy
import pytest

import spiDNN
from spiDNN import Drop, Faults
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D
from tests.branch_oracle import TRAINED_TOLERANCE, samples
from tests.test_frozen_layers import keras_mlp
from tests.test_prelu import _with_spread_alphas, keras_conv_prelu
from tests.test_regularizers import _graph, conv_model, dense_model
from tests.test_regularizers import residual_cnn_l2
from tests.test_shared_layers import pair, recurrent, tower
from tools.mapped import MappedModel, identical

#: Small enough that most batches' gradients are clipped.
CLIPPINGS = {"clipnorm": {"clipnorm": 0.05},
             "global_clipnorm": {"global_clipnorm": 0.08}}


def keras_clipped(name, clipping):
    """Keras' optimizer ``name`` with ``clipping`` (CLIPPINGS' settings,
    or none)."""
    import keras
    if name == "sgd_momentum":
        return keras.optimizers.SGD(0.05, momentum=0.9, **clipping)
    return keras.optimizers.Adam(0.005, **clipping)


def _fit_keras(kmodel, x, y, loss, optimizer, batch_size):
    kmodel.compile(optimizer=optimizer, loss=loss)
    return kmodel.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False,
                      verbose=0)


def assert_clips_as_keras(kmodel, x, y, loss, optimizer, clipping,
                          batch_size=32):
    """An epoch of ``optimizer`` (keras_clipped's) with ``clipping`` in
    spiDNN and in Keras: weights and History within TRAINED_TOLERANCE.
    With SGD, Keras unclipped ends elsewhere (the clipping is at work;
    Adam's steps barely change when each batch's gradient is scaled)."""
    initial = kmodel.get_weights()
    model = spiDNN.from_keras(kmodel)
    model.compile(optimizer=keras_clipped(optimizer, CLIPPINGS[clipping]),
                  loss=loss)
    history = model.fit(x, y, batch_size=batch_size, epochs=1,
                        shuffle=False, verbose=0)
    khistory = _fit_keras(kmodel, x, y, loss, keras_clipped(
        optimizer, CLIPPINGS[clipping]), batch_size)
    numpy.testing.assert_allclose(history.history["loss"],
                                  khistory.history["loss"], rtol=0,
                                  atol=TRAINED_TOLERANCE)
    clipped = kmodel.get_weights()
    for mine, theirs in zip(model.get_weights(), clipped):
        numpy.testing.assert_allclose(mine, theirs, rtol=0,
                                      atol=TRAINED_TOLERANCE)
    if optimizer == "sgd_momentum":
        kmodel.set_weights(initial)
        _fit_keras(kmodel, x, y, loss, keras_clipped(optimizer, {}),
                   batch_size)
        moved = max(float(numpy.max(numpy.abs(a - b)))
                    for a, b in zip(kmodel.get_weights(), clipped))
        assert moved > 100 * TRAINED_TOLERANCE, moved
    return model


@pytest.mark.parametrize("optimizer", ["sgd_momentum", "adam"])
@pytest.mark.parametrize("clipping", CLIPPINGS)
def test_regularised_dense_layers_clip_as_keras(clipping, optimizer):
    """Two regularised Dense layers (the second's rows copied on the
    first's cores, scaled by its kernel's norm), 100 samples in batches
    of 32: the last of 4."""
    x, y = samples((6,), 100)
    kmodel = dense_model("l1_l2")
    kmodel.set_weights([w + 0.1 if w.ndim == 1 else w
                        for w in kmodel.get_weights()])
    assert_clips_as_keras(kmodel, x, y, "mse", optimizer, clipping)


@pytest.mark.parametrize("clipping, optimizer", [
    ("clipnorm", "sgd_momentum"), ("global_clipnorm", "adam")])
def test_convolutions_clip_as_keras(clipping, optimizer):
    """Conv2Ds (every core holds the kernel's totals: the first sends its
    squares) before a Dense."""
    x, y = samples((6, 6, 1), 100, classes=3)
    assert_clips_as_keras(conv_model("l2"), x, y,
                          "categorical_crossentropy", optimizer, clipping)


@pytest.mark.parametrize("clipping, optimizer", [
    ("global_clipnorm", "sgd_momentum"), ("clipnorm", "adam")])
def test_a_residual_cnn_clips_as_keras(clipping, optimizer):
    x, y = samples((6, 6, 1), 100, classes=3)
    assert_clips_as_keras(residual_cnn_l2(), x, y,
                          "categorical_crossentropy", optimizer, clipping)


@pytest.mark.parametrize("shared_axes", [None, [1, 2]], ids=["own", "shared"])
@pytest.mark.parametrize("clipping", CLIPPINGS)
def test_prelu_alphas_clip_as_keras(clipping, shared_axes):
    """PReLU's alphas after a Conv2D: each its core's, or shared along the
    positions (every core holds their totals, summed along a chain)."""
    x, y = samples((5, 5, 2), 100, classes=3)
    assert_clips_as_keras(_with_spread_alphas(keras_conv_prelu(shared_axes)),
                          x, y, "categorical_crossentropy", "sgd_momentum",
                          clipping)


@pytest.mark.parametrize("make, clipping", [
    (tower, "global_clipnorm"), (recurrent, "clipnorm")])
def test_shared_layers_clip_as_keras(make, clipping):
    """A shared tower (its first use's cores own the norms, every use
    and the cores before it scale by them) and a Dense applied to its
    own output (its first use keeps its own rows)."""
    kmodel = make()
    if make is tower:
        x, y = pair((8,))
        x, y = [part[:100] for part in x], y[:100]
    else:
        x, y = samples((8,), 100, classes=3)
    assert_clips_as_keras(kmodel, x, y, "categorical_crossentropy",
                          "sgd_momentum", clipping)


def test_frozen_layers_are_left_out_of_the_global_norm():
    """Keras' global norm is over the trainable weights only."""
    kmodel = keras_mlp(["middle"])
    frozen = kmodel.get_layer("middle").get_weights()
    x, y = samples((6,), 100, classes=3)
    assert_clips_as_keras(kmodel, x, y, "categorical_crossentropy",
                          "sgd_momentum", "global_clipnorm")
    for before, after in zip(frozen, kmodel.get_layer("middle").get_weights()):
        assert numpy.array_equal(before, after)


# ------------------------------------------------------------- slicing
def _trained_weights(model, clipping, x, y):
    model.compile(optimizer=spiDNN.optimizers.Adam(0.01, **clipping),
                  loss="mse")
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    return model.get_weights()


def _conv_graph(per_core, weights_in="dtcm"):
    """Regularised Conv2Ds, a pooling layer (whose cores keep the Dense's
    rows) and Dense layers at ``per_core`` positions (neurons) per core
    (None: a layer on one core)."""
    x = Input((6, 6, 1))
    a = Conv2D(3, 3, activation="relu", neurons_per_core=3 * (per_core or 16),
               kernel_regularizer="l2", weights_in=weights_in)(x)
    b = MaxPooling2D(2, neurons_per_core=3 * (per_core or 4))(a)
    c = Dense(5, activation="tanh", neurons_per_core=per_core or 5,
              kernel_regularizer="l1")(Flatten()(b))
    return spiDNN.Model(x, Dense(3, neurons_per_core=per_core or 3)(c),
                        seed=3)


@pytest.mark.parametrize("clipping", CLIPPINGS.values(), ids=list(CLIPPINGS))
def test_clipped_weights_are_bit_identical_across_slicings(clipping):
    """The norms are exact sums rounded once: one neuron per core, three,
    a layer on one core, kernels streamed from SDRAM, a 2-D split (whose
    own sums round by the blocks, but whose norms do not) and conv
    positions per core give the same bits."""
    x, y = samples((6,), 48)
    y = y[:, :3]
    runs = [_trained_weights(graph, clipping, x, y) for graph in (
        _graph(1), _graph(3), _graph(None), _graph(2, "sdram"),
        _graph(None, "sdram"))]
    for run in runs[1:]:
        assert all(numpy.array_equal(a, b) for a, b in zip(run, runs[0]))
    split = [_trained_weights(_graph(per_core, inputs_per_core=3), clipping,
                              x, y) for per_core in (1, None)]
    assert all(numpy.array_equal(a, b) for a, b in zip(*split))
    images, labels = samples((6, 6, 1), 24, classes=3)
    convs = [_trained_weights(graph, clipping, images, labels)
             for graph in (_conv_graph(1), _conv_graph(4), _conv_graph(None),
                           _conv_graph(2, "sdram"))]
    for run in convs[1:]:
        assert all(numpy.array_equal(a, b) for a, b in zip(run, convs[0]))


# -------------------------------------------------------------- faults
def test_lost_norm_packets_are_recovered_bit_for_bit():
    """A norm word dropped (the 1st, 4th, 8th on each layer's norm
    partition: words and counts) is recovered by reinjection alone and by
    a replay alone,
    which adds the batch's sums again from its start: the fault-free
    weights."""
    model = _conv_graph(4)
    x, y = samples((6, 6, 1), 12, classes=3)
    optimizer = spiDNN.optimizers.SGD(0.1, global_clipnorm=0.05)
    with MappedModel(model, x, y, loss="mse", epochs=2, batch_size=5,
                     optimizer=optimizer) as rig:
        expected = rig.run()
        layers = [layer.name for layer in model.layers
                  if layer.weights]
        for name in layers:
            for nth in (0, 3, 7):
                for switches in ({"replay": False}, {"reinjection": False}):
                    result = rig.run(Faults(drops=[Drop(name, "norm", nth)],
                                            **switches))
                    assert identical(result, expected), (name, nth)
                    assert rig.report.faults["dropped_targeted"] == 1


# ---------------------------------------------------------- settings
def test_the_clippings_round_trip_through_keras():
    import keras
    for clipping in CLIPPINGS.values():
        optimizer = spiDNN.optimizers.get(keras.optimizers.Nadam(**clipping))
        assert {k: getattr(optimizer, k) for k in clipping} == clipping
        back = spiDNN.optimizers.to_keras(optimizer)
        assert {k: getattr(back, k) for k in clipping} == clipping


@pytest.mark.parametrize("make, match", [
    (lambda: spiDNN.optimizers.SGD(clipnorm=1.0, clipvalue=1.0),
     "only one of clipnorm, clipvalue and global_clipnorm"),
    (lambda: spiDNN.optimizers.Adam(global_clipnorm=-1.0),
     r"global_clipnorm must be in \[0.0"),
    (lambda: spiDNN.optimizers.Adam(clipnorm="1"), "clipnorm must be in"),
])
def test_bad_clippings_are_refused(make, match):
    with pytest.raises(SpiDNNConfigurationError, match=match):
        make()
