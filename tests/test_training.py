"""fit as a user meets it: accuracy, sessions, shuffling, progress and
the run report (faults during training: test_faults.py)."""
import os
import threading

import numpy

import spiDNN
from spiDNN.abi import layouts

from conftest import keras_model, spidnn_model, spidnn_temp_folders


def numpy_forward(weights, x, activations):
    """The oracle for predict after fit: the trained weights in numpy."""
    functions = {
        "tanh": numpy.tanh, "relu": lambda z: numpy.maximum(z, 0),
        "sigmoid": lambda z: 1 / (1 + numpy.exp(-z)), None: lambda z: z,
        "softmax": lambda z: numpy.exp(z - z.max(1, keepdims=True)) / (
            numpy.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True))}
    a = x.astype(numpy.float64)
    for (kernel, bias), activation in zip(
            zip(weights[::2], weights[1::2]), activations):
        a = functions[activation](a @ kernel + bias)
    return a


def test_digits_accuracy_matches_keras(digits):
    """scikit-learn's digits: within 1 point of the same Keras model."""
    import keras
    from sklearn.model_selection import train_test_split
    x, y = digits
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=0, stratify=y)
    spec = [(32, "tanh"), (10, "softmax")]
    reference = keras_model(64, spec, seed=3)
    model = spidnn_model(64, spec, weights=reference.get_weights())
    model.compile(optimizer=spiDNN.optimizers.SGD(0.1),
                  loss="sparse_categorical_crossentropy")
    model.fit(x_train, y_train, epochs=5, batch_size=16, shuffle=False,
              verbose=0)
    reference.compile(optimizer=keras.optimizers.SGD(0.1),
                      loss="sparse_categorical_crossentropy")
    reference.fit(x_train, y_train, epochs=5, batch_size=16, shuffle=False,
                  verbose=0)
    ours = numpy.mean(model.predict(x_test).argmax(1) == y_test)
    theirs = numpy.mean(
        reference.predict(x_test, verbose=0).argmax(1) == y_test)
    assert theirs > 0.9
    assert abs(ours - theirs) <= 0.01


def _open_fds():
    return len(os.listdir("/proc/self/fd"))


def test_fit_predict_fit_predict_in_one_process(digits):
    x, classes = digits
    x, y = x[:60], numpy.eye(10, dtype=numpy.float32)[classes[:60]]
    spec = [(12, "relu"), (10, "softmax")]
    model = spidnn_model(64, spec, neurons_per_core=3)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    folders, threads = spidnn_temp_folders(), threading.active_count()
    model.predict(x)      # the toolchain's one-off imports and caches
    fds = _open_fds()
    losses = []
    for _ in range(3):
        history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
        losses.append(history.history["loss"][0])
        numpy.testing.assert_allclose(
            model.predict(x), numpy_forward(
                model.get_weights(), x, ["relu", "softmax"]), atol=1e-5)
    assert losses[2] < losses[1] < losses[0]     # it keeps learning
    assert spidnn_temp_folders() == folders
    assert threading.active_count() == threads
    assert _open_fds() == fds


def test_shuffle_is_seeded_and_reproducible():
    rng = numpy.random.default_rng(1)
    x = rng.random((40, 6)).astype(numpy.float32)
    y = rng.random((40, 2)).astype(numpy.float32)
    spec = [(5, "sigmoid"), (2, None)]

    def train(seed, shuffle, batch_size=4):
        model = spiDNN.Model(seed=seed).add(spiDNN.layers.Input(6))
        for units, activation in spec:
            model.add(spiDNN.layers.Dense(units, activation=activation))
        history = model.fit(x, y, loss="mse", epochs=2,
                            batch_size=batch_size, learning_rate=0.3,
                            shuffle=shuffle, verbose=0)
        return model.get_weights(), history.sample_losses

    first, first_losses = train(7, True)
    again, again_losses = train(7, True)
    for a, b in zip(first + first_losses, again + again_losses):
        numpy.testing.assert_array_equal(a, b)
    unshuffled, _ = train(7, False)
    assert any(not numpy.array_equal(a, b)
               for a, b in zip(first, unshuffled))
    # One batch of all 40: the first epoch's losses all come from the
    # initial weights, so shuffling only reorders them.
    _, shuffled_losses = train(7, True, batch_size=40)
    _, ordered_losses = train(7, False, batch_size=40)
    assert not numpy.array_equal(shuffled_losses[0], ordered_losses[0])
    numpy.testing.assert_array_equal(
        numpy.sort(shuffled_losses[0]), numpy.sort(ordered_losses[0]))


def test_progress_bar_and_silence(capsys):
    x = numpy.random.default_rng(2).random((12, 3)).astype(numpy.float32)
    y = numpy.random.default_rng(3).random((12, 1)).astype(numpy.float32)
    model = spidnn_model(3, [(4, "tanh"), (1, "sigmoid")])
    model.fit(x, y, loss="mse", epochs=2, verbose=0)
    assert capsys.readouterr().out == ""
    history = model.fit(x, y, loss="mse", epochs=2, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert "12/12 [" in out
    assert f"loss: {history.history['loss'][1]:.4f}" in out
    model.fit(x, y, loss="mse", epochs=2, verbose=2)
    out = capsys.readouterr().out
    assert "Epoch 2/2" in out and "[" not in out


def test_run_report_counts_packets_by_layer_and_partition():
    """Without softmax exchanges, every input, label and neuron sends one
    packet per direction: the lower bound exactly."""
    x = numpy.random.default_rng(4).random((9, 8)).astype(numpy.float32)
    y = (x[:, :1] > 0.5).astype(numpy.float32)
    model = spidnn_model(8, [(4, "relu"), (1, "sigmoid")], neurons_per_core=2)
    model.fit(x, y, loss="binary_crossentropy", epochs=2, verbose=0)
    report = model.last_run
    names = [layer.name for layer in model.layers]
    assert report.samples == 18
    assert report.packets_per_sample == {
        "input/forward": 8, "labels/forward": 1,
        f"{names[0]}/forward": 4, f"{names[1]}/forward": 1,
        "loss/backward": 1, "loss/loss": 1, f"{names[1]}/backward": 1}
    assert report.packets_per_sample_total == (
        report.packets_per_sample_lower_bound)
    assert report.weight_packets == 8 * 4 + 4 + 4 * 1 + 1
    assert report.packets_dropped == 0
    assert 0 < report.peak_dtcm_bytes <= layouts.DTCM_HEAP_BYTES


def test_softmax_layers_add_their_exchanges():
    x = numpy.random.default_rng(5).random((4, 3)).astype(numpy.float32)
    y = numpy.eye(2, dtype=numpy.float32)[[0, 1, 1, 0]]
    model = spidnn_model(3, [(6, "softmax"), (2, "softmax")])
    model.fit(x, y, loss="mse", verbose=0)
    report = model.last_run
    name = model.layers[0].name
    assert report.packets_per_sample[f"{name}/softmax"] == 6
    assert report.packets_per_sample[f"{name}/softmax_backward"] == 6
    # Both layers exchange (mse takes probabilities): 2 x (6 + 2) more.
    assert report.packets_per_sample_total == (
        report.packets_per_sample_lower_bound + 16)
