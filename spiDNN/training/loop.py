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
import itertools

import numpy

from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.training.history import History, mean_loss, mean_of_batches
from spiDNN.training.sources import ArraySource
from spiDNN.training.steps import Steps, should_validate


def _logs(losses, metrics, training, prefix="", sizes=None):
    """An epoch's (or a run's) loss and the other logs (each output's
    loss, with several; the metrics), Keras' way: means over the samples
    (each output's loss: of its batches' means, the batches of ``sizes``
    samples, by default of training's batch size), by name in sorted order
    (Keras' pythonify_logs)."""
    logs = {f"{prefix}loss": mean_loss(losses)}
    names = training.log_names
    averaged = training.batch_averaged
    for column, name in enumerate(names[:averaged]):
        logs[f"{prefix}{name}"] = mean_of_batches(
            metrics[:, column], training.batch_size if sizes is None
            else sizes)
    for name, value in zip(names[averaged:], training.metric_logs(metrics)):
        logs[f"{prefix}{name}"] = value
    return dict(sorted(logs.items()))


#: The batch hooks of fit's batches (Keras' on_batch_* are aliases).
TRAIN_BATCH_HOOKS = ("on_train_batch_end", "on_batch_end",
                     "on_train_batch_begin", "on_batch_begin")
TEST_BATCH_HOOKS = ("on_test_batch_begin", "on_test_batch_end")


def _watches_batches(callback, hooks=TRAIN_BATCH_HOOKS):
    """The callback has one of the batch ``hooks`` of its own: on its
    class, or set on the object (as LambdaCallback and hooks assigned in
    __init__ are)."""
    for hook in hooks:
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


def listed(callbacks):
    """The user's callbacks as a list, as Keras takes them (one callback,
    or any nesting of lists, tuples and dicts of them, which Keras
    flattens; a CallbackList's), or a clear error."""
    if callbacks is None:
        return []
    import keras
    if isinstance(callbacks, keras.callbacks.CallbackList):
        callbacks = list(callbacks.callbacks)
    listed = keras.tree.flatten(callbacks)
    for callback in listed:
        if not isinstance(callback, _base_callback()) and not all(
                callable(getattr(callback, method, None))
                for method in ("set_model", "set_params", "on_train_begin",
                               "on_epoch_begin", "on_epoch_end",
                               "on_train_end")):
            raise SpiDNNConfigurationError(
                f"callbacks takes keras.callbacks.Callback objects (one, or "
                f"a list of them), not {callback!r}"
                + (" (a name: give the object, such as "
                   "keras.callbacks.EarlyStopping())"
                   if isinstance(callback, str) else ""))
    return listed


def batch_sizes(n_samples, batch_size):
    """The sizes of ``n_samples`` in batches of ``batch_size`` (the last
    what is left)."""
    full, left = divmod(n_samples, batch_size)
    return [batch_size] * full + ([left] if left else [])


def run_test_hooks(calls, losses, metrics, training, sizes, stopped=False):
    """Keras' evaluate hooks of batches the machine has evaluated (a
    chunk at a time, so they run once it has): on_test_begin, then
    on_test_batch_begin and on_test_batch_end of each batch with its
    running logs (the values over the batches so far, as Keras' test
    step returns them), then on_test_end with the whole run's logs.
    ``stopped``: the source ran out (StopIteration) at the step after
    the last, whose on_test_batch_begin Keras has called too."""
    calls.on_test_begin({})
    watched = any(_watches_batches(callback, TEST_BATCH_HOOKS)
                  for callback in calls.callbacks)
    end = 0
    for batch, size in enumerate(sizes):
        end += size
        calls.on_test_batch_begin(batch, {})
        calls.on_test_batch_end(batch, _logs(
            losses[:end], metrics[:end], training,
            sizes=sizes[:batch + 1]) if watched else {})
    if stopped:
        calls.on_test_batch_begin(len(sizes), {})
    calls.on_test_end(_logs(losses, metrics, training, sizes=sizes))


def run_predict_hooks(calls, outputs, sizes, stopped=False):
    """Keras' predict hooks of batches the machine has run:
    on_predict_begin, on_predict_batch_begin and on_predict_batch_end of
    each batch (its ``{"outputs": ...}``: each output's values for it, an
    array for one output), on_predict_end; ``stopped`` as
    run_test_hooks'."""
    calls.on_predict_begin({})
    end = 0
    for batch, size in enumerate(sizes):
        values = [output[end:end + size] for output in outputs]
        end += size
        calls.on_predict_batch_begin(batch, {})
        calls.on_predict_batch_end(batch, {
            "outputs": values[0] if len(values) == 1 else values})
    if stopped:
        calls.on_predict_batch_begin(len(sizes), {})
    calls.on_predict_end({})


class Callbacks:
    """The user's callbacks, called in order."""

    def __init__(self, callbacks, model, params):
        from spiDNN.keras.callbacks import refuse_on_spidnn_model
        self.callbacks = listed(callbacks)
        for callback in self.callbacks:
            refused = refuse_on_spidnn_model(callback)
            if refused:
                raise SpiDNNConfigurationError(refused)
            callback.set_model(model)
            callback.set_params(params)
        self.batch_level = any(map(_watches_batches, self.callbacks))

    def __getattr__(self, hook):
        def call(*args):
            for callback in self.callbacks:
                getattr(callback, hook)(*args)
        return call


class Validation:
    """What ``fit`` validates on after an epoch: ``source``'s first
    ``steps`` batches (all of them without), from its start each time, as
    Keras' evaluate resets its iterator."""

    def __init__(self, source, steps=None):
        self.source = source
        self.steps = Steps(source, steps)

    @property
    def whole(self):
        """Arrays validated whole: evaluated in one call (through live
        I/O, the board holds them)."""
        return isinstance(self.source, ArraySource) and (
            self.steps.steps is None)


def evaluate_batches(machine, batches, chunk, what="evaluating"):
    """(losses, metrics, batch sizes) of ``batches`` evaluated on the
    loaded machine, a chunk of whole batches per call."""
    losses, metrics, sizes = [], [], []
    for group in _chunks(batches, chunk):
        inputs, labels = _rows_of(group)
        one_losses, one_metrics = machine.evaluate(inputs, labels, what)
        one_losses, one_metrics = machine.graph.training.reduce_logged(
            one_losses, one_metrics, [len(batch) for batch in group],
            labels)
        losses.append(one_losses)
        metrics.append(one_metrics)
        sizes += [len(batch) for batch in group]
    if not losses:
        raise SpiDNNConfigurationError(f"{what}: the data gave no batch")
    return numpy.concatenate(losses), numpy.concatenate(metrics), sizes


def _chunks(batches, chunk):
    """Consecutive batches in groups of at least ``chunk`` samples (the
    last group may hold fewer)."""
    group, samples = [], 0
    for batch in batches:
        group.append(batch)
        samples += len(batch)
        if samples >= chunk:
            yield group
            group, samples = [], 0
    if group:
        yield group


def _rows_of(group):
    """(inputs, labels) of a group of batches, as arrays of their rows."""
    if all(batch.inputs is group[0].inputs for batch in group):
        rows = numpy.concatenate([batch.rows for batch in group])
        if len(rows) == len(group[0].inputs) and numpy.array_equal(
                rows, numpy.arange(len(rows))):
            return group[0].inputs, group[0].labels      # all, in order
        return (group[0].inputs[rows],
                None if group[0].labels is None else group[0].labels[rows])
    return (numpy.concatenate([batch.inputs[batch.rows] for batch in group]),
            None if group[0].labels is None else numpy.concatenate(
                [batch.labels[batch.rows] for batch in group]))


def array_source(inputs, labels, training, order, initial_epoch=0):
    """The ArraySource of a fit on arrays: each pass in the next of
    ``order``'s epochs (the orders of the epochs before ``initial_epoch``
    drawn first, so a resumed run draws as the whole run would)."""
    for skipped in range(initial_epoch):
        order(skipped)
    passes = itertools.count(initial_epoch)
    return ArraySource(inputs, labels, training.batch_size,
                       lambda: order(next(passes)))


class _BatchOfAnotherSize(SpiDNNConfigurationError):
    pass


def refuse_nested_fit(model):
    """``fit`` of the model being trained, from one of its callbacks."""
    if model._fitting:
        raise SpiDNNConfigurationError(
            f"fit of {model.name or 'the model'} inside one of its own "
            f"callbacks, while it trains: spiDNN trains a model one fit at "
            f"a time (another model may train there; predict, evaluate, "
            f"get_weights and save work on this one)")


def fit_on(machine, model, training, source, progress, validation=None,
           callbacks=None, initial_epoch=0, steps_per_epoch=None,
           validation_freq=1):
    """Trains ``model`` on a machine loaded for this fit
    (:py:class:`~spiDNN.machines.virtual.TrainingMachine`) with the
    batches of ``source`` (spiDNN.training.sources), Keras' way
    (spiDNN.training.steps); returns its :py:class:`~spiDNN.History`.

    :param validation: a :py:class:`Validation`, or None
    """
    steps = Steps(source, steps_per_epoch)
    history = History(training.history_params())
    model.stop_training = False
    model._resolved_metrics = training.metrics
    calls = Callbacks(callbacks, model, {
        "epochs": training.n_epochs, "verbose": progress.verbose,
        "steps": steps.num_batches})
    model._weights_on_machine = lambda: machine.weights()[0]
    model._state_on_machine = lambda: _state_now(machine)
    model._steps_on_machine = lambda: machine.steps
    model._fitting = True
    run = _Run(machine, model, calls, training, progress)
    try:
        logs = {}
        calls.on_train_begin({})
        for epoch in range(initial_epoch, training.n_epochs):
            progress.start_epoch(epoch)
            calls.on_epoch_begin(epoch, {})
            losses, metrics, sizes = run.epoch(steps.epoch(), epoch)
            if steps.stopped:
                # Keras (TensorFlow) counts the step that found the data
                # exhausted in its optimizer's iterations: the steps after
                # it (Adam's bias corrections) are numbered so; its
                # callbacks saw the step begin.
                machine.steps += 1
                if calls.batch_level:
                    calls.on_train_batch_begin(len(sizes), {})
            if not sizes:
                # Keras' logs of an epoch without a batch: the last ones.
                logs = dict(logs)
            else:
                logs = _logs(losses, metrics, training, sizes=sizes)
            if validation is not None and should_validate(
                    epoch, validation_freq):
                validated, evaluated = _validate(machine, validation,
                                                 training, epoch)
                model._validation_batches = len(evaluated[2])
                # Keras validates through evaluate, with fit's callbacks.
                run_test_hooks(calls, *evaluated[:2], training,
                               evaluated[2], not validation.whole
                               and validation.steps.stopped)
                logs = dict(sorted({**logs, **validated}.items()))
            progress.end_epoch(logs, len(losses))
            history.add_epoch(losses, logs, epoch)
            calls.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
        weights, state = machine.weights()
    except _BatchOfAnotherSize:
        # What trained is kept: the weights so far reach the model.
        model._weights_on_machine = None
        model._take_weights(machine.weights()[0])
        raise
    finally:
        model._weights_on_machine = None
        model._state_on_machine = model._steps_on_machine = None
        model._fitting = False
    model._take_weights(weights)
    model.optimizer_state = {"iterations": machine.steps, "slots": state}
    model.last_run = machine.report()
    calls.on_train_end(logs)
    return history


def _state_now(machine):
    """(weights, optimizer state) on the loaded machine, in one read;
    the state as Model.optimizer_state holds it."""
    weights, slots = machine.weights()
    return weights, {"iterations": machine.steps, "slots": slots}


def _validate(machine, validation, training, epoch):
    """The ``val_`` logs of an epoch, and (losses, metrics, batch sizes)
    of its batches (Keras calls the test batch hooks for each)."""
    what = f"validation, epoch {epoch + 1}"
    if validation.whole:
        source = validation.source
        losses, metrics = machine.evaluate(source.inputs, source.labels,
                                           what=what)
        sizes = source.batch_size
        losses, metrics = training.reduce_logged(losses, metrics, sizes,
                                                 source.labels)
        sizes = batch_sizes(len(losses), sizes)
    else:
        validation.steps.reset()
        losses, metrics, sizes = evaluate_batches(
            machine, validation.steps.epoch(), training.chunk, what)
    return _logs(losses, metrics, training, prefix="val_",
                 sizes=sizes), (losses, metrics, sizes)


class _Run:
    """The epochs of one fit: batches streamed to the machine a chunk at a
    time, the machine's place in its pass over the data followed."""

    def __init__(self, machine, model, calls, training, progress):
        self.machine = machine
        self.model = model
        self.calls = calls
        self.training = training
        self.progress = progress
        #: The next sample's number in the machine's pass (its batch
        #: counter's: c_code/common/batch.h).
        self.position = 0

    def _check(self, batch, at, last=False):
        """A batch the cores count as one: batch_size samples, or a
        pass's last (shorter) batch; True for the short last batch of a
        pass of unknown length (``last``: no batch follows it), which ends
        the cores' pass early (end_pass)."""
        training = self.training
        expected = min(training.batch_size, training.n_samples - at)
        if training.unbounded and last and 0 < len(batch) < expected:
            if not hasattr(self.machine, "end_pass"):
                raise _BatchOfAnotherSize(
                    f"the data's last batch holds {len(batch)} samples, "
                    f"the others {expected}: through live I/O the cores "
                    f"count every batch of a source of unknown length as "
                    f"the first's size; give batches of one size "
                    f"(drop_remainder=True), or train on the in-process "
                    f"virtual machine (the weights trained so far are "
                    f"kept)")
            return True
        if len(batch) != expected:
            raise _BatchOfAnotherSize(
                f"the data gave a batch of {len(batch)} samples where the "
                f"cores count {expected} (the first batch's size"
                + (", a pass being " f"{training.n_samples} samples"
                   if not training.unbounded else "")
                + "): spiDNN's cores count every batch as the first "
                f"batch's size, except the last of a pass (a shorter one); "
                f"give batches of one size (drop_remainder=True), or arrays "
                f"(the weights trained so far are kept)")

    def epoch(self, batches, epoch):
        """(losses, metrics, batch sizes) of one epoch's batches."""
        model, calls, training = self.model, self.calls, self.training
        losses, metrics, sizes = [], [], []
        group, at, done, index = [], self.position, 0, 0
        # Keras looks at stop_training after each batch: set before them (in
        # on_train_begin or on_epoch_begin), one batch trains.
        one_by_one = calls.batch_level or model.stop_training
        for batch, last in (_with_last(batches) if training.unbounded
                            else ((batch, False) for batch in batches)):
            try:
                short = self._check(batch, at, last)
            except _BatchOfAnotherSize:
                if group:        # the batches before it train first
                    self._train(group, epoch, losses, metrics, sizes, done)
                raise
            if short:
                # The cores end their pass with it: the batches before it
                # train first, and the next pass starts from its start.
                if group:
                    done = self._train(group, epoch, losses, metrics, sizes,
                                       done)
                    group = []
                self.machine.end_pass(len(batch))
            if calls.batch_level:
                calls.on_train_batch_begin(index, {})
            group.append(batch)
            at += len(batch)
            index += 1
            samples = sum(map(len, group))
            if at == training.n_samples or one_by_one or short or (
                    samples >= self.machine.chunk):
                done = self._train(group, epoch, losses, metrics, sizes,
                                   done, short)
                group = []
                at = self.position
                if calls.batch_level:
                    calls.on_train_batch_end(index - 1, self._running(
                        losses, metrics, sizes))
                if model.stop_training:
                    break
        if group:
            done = self._train(group, epoch, losses, metrics, sizes, done)
        if not losses:
            return (numpy.zeros(0, numpy.float32),
                    numpy.zeros((0, training.n_columns), numpy.float32),
                    [])
        return numpy.concatenate(losses), numpy.concatenate(metrics), sizes

    def _train(self, group, epoch, losses, metrics, sizes, done,
               ends_pass=False):
        if all(batch.inputs is group[0].inputs for batch in group):
            # Arrays on the host: the rows of them (the feeder checks its
            # order against them).
            inputs, labels = group[0].inputs, group[0].labels
            rows = numpy.concatenate([batch.rows for batch in group])
        else:
            inputs, labels = _rows_of(group)
            rows = numpy.arange(len(inputs))
        if self.training.takes_weight_sums:
            # Each batch's sum of sample weights, for this pass's batches.
            inputs, labels, rows = inputs[rows], self.training.training_words(
                labels[rows], self.position), numpy.arange(len(rows))
        chunk_losses, chunk_metrics = self.machine.train(
            inputs, labels, rows, self.position, epoch,
            self.training.n_epochs, **({"ends_pass": True} if ends_pass
                                       else {}))
        chunk_losses, chunk_metrics = self.training.reduce_logged(
            chunk_losses, chunk_metrics, [len(batch) for batch in group],
            labels[rows])
        losses.append(chunk_losses)
        metrics.append(chunk_metrics)
        sizes += [len(batch) for batch in group]
        self.position = 0 if ends_pass else (
            self.position + len(rows)) % self.training.n_samples
        done += len(rows)
        self.progress.update(done, mean_loss(numpy.concatenate(losses)))
        return done

    def _running(self, losses, metrics, sizes):
        return _logs(numpy.concatenate(losses), numpy.concatenate(metrics),
                     self.training, sizes=sizes)


def _with_last(batches):
    """(batch, whether no batch follows it) of each of ``batches``: the
    next one is read before a batch trains."""
    iterator = iter(batches)
    try:
        current = next(iterator)
    except StopIteration:
        return
    for following in iterator:
        yield current, False
        current = following
    yield current, True


def logs_of(losses, metrics, training, sizes=None):
    """``evaluate``'s logs: the loss and the others (each output's loss,
    each metric), means over the samples."""
    return _logs(losses, metrics, training, sizes=sizes)
