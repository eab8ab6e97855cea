"""``spiDNN.keras.fit``: train a compiled Keras model on SpiNNaker.

    kmodel.compile(optimizer=keras.optimizers.SGD(0.05),
                   loss="sparse_categorical_crossentropy")
    spiDNN.keras.fit(kmodel, x, y, epochs=1)   # trains on the machine
    kmodel.evaluate(x_test, y_test)             # trained weights, host

The Keras model is converted (``spiDNN.from_keras``), trained with the
optimizer, loss and metrics it was compiled with, and the trained weights
are written back into it.  A compile setting spiDNN does not compute on
the machine is refused before anything runs.
"""
from spiDNN import optimizers
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.keras import callbacks as keras_callbacks
from spiDNN.keras.models import from_keras, plain

#: compile() settings spiDNN follows only at their defaults
#: (steps_per_execution: Keras then calls the batch hooks every so many
#: batches; run_eagerly, jit_compile and auto_scale_loss choose how the
#: host computes, which the machine does not depend on).
_COMPILE_DEFAULTS = {"steps_per_execution": 1}


def fit(kmodel, x=None, y=None, epochs=1, batch_size=None, shuffle=True,
        verbose=1, seed=None, validation_data=None, validation_split=0.0,
        callbacks=None, initial_epoch=0, sample_weight=None,
        class_weight=None, steps_per_epoch=None, validation_steps=None,
        validation_batch_size=None, validation_freq=1):
    """Trains ``kmodel`` on the machine and writes its weights back.

    The arguments after ``seed`` are Keras' ``fit``'s; callbacks get the
    spiDNN model (``get_weights`` during training reads the cores), except
    TensorBoard and BackupAndRestore, which get ``kmodel`` with the
    machine's weights and optimizer state (spiDNN.keras.callbacks).

    :param seed: spiDNN's seed (sample shuffling and dropout masks)
    :return: a ``keras.callbacks.History`` of the run's losses, metrics
        and validation
    """
    import keras
    if not getattr(kmodel, "compiled", False):
        raise SpiDNNConfigurationError(
            "compile the Keras model first: spiDNN.keras.fit trains with "
            "the optimizer and loss it was compiled with")
    config = kmodel._compile_config.config
    for name, default in _COMPILE_DEFAULTS.items():
        if config.get(name) not in (default, [], {}):
            raise SpiDNNConfigurationError(
                f"the Keras model was compiled with {name}="
                f"{config[name]!r}, which spiDNN does not compute on the "
                f"machine yet; compile it without")
    optimizer = optimizers.get(kmodel.optimizer)
    callbacks = keras_callbacks.start_training(
        kmodel, callbacks, {"epochs": epochs, "verbose": verbose})
    # As Keras' fit: BackupAndRestore's on_train_begin may set it.
    initial_epoch = getattr(kmodel, "_initial_epoch", None) or initial_epoch
    model = from_keras(kmodel, seed=seed)
    model.compile(optimizer=optimizer, loss=plain(kmodel.loss),
                  metrics=plain(config.get("metrics")),
                  loss_weights=plain(config.get("loss_weights")),
                  weighted_metrics=plain(config.get("weighted_metrics")))
    # A Keras model trained before goes on from its optimizer's state.
    model.optimizer_state = optimizers.state_from_keras(
        optimizer, kmodel.optimizer, model.weight_layout())
    keras_callbacks.follow(callbacks, kmodel, model, optimizer)
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size,
                        shuffle=shuffle, verbose=verbose,
                        validation_data=validation_data,
                        validation_split=validation_split,
                        callbacks=callbacks, initial_epoch=initial_epoch,
                        sample_weight=sample_weight,
                        class_weight=class_weight,
                        steps_per_epoch=steps_per_epoch,
                        validation_steps=validation_steps,
                        validation_batch_size=validation_batch_size,
                        validation_freq=validation_freq)
    kmodel.set_weights(model.get_weights())
    optimizers.state_into_keras(optimizer, model.optimizer_state,
                                kmodel.optimizer, kmodel.trainable_variables,
                                model.weight_layout())
    result = keras.callbacks.History()
    result.set_model(kmodel)
    result.history = dict(history.history)
    result.epoch = list(history.epoch)
    result.params = {"epochs": epochs, "verbose": verbose}
    result.spidnn_run = model.last_run
    kmodel.history = result        # as Keras' fit leaves it
    return result
