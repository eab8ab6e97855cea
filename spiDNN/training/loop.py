"""Keras' training loop around the machine: epochs on one loaded machine,
metrics, validation, callbacks (``keras.callbacks.Callback`` protocol),
``initial_epoch``; and ``evaluate``.

The epochs of one ``fit`` run on one loaded machine: it is mapped once,
and the weights come back to the host only when a callback asks for them
(``model.get_weights()``, ``save``...) or at the end.  A callback that
watches batches (``on_train_batch_end``, such as ``TerminateOnNaN``) makes
the host run one batch per call, so that ``model.stop_training`` stops
after exactly that batch, as in Keras.
"""
import numpy

from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.training.history import History, mean_loss, mean_of_batches


def _logs(losses, metrics, training, prefix=""):
    """An epoch's (or a run's) loss and the other logs (each output's
    loss, with several; the metrics), Keras' way: means over the samples
    (each output's loss: of its batches' means), by name in sorted order
    (Keras' pythonify_logs)."""
    logs = {f"{prefix}loss": mean_loss(losses)}
    for column, name in enumerate(training.log_names):
        logs[f"{prefix}{name}"] = (
            mean_of_batches(metrics[:, column], training.batch_size)
            if column < training.batch_averaged
            else mean_loss(metrics[:, column]))
    return dict(sorted(logs.items()))


def _watches_batches(callback):
    """The callback has a batch hook of its own: on its class, or set on
    the object (as LambdaCallback and hooks assigned in __init__ are)."""
    for hook in ("on_train_batch_end", "on_batch_end",
                 "on_train_batch_begin", "on_batch_begin"):
        if hook in vars(callback):
            return True
        method = getattr(type(callback), hook, None)
        if method is None:
            continue
        base = getattr(_base_callback(), hook, None)
        if base is None or method is not base:
            return True
    return False


def _base_callback():
    import keras
    return keras.callbacks.Callback


def _listed(callbacks):
    """The user's callbacks as a list, as Keras takes them (one callback,
    or a list or tuple of them), or a clear error."""
    if callbacks is None:
        return []
    listed = list(callbacks) if isinstance(callbacks, (list, tuple)) else [
        callbacks]
    for callback in listed:
        if not all(callable(getattr(callback, method, None))
                   for method in ("set_model", "set_params")):
            raise SpiDNNConfigurationError(
                f"callbacks takes keras.callbacks.Callback objects (one, or "
                f"a list of them), not {callback!r}")
    return listed


class Callbacks:
    """The user's callbacks, called in order."""

    def __init__(self, callbacks, model, params):
        self.callbacks = _listed(callbacks)
        for callback in self.callbacks:
            callback.set_model(model)
            callback.set_params(params)
        self.batch_level = any(map(_watches_batches, self.callbacks))

    def __getattr__(self, hook):
        def call(*args):
            for callback in self.callbacks:
                getattr(callback, hook)(*args)
        return call


def fit_on(machine, model, training, inputs, labels, order, progress,
           validation=None, callbacks=None, initial_epoch=0):
    """Trains ``model`` on a machine loaded for this fit
    (:py:class:`~spiDNN.machines.virtual.TrainingMachine`); returns its
    :py:class:`~spiDNN.History`.

    :param validation: (inputs, labels) to evaluate after each epoch, or
        None
    """
    names = training.log_names
    n = training.n_samples
    history = History(training.history_params())
    model.stop_training = False
    model._resolved_metrics = training.metrics
    calls = Callbacks(callbacks, model, {
        "epochs": training.n_epochs, "verbose": progress.verbose,
        "steps": -(-n // training.batch_size)})
    model._weights_on_machine = lambda: machine.weights()[0]
    try:
        logs = {}
        for skipped in range(initial_epoch):
            order(skipped)      # the seeded orders stay in step
        calls.on_train_begin({})
        for epoch in range(initial_epoch, training.n_epochs):
            progress.start_epoch(epoch)
            calls.on_epoch_begin(epoch, {})
            losses, metrics, done = _epoch(
                machine, model, calls, inputs, labels, order(epoch),
                epoch, training, names, progress)
            logs = _logs(losses[:done], metrics[:done], training)
            if validation is not None:
                logs = dict(sorted({**logs, **_logs(*machine.evaluate(
                    *validation, what=f"validation, epoch {epoch + 1}"),
                    training, prefix="val_")}.items()))
            progress.end_epoch(logs)
            history.add_epoch(losses[:done], logs, epoch)
            calls.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
        weights, state = machine.weights()
    finally:
        model._weights_on_machine = None
    model._take_weights(weights)
    model.optimizer_state = {"iterations": machine.steps, "slots": state}
    model.last_run = machine.report()
    calls.on_train_end(logs)
    return history


def _epoch(machine, model, calls, inputs, labels, epoch_order, epoch,
           training, names, progress):
    n, batch_size = len(epoch_order), training.batch_size
    # Keras looks at stop_training after each batch: set before them (in
    # on_train_begin or on_epoch_begin), one batch trains.
    chunk = batch_size if calls.batch_level or model.stop_training else (
        machine.chunk)
    losses = numpy.empty(n, dtype=numpy.float32)
    metrics = numpy.empty((n, len(names)), dtype=numpy.float32)
    done = 0
    for first in range(0, n, chunk):
        rows = epoch_order[first:first + chunk]
        batch = first // batch_size
        if calls.batch_level:
            calls.on_train_batch_begin(batch, {})
        losses[first:first + len(rows)], metrics[first:first + len(rows)] = (
            machine.train(inputs, labels, rows, first, epoch,
                          training.n_epochs))
        done = first + len(rows)
        running = _logs(losses[:done], metrics[:done], training)
        progress.update(done, running["loss"])
        if calls.batch_level:
            calls.on_train_batch_end(batch, running)
        if model.stop_training:
            break
    return losses, metrics, done


def logs_of(losses, metrics, training):
    """``evaluate``'s logs: the loss and the others (each output's loss,
    each metric), means over the samples."""
    return _logs(losses, metrics, training)
