"""Keras callbacks that need the Keras model, through spiDNN.keras.fit,
with Keras as the oracle: TensorBoard's event files (epoch and batch
scalars, validation's, weight histograms) and BackupAndRestore resuming a
fit that a callback's exception interrupted."""
import glob
import os

import keras
import numpy
import pytest
import tensorflow as tf

import spiDNN
from spiDNN.errors import SpiDNNConfigurationError

RNG = numpy.random.default_rng(30)
X = RNG.normal(size=(48, 6)).astype(numpy.float32)
Y = RNG.integers(0, 3, 48)
XV = RNG.normal(size=(16, 6)).astype(numpy.float32)
YV = RNG.integers(0, 3, 16)
TOLERANCE = 1e-4
KWARGS = dict(batch_size=16, shuffle=False, verbose=0)


def compiled(optimizer=None):
    keras.utils.set_random_seed(4)
    # Named: the histograms' tags are the weights' paths.
    kmodel = keras.Sequential([
        keras.Input((6,)),
        keras.layers.Dense(5, activation="tanh", name="hidden"),
        keras.layers.Dense(3, activation="softmax", name="out")], name="net")
    kmodel.compile(optimizer=optimizer or keras.optimizers.Adam(0.03),
                   loss="sparse_categorical_crossentropy",
                   metrics=["accuracy"])
    return kmodel


def scalars(log_dir):
    """{(run, tag): {step: value}} of the event files under log_dir."""
    found = {}
    for path in glob.glob(os.path.join(log_dir, "*", "events.*")):
        run = os.path.basename(os.path.dirname(path))
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name != "scalars":
                    continue
                found.setdefault((run, value.tag), {})[event.step] = float(
                    tf.make_ndarray(value.tensor))
    return found


def histograms(log_dir):
    """{tag: {step: (bucket edges and counts)}} of the weight
    histograms."""
    found = {}
    for path in glob.glob(os.path.join(log_dir, "train", "events.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                if value.tag.endswith("/histogram"):
                    found.setdefault(value.tag, {})[event.step] = \
                        tf.make_ndarray(value.tensor)
    return found


def _timing(tag):
    return "steps_per_second" in tag


def both_tensorboard(tmp_path, **settings):
    """(spiDNN's History, Keras', their scalars, their histograms) of the
    same fit with TensorBoard(**settings)."""
    ours, theirs = str(tmp_path / "spidnn"), str(tmp_path / "keras")
    fit = dict(KWARGS, epochs=3, validation_data=(XV, YV))
    history = spiDNN.keras.fit(compiled(), X, Y, callbacks=[
        keras.callbacks.TensorBoard(ours, **settings)], **fit)
    reference = compiled().fit(X, Y, callbacks=[
        keras.callbacks.TensorBoard(theirs, **settings)], **fit)
    return (history, reference, scalars(ours), scalars(theirs),
            histograms(ours), histograms(theirs))


def assert_same_scalars(mine, keras_scalars):
    mine = {key: steps for key, steps in mine.items() if not _timing(key[1])}
    keras_scalars = {key: steps for key, steps in keras_scalars.items()
                     if not _timing(key[1])}
    assert sorted(mine) == sorted(keras_scalars)
    for key, steps in keras_scalars.items():
        assert sorted(mine[key]) == sorted(steps), key
        for step, value in steps.items():
            assert mine[key][step] == pytest.approx(value, abs=TOLERANCE), (
                key, step)


def test_tensorboard_epoch_scalars_and_histograms_match_keras(tmp_path):
    history, reference, mine, theirs, mine_h, theirs_h = both_tensorboard(
        tmp_path, histogram_freq=1)
    assert_same_scalars(mine, theirs)
    # The epoch scalars are the History's.
    for name, values in history.history.items():
        run = "validation" if name.startswith("val_") else "train"
        tag = "epoch_" + name.removeprefix("val_")
        assert [mine[(run, tag)][e] for e in range(3)] == pytest.approx(
            values, abs=1e-6)
    # The weight histograms: the same tags and epochs, of the same weights
    # (bucket edges and counts).
    assert sorted(mine_h) == sorted(theirs_h) == [
        f"net/{layer}/{weight}/histogram" for layer in ("hidden", "out")
        for weight in ("bias", "kernel")]
    for tag, steps in theirs_h.items():
        assert sorted(mine_h[tag]) == [0, 1, 2]
        for step, buckets in steps.items():
            numpy.testing.assert_allclose(mine_h[tag][step], buckets,
                                          atol=TOLERANCE)


@pytest.mark.parametrize("update_freq", ["batch", 2])
def test_tensorboard_batch_scalars_match_keras(tmp_path, update_freq):
    _, _, mine, theirs, _, _ = both_tensorboard(tmp_path,
                                                update_freq=update_freq)
    assert ("train", "batch_loss") in theirs
    assert_same_scalars(mine, theirs)


def test_tensorboard_on_a_spidnn_model_is_refused_clearly(tmp_path):
    model = spiDNN.from_keras(compiled())
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(SpiDNNConfigurationError,
                       match=r"TensorBoard .*spiDNN.keras.fit"):
        model.fit(X, Y, epochs=1, callbacks=[
            keras.callbacks.TensorBoard(str(tmp_path))], verbose=0)


class Interrupt(keras.callbacks.Callback):
    """Raises at the start of epoch ``at`` (as a preempted job dies)."""

    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at:
            raise RuntimeError("interrupted")


def resumed(fit, backup, optimizer, at=2, epochs=4, **settings):
    """The final weights and History of a fit interrupted at epoch ``at``
    and run again with the same BackupAndRestore(backup) (``optimizer``:
    makes the optimizer)."""
    kmodel = compiled(optimizer())
    with pytest.raises(RuntimeError, match="interrupted"):
        fit(kmodel, X, Y, epochs=epochs, callbacks=[
            keras.callbacks.BackupAndRestore(backup, **settings),
            Interrupt(at)], **KWARGS)
    kmodel = compiled(optimizer())     # a new process: a fresh model
    history = fit(kmodel, X, Y, epochs=epochs, callbacks=[
        keras.callbacks.BackupAndRestore(backup, **settings)], **KWARGS)
    assert not os.path.exists(backup)  # deleted at the end, as Keras
    return kmodel.get_weights(), history


def _keras_fit(kmodel, *args, **kwargs):
    return kmodel.fit(*args, **kwargs)


@pytest.mark.parametrize("optimizer", [
    lambda: keras.optimizers.Adam(0.03),
    lambda: keras.optimizers.SGD(0.1, momentum=0.9)])
def test_backup_and_restore_resumes_as_an_uninterrupted_fit(tmp_path,
                                                            optimizer):
    weights, history = resumed(spiDNN.keras.fit, str(tmp_path / "ours"),
                               optimizer)
    whole = compiled(optimizer())
    whole_history = spiDNN.keras.fit(whole, X, Y, epochs=4, **KWARGS)
    # Bit for bit: the restored weights, optimizer state and epoch.
    for mine, uninterrupted in zip(weights, whole.get_weights()):
        numpy.testing.assert_array_equal(mine, uninterrupted)
    assert history.epoch == [2, 3]
    assert history.history["loss"] == whole_history.history["loss"][2:]
    # And as Keras' own resumed fit.
    keras_weights, keras_history = resumed(
        _keras_fit, str(tmp_path / "keras"), optimizer)
    for mine, theirs in zip(weights, keras_weights):
        numpy.testing.assert_allclose(mine, theirs, atol=TOLERANCE)
    assert history.history["loss"] == pytest.approx(
        keras_history.history["loss"], abs=TOLERANCE)


def test_backup_and_restore_by_batches_matches_keras(tmp_path):
    """save_freq in batches: the backup holds the last saved batch's
    weights (and the epoch it began), as Keras'."""
    settings = dict(save_freq=2, delete_checkpoint=False)
    for fit, name in ((spiDNN.keras.fit, "ours"), (_keras_fit, "keras")):
        kmodel = compiled()
        with pytest.raises(RuntimeError, match="interrupted"):
            fit(kmodel, X, Y, epochs=3, callbacks=[
                keras.callbacks.BackupAndRestore(str(tmp_path / name),
                                                 **settings),
                Interrupt(2)], **KWARGS)
    for name in ("training_metadata.json",):
        assert (tmp_path / "ours" / name).read_text() == (
            tmp_path / "keras" / name).read_text()
    mine, theirs = compiled(), compiled()
    for one in (mine, theirs):
        one.optimizer.build(one.trainable_variables)
    mine.load_weights(str(tmp_path / "ours" / "latest.weights.h5"))
    theirs.load_weights(str(tmp_path / "keras" / "latest.weights.h5"))
    for a, b in zip(mine.get_weights(), theirs.get_weights()):
        numpy.testing.assert_allclose(a, b, atol=TOLERANCE)
    for a, b in zip(mine.optimizer.variables, theirs.optimizer.variables):
        numpy.testing.assert_allclose(a.numpy(), b.numpy(), atol=TOLERANCE)
    # Resumed from the mid-epoch backup (the interrupted epoch again, as
    # Keras restarts it), both end on the same weights.
    final = []
    for fit, name in ((spiDNN.keras.fit, "ours"), (_keras_fit, "keras")):
        kmodel = compiled()
        history = fit(kmodel, X, Y, epochs=3, callbacks=[
            keras.callbacks.BackupAndRestore(str(tmp_path / name),
                                             **settings)], **KWARGS)
        # The last save came in epoch 1 (its third batch), before its end.
        assert history.epoch == [1, 2]
        final.append(kmodel.get_weights())
    for a, b in zip(*final):
        numpy.testing.assert_allclose(a, b, atol=TOLERANCE)


def test_backup_and_restore_of_a_shuffled_fit_is_bit_for_bit(tmp_path):
    """Shuffled with spiDNN's seed: the resumed run draws the orders of
    the epochs it skips, so it trains on the whole run's orders."""
    def fit(kmodel, *args, **kwargs):
        return spiDNN.keras.fit(kmodel, *args, **dict(
            kwargs, shuffle=True, seed=5))
    weights, _ = resumed(fit, str(tmp_path / "b"),
                         lambda: keras.optimizers.Adam(0.03))
    whole = compiled()
    fit(whole, X, Y, epochs=4, **KWARGS)
    for mine, uninterrupted in zip(weights, whole.get_weights()):
        numpy.testing.assert_array_equal(mine, uninterrupted)


@pytest.mark.parametrize("method", ["evaluate", "predict"])
def test_callbacks_of_evaluate_and_predict_are_taken_as_keras_takes_them(
        method):
    """None, a list, a callback whose test and predict hooks do nothing
    (History): accepted (tests/test_test_and_predict_hooks.py calls the
    hooks); anything that is not a callback refused by name."""
    model = spiDNN.from_keras(compiled())
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    arguments = (X, Y) if method == "evaluate" else (X,)
    for given in (None, [], [keras.callbacks.History()]):
        getattr(model, method)(*arguments, verbose=0, callbacks=given)
    with pytest.raises(SpiDNNConfigurationError, match="Callback objects"):
        getattr(model, method)(*arguments, verbose=0, callbacks=["x"])


def test_steps_per_execution_is_refused_naming_it():
    """Keras calls the batch hooks every steps_per_execution batches;
    spiDNN after each: refused rather than called otherwise."""
    kmodel = compiled()
    kmodel.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                   steps_per_execution=2)
    with pytest.raises(SpiDNNConfigurationError,
                       match=r"steps_per_execution=2"):
        spiDNN.keras.fit(kmodel, X, Y, verbose=0)
