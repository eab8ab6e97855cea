"""The conv and pooling apps' packet protocol as the run report counts it:
one packet per neuron and direction, dL/dx once per input element, the
kernel gradient sums once per core and batch, the host's scale and commit
once per batch, nothing for layers before the first with weights."""
import numpy

import spiDNN
from spiDNN.layers import (
    AveragePooling2D, Conv2D, Dense, Input, MaxPooling2D, ZeroPadding2D)


def test_packets_per_sample_and_per_batch():
    model = spiDNN.Model(seed=0).add(Input(6, 6, 1))
    model.add(ZeroPadding2D(1))                                  # 8x8x1
    model.add(Conv2D(3, 3, activation="relu", neurons_per_core=27))  # 6x6x3
    model.add(MaxPooling2D(2))                                   # 3x3x3
    model.add(Conv2D(2, 2, neurons_per_core=8))                  # 2x2x2
    model.add(AveragePooling2D(2))                               # 1x1x2
    model.add(Dense(3, activation="softmax"))
    x = numpy.random.default_rng(0).normal(size=(10, 6, 6, 1))
    y = numpy.arange(10) % 3
    model.fit(x, y, loss="sparse_categorical_crossentropy", epochs=2,
              batch_size=4, learning_rate=0.1, shuffle=False, verbose=0)
    run = model.last_run
    conv, pool, conv_1, pool_1 = model.layers[1:5]
    sent = run.packets_per_sample
    # Forward: every neuron once.
    for layer in model.layers:
        assert sent[f"{layer.name}/forward"] == layer.units
    # The first conv sends nothing back (the padding before it has no
    # weights and only forwards); windowed layers after it exchange their
    # deltas and send dL/dx once per input element.
    assert f"{conv.name}/backward" not in sent
    assert f"{model.layers[0].name}/backward" not in sent
    for layer in (pool, conv_1, pool_1):
        assert sent[f"{layer.name}/exchange"] == layer.units
        assert sent[f"{layer.name}/backward"] == layer.n_inputs
    assert sent[f"{model.layers[-1].name}/backward"] == 3
    # The kernel gradient sums: every weight once per core and batch; the
    # host's step scale and commit once per batch, and its request for the
    # weights once.
    assert model.plan.layer(conv.name).n_cores == 4
    assert model.plan.layer(conv_1.name).n_cores == 1
    n_batches = 2 * 3
    assert run.packets_per_batch == {
        f"{conv.name}/gradient_chain": 4 * 30,
        f"{conv_1.name}/gradient_chain": 1 * 26,
        "control/control": (2 * n_batches + 1) / n_batches}
    assert sent[f"{conv.name}/gradient_chain"] == 4 * 30 * n_batches / 20
    # What each layer's contract needs, and the chain on top.
    assert run.packets_per_sample_total == (
        run.packets_per_sample_lower_bound
        + (4 * 30 + 26) * n_batches / 20)
    assert run.packets_dropped == 0
