"""Optimizers from what the user wrote (an instance, a name, a Keras
optimizer) and back to Keras, with their state (the slots a ``.keras``
file keeps)."""
import numpy

from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.keras.settings import first_unsupported, shown
from spiDNN.optimizers.base import CLIPPINGS, NAMES, Optimizer

#: The settings every Keras optimizer's counterpart takes over.
_COMMON = ("learning_rate", "weight_decay") + CLIPPINGS
_KERAS_DEFAULTS = {
    "use_ema": False, "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}
#: Settings that do nothing while their switch (use_ema) is off.
_KERAS_IDLE = {"name", "ema_momentum", "ema_overwrite_frequency"}
#: Keras optimizers spiDNN knows and does not run, by Keras class name
#: (lower case: its string), with why.
_REFUSED = {
    "ftrl": "Keras' Ftrl raises its accumulators to learning_rate_power "
            "with TensorFlow's pow, which rounds otherwise than a square "
            "root even at -0.5, and the cores have no pow that rounds as "
            "TensorFlow's does",
}


def to_keras(optimizer):
    """The Keras optimizer computing the same updates."""
    import keras
    settings = {name: value for name, value in vars(optimizer).items()}
    return getattr(keras.optimizers, optimizer.KERAS)(**settings)


def state_from_keras(optimizer, keras_optimizer, weights):
    """{"iterations", "slots"} of a Keras optimizer that has stepped, or
    None (not built, or not stepped yet).  ``weights``: [(shape,
    trainable)] of the model's weight arrays in get_weights' order: Keras
    keeps state for the trainable ones only, spiDNN for all (zeros for a
    frozen layer's)."""
    if not getattr(keras_optimizer, "built", False):
        return None
    iterations = int(keras_optimizer.iterations.numpy())
    if iterations == 0:
        return None
    slots = []
    for name in optimizer.slots:
        kept = iter(getattr(keras_optimizer, name))
        slots.append([
            numpy.asarray(next(kept).numpy(), dtype=numpy.float32)
            if trainable else numpy.zeros(shape, dtype=numpy.float32)
            for shape, trainable in weights])
    return {"iterations": iterations, "slots": slots}


def state_into_keras(optimizer, state, keras_optimizer, variables, weights):
    """Builds ``keras_optimizer`` over ``variables`` (the Keras model's
    trainable ones, in get_weights' order) and gives it ``state`` (of
    every weight array: ``weights`` as state_from_keras's says which
    Keras keeps), with the scalars its step values stand for."""
    if not keras_optimizer.built:
        keras_optimizer.build(variables)
    if state is None:
        return
    for name, arrays in zip(optimizer.slots, state["slots"]):
        trained = [array for array, (_, trainable) in zip(arrays, weights)
                   if trainable]
        for variable, array in zip(getattr(keras_optimizer, name), trained):
            variable.assign(array)
    keras_optimizer.iterations.assign(state["iterations"])
    for name, value in optimizer.keras_variables(
            state["iterations"]).items():
        getattr(keras_optimizer, name).assign(value)


def _by_keras(identifier):
    """The registered class whose Keras counterpart ``identifier`` is an
    instance of (by its class's name), or None."""
    name = type(identifier).__name__
    for cls in NAMES.values():
        if cls.KERAS == name:
            return cls
    return None


def _from_keras(optimizer):
    name = type(optimizer).__name__
    cls = _by_keras(optimizer)
    taken, fixed = _COMMON + tuple(cls.KERAS_SETTINGS), cls.KERAS_FIXED
    config = optimizer.get_config()
    unsupported = first_unsupported(
        config, {**_KERAS_DEFAULTS, **fixed},
        _KERAS_IDLE | set(taken))
    if unsupported:
        setting, value = unsupported
        raise SpiDNNConfigurationError(
            f"Keras {name} with {setting}={shown(value)}: spiDNN computes "
            f"{name} on the cores without {setting}; leave it out")
    settings = {key: config[key] for key in taken}
    # A schedule: the optimizer's own object, evaluated at each step.
    schedule = getattr(optimizer, "_learning_rate", None)
    if callable(schedule) and hasattr(schedule, "get_config"):
        settings["learning_rate"] = schedule
    return cls(**settings)


def _written(identifier):
    """What the user wrote, for an error: a string as such, an object as
    its class (no repr with an address)."""
    if isinstance(identifier, str):
        return repr(identifier)
    kind = identifier if isinstance(identifier, type) else type(identifier)
    keras_made = kind.__module__.startswith("keras")
    return f"{'Keras ' if keras_made else ''}{kind.__name__}"


def get(identifier):
    """An optimizer from an instance, a name (each registered optimizer's
    Keras string: ``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"``,
    ``"adagrad"``, ``"adadelta"``, ``"adamax"``, ``"nadam"``, ``"lion"``,
    with Keras' defaults), or a Keras optimizer of those classes whose
    settings spiDNN computes exactly."""
    if isinstance(identifier, Optimizer):
        return identifier
    name = (identifier.lower() if isinstance(identifier, str)
            else _written(identifier).split()[-1].lower())
    if isinstance(identifier, str) and name in NAMES:
        return NAMES[name]()
    if not isinstance(identifier, str) and _by_keras(identifier) is not None \
            and hasattr(identifier, "get_config"):
        return _from_keras(identifier)
    if name in _REFUSED:
        raise SpiDNNConfigurationError(
            f"optimizer {_written(identifier)}: spiDNN does not train with "
            f"it ({_REFUSED[name]}); train with {_known()}")
    raise SpiDNNConfigurationError(
        f"unknown optimizer {_written(identifier)}; spiDNN trains with "
        f"{_known()} (spiDNN.optimizers, their Keras names, or the Keras "
        f"ones)")


def _known():
    names = [cls.__name__ for cls in NAMES.values()]
    return f"{', '.join(names[:-1])} or {names[-1]}"
