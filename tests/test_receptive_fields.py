"""Receptive fields: a conv or pooling core keeps only the input rows its
windows read, and gathers only the deltas of the output rows whose windows
read the inputs it sends dL/dx of; the numbers do not change with the
bands."""
import itertools

import numpy
import pytest

import spiDNN
from spiDNN.layers import (
    AveragePooling2D, Conv1D, Conv2D, Dense, Flatten, Input, MaxPooling2D,
    UpSampling2D, ZeroPadding2D)


def built(layer, input_shape):
    spiDNN.Model([Input(*input_shape), layer])
    return layer


def rows_read_by_brute_force(layer, out_row):
    """The input rows any window of output row ``out_row`` reads, by
    walking its windows as Keras' padding places them."""
    g = layer.geometry
    if g["in_height"] == 1 and g["out_height"] == 1:       # 1-D: positions
        k, stride, pad, n_in = (g["kernel_width"], g["stride_width"],
                                g["pad_left"], g["in_width"])
    else:
        k, stride, pad, n_in = (g["kernel_height"], g["stride_height"],
                                g["pad_top"], g["in_height"])
    if getattr(layer, "mode", None) == "upsample":
        return {out_row // k}
    return {r for r in range(out_row * stride - pad,
                             out_row * stride - pad + k) if 0 <= r < n_in}


GEOMETRIES = [
    (Conv2D(2, k, strides=s, padding=p), (9, 7, 2))
    for k, s, p in itertools.product((1, 2, 3, 5), (1, 2, 3, 4),
                                     ("valid", "same"))
] + [
    (MaxPooling2D(3, strides=2, padding="same"), (8, 8, 1)),
    (AveragePooling2D(2, strides=3), (9, 9, 2)),
    (ZeroPadding2D(((2, 1), (0, 1))), (5, 4, 1)),
    (UpSampling2D((3, 2)), (4, 3, 2)),
    (Conv1D(3, 4, strides=2, padding="same"), (11, 2)),
]


@pytest.mark.unit
@pytest.mark.parametrize("layer, input_shape", GEOMETRIES,
                         ids=lambda v: getattr(v, "name", str(v)))
def test_bands_hold_exactly_the_rows_the_windows_read(layer, input_shape):
    layer = built(layer, input_shape)
    _, n_in, _, n_out, _, _, _ = layer._axis()
    reading = {r: rows_read_by_brute_force(layer, r) for r in range(n_out)}
    for first, end in itertools.combinations(range(n_out + 1), 2):
        wanted = set().union(*(reading[r] for r in range(first, end)))
        lo, hi = layer.rows_read(first, end)
        assert wanted <= set(range(lo, hi))
        assert not wanted or (lo, hi) == (min(wanted), max(wanted) + 1)
    for first, end in itertools.combinations(range(n_in + 1), 2):
        readers = {r for r in range(n_out)
                   if reading[r] & set(range(first, end))}
        lo, hi = layer.rows_reading(first, end)
        assert readers <= set(range(lo, hi))
        # Whole rows between the first and last reader: a band.
        assert set(range(lo, hi)) == (
            set(range(min(readers), max(readers) + 1)) if readers else set())


@pytest.mark.unit
def test_a_core_keeps_its_band_not_the_whole_input():
    model = spiDNN.Model([Input(28, 28, 1),
                          Conv2D(8, 3, neurons_per_core=26 * 8),  # a row
                          MaxPooling2D(2, neurons_per_core=13 * 8)])
    conv, pool = model.layers
    # Output row 5 of the conv reads input rows 5 .. 7.
    assert conv.input_span(5 * 26 * 8, 6 * 26 * 8) == (5 * 28, 3 * 28)
    assert conv.core_inputs(26 * 8) == 3 * 28
    # Pooling row 2 reads conv rows 4 and 5; training, the core also
    # keeps the windows over the conv elements whose dL/dx it sends.
    assert pool.input_span(2 * 13 * 8, 3 * 13 * 8) == (4 * 26 * 8,
                                                      2 * 26 * 8)
    assert pool.core_inputs(13 * 8, training=True) < pool.n_inputs / 4
    assert pool.core_deltas(13 * 8) <= 2 * 13 * 8


def train(per_core):
    """A padding - conv - pool - conv - dense model trained on a few
    samples, with the windowed layers' bands of ``per_core`` output
    positions (a padding row reads no input: its core takes the nearest
    row, whose arrival starts its pass)."""
    pad, conv, pool, conv_1 = per_core
    model = spiDNN.Model(seed=3)
    model.add(Input(8, 7, 2))
    model.add(ZeroPadding2D(1, neurons_per_core=2 * pad))
    model.add(Conv2D(3, 3, activation="tanh", padding="same",
                     neurons_per_core=3 * conv))
    model.add(MaxPooling2D(2, strides=2, padding="same",
                           neurons_per_core=3 * pool))
    model.add(Conv2D(2, 2, strides=2, activation="relu",
                     neurons_per_core=2 * conv_1))
    model.add(Flatten())
    model.add(Dense(3, activation="softmax"))
    rng = numpy.random.default_rng(5)
    x = rng.normal(size=(24, 8, 7, 2)).astype(numpy.float32)
    y = rng.integers(0, 3, size=24)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False,
                        verbose=0)
    return model.predict(x), model.get_weights(), history.history["loss"]


def test_the_bands_do_not_change_a_bit():
    """One position a core, part rows, whole rows and one core (each
    layer's dL/dx by holder, or, with more cores than its source's, by
    range: the conv of (90, 1, 1, 1)): the same predictions, weights and
    losses."""
    results = [train(per_core) for per_core in
               ((1, 1, 1, 1), (9, 7, 4, 3), (27, 9, 15, 6),
                (90, 90, 25, 6), (90, 1, 1, 1))]
    for other in results[1:]:
        assert numpy.array_equal(results[0][0], other[0])
        assert all(numpy.array_equal(a, b)
                   for a, b in zip(results[0][1], other[1]))
        assert results[0][2] == other[2]


def _pooled(monkeypatch, max_segments, max_partitions=128):
    """A conv of one position a core (36 cores) before a pooling of one
    core, trained on 8 samples: its predictions, weights and the
    packets delivered, the pooling's dL/dx by holder unless
    ``max_segments`` is below the 36 holders or the model's partitions
    and the holders' would be over ``max_partitions``."""
    from spiDNN.compiler import machine_graph
    from spiDNN.compiler.vertices import window
    monkeypatch.setattr(window, "MAX_HOLDER_SEGMENTS", max_segments)
    monkeypatch.setattr(machine_graph, "MAX_PARTITIONS", max_partitions)
    model = spiDNN.Model(seed=4)
    model.add(Input(8, 8, 1))
    model.add(Conv2D(3, 3, activation="tanh", neurons_per_core=3,
                     name="conv"))
    model.add(MaxPooling2D(2, neurons_per_core=27, name="pool"))
    model.add(Flatten())
    model.add(Dense(2, activation="softmax", name="dense"))
    rng = numpy.random.default_rng(6)
    x = rng.normal(size=(8, 8, 8, 1)).astype(numpy.float32)
    y = rng.integers(0, 2, size=8)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    run = model.last_run
    return (model.predict(x), model.get_weights(), run.packets_delivered,
            run.deliveries_per_sample)


def test_dl_dx_reaches_only_the_core_holding_it(monkeypatch):
    """By holder, each of the conv's 36 cores receives its 3 elements'
    dL/dx a sample; by range (too many holders for a core, or for the
    model's keys), all 108 of the pooling's one core: 8 samples x 35 x
    108 deliveries more, and the same numbers."""
    by_holder = _pooled(monkeypatch, 64)
    by_range = _pooled(monkeypatch, 35)
    assert by_range[2] - by_holder[2] == 8 * 35 * 108
    # All of them at the conv's cores, a sample.
    assert by_range[3].pop("conv") - by_holder[3].pop("conv") == 35 * 108
    assert by_range[3] == by_holder[3]
    # Without the keys for 35 partitions more, by range.
    assert _pooled(monkeypatch, 64, max_partitions=40)[2] == by_range[2]
    assert numpy.array_equal(by_holder[0], by_range[0])
    assert all(numpy.array_equal(a, b)
               for a, b in zip(by_holder[1], by_range[1]))
