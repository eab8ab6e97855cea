"""Keras callbacks that need the Keras model itself, through
``spiDNN.keras.fit``: TensorBoard (its layers' variables, its optimizer's
iterations and learning rate) and BackupAndRestore (``save_weights`` and
``load_weights`` of the model and its optimizer, ``_initial_epoch``).

They get the Keras model, its weights and optimizer state brought from
the loaded machine before each hook that reads them (epoch ends, the end
of training; BackupAndRestore's batch ends when it saves by batch), and
their ``on_train_begin`` runs before the model is converted and the
machine loaded, so the weights, optimizer state and initial epoch that
BackupAndRestore restores are the ones that train.
"""
from spiDNN import optimizers


def _kinds():
    import keras
    return (keras.callbacks.TensorBoard, keras.callbacks.BackupAndRestore)


def needs_keras_model(callback):
    """The callback works on the Keras model's variables and files, which
    the spiDNN model does not have."""
    return isinstance(callback, _kinds())


def refuse_on_spidnn_model(callback):
    """A message for such a callback given to a spiDNN model's fit, or
    None."""
    if not needs_keras_model(callback):
        return None
    return (f"callbacks: {type(callback).__name__} reads and writes the "
            f"Keras model's variables (weights, optimizer state), which a "
            f"spiDNN model has not: train the Keras model with "
            f"spiDNN.keras.fit(kmodel, ...)")


def _batch_hooks(callback):
    """Whether ``callback`` acts on batches (the loop then runs one batch
    per call, which only these settings need)."""
    import keras
    if isinstance(callback, keras.callbacks.TensorBoard):
        return callback.update_freq != "epoch" or bool(
            callback._should_trace)
    return callback.save_freq != "epoch"


class OnKerasModel:
    """One such callback in the loop's list (spiDNN.training.loop): the
    hooks go to it with the Keras model in the state the machine is in.

    :param sync: called with "weights" (the weights and optimizer state
        into the Keras model) or "iterations" (its optimizer's step count
        only) before a hook reads them
    """

    def __init__(self, callback, sync):
        self.callback = callback
        self._sync = sync
        if _batch_hooks(callback):
            # Set on the object: the loop's batch-level test sees them.
            self.on_train_batch_begin = self._batch_begin
            self.on_train_batch_end = self._batch_end

    # The loop's protocol: set_model and on_train_begin happened before
    # the machine was loaded (start_training).
    def set_model(self, model):
        self.spidnn_model = model

    def set_params(self, params):
        self.callback.set_params(params)

    def on_train_begin(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        self._sync("iterations")
        self.callback.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._sync("weights")
        logs = logs or {}
        validated = {name[4:]: value for name, value in logs.items()
                     if name.startswith("val_")}
        if validated:
            # Keras validates through evaluate, whose test hooks run
            # before the epoch's end: TensorBoard counts the batches
            # (its record_if steps) and writes evaluation_*_vs_iterations
            # scalars at the end.
            self.callback.on_test_begin({})
            for batch in range(self.spidnn_model._validation_batches):
                self.callback.on_test_batch_begin(batch, {})
                self.callback.on_test_batch_end(batch, {})
            self.callback.on_test_end(validated)
        self.callback.on_epoch_end(epoch, logs)

    def on_train_end(self, logs=None):
        self._sync("weights")
        self.callback.on_train_end(logs)

    def __getattr__(self, hook):
        # The hooks these callbacks leave to Keras' base class (no-ops).
        if hook.startswith("on_"):
            return lambda *args: None
        raise AttributeError(hook)

    def _batch_begin(self, batch, logs=None):
        self.callback.on_train_batch_begin(batch, logs)

    def _batch_end(self, batch, logs=None):
        import keras
        if isinstance(self.callback, keras.callbacks.BackupAndRestore):
            self._sync("weights")
        else:
            self._sync("iterations")
        self.callback.on_train_batch_end(batch, logs)


def start_training(kmodel, callbacks, params):
    """Gives the callbacks that need it the Keras model and runs their
    ``on_train_begin`` (BackupAndRestore restores the weights, the
    optimizer's state and ``_initial_epoch`` into it) before anything is
    converted; returns the list with those callbacks wrapped (the sync
    set later by :py:func:`follow`)."""
    from spiDNN.training.loop import listed
    wrapped = []
    for callback in listed(callbacks):
        if not needs_keras_model(callback):
            wrapped.append(callback)
            continue
        if kmodel.optimizer is not None and not kmodel.optimizer.built:
            # Built before a backup loads, so its slots load too (as
            # Keras' fit builds it before the callbacks run).
            kmodel.optimizer.build(kmodel.trainable_variables)
        callback.set_model(kmodel)
        callback.set_params(params)
        callback.on_train_begin({})
        wrapped.append(OnKerasModel(callback, None))
    return wrapped


def follow(callbacks, kmodel, model, optimizer):
    """Points the wrapped callbacks' sync at ``model`` (the spiDNN model
    being trained, its machine) and ``kmodel``."""
    def sync(what):
        if what == "weights":
            weights, state = model.training_state()
            kmodel.set_weights(weights)
            optimizers.state_into_keras(
                optimizer, state, kmodel.optimizer,
                kmodel.trainable_variables, model.weight_layout())
        elif model._steps_on_machine is not None:
            kmodel.optimizer.iterations.assign(model._steps_on_machine())
    for callback in callbacks:
        if isinstance(callback, OnKerasModel):
            callback._sync = sync
