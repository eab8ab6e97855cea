"""Optimizers the cores run at each batch end, with Keras' update rules
(``c_code/common/optimizer.h``): SGD with momentum and Nesterov, Adam and
RMSprop.

Their state (momenta, velocities) lives on the cores beside the weights
and counts against DTCM.  The host computes each step's scale in float32
as Keras does: the learning rate (a Keras schedule evaluated at the step)
and, for Adam, ``lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)``.  It sends the
scale with the step's commit.

An optimizer is its entry in spiDNN/abi/optimizers.py (what the cores
need: id, constants, state arrays, cost points), its update in
c_code/common/optimizers/<name>.h, and its class here, registered with
``@register``: argument checking, the constants' values, n_states, the
step's scale, its Keras counterpart (class, settings, slots) and the
settings the calibration measures each cost point with.  ``get``, the
Keras conversion and the state's round trip all go through the registry.
"""
import numbers

import numpy

from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.keras.settings import first_unsupported
from spiDNN.abi import layouts
from spiDNN.abi import optimizers as abi

_F32_MAX = float(numpy.finfo(numpy.float32).max)


def _learning_rate(value):
    """A constant learning rate, a Keras schedule, or a clear error."""
    if callable(value) and hasattr(value, "get_config"):
        return value            # a keras.optimizers.schedules object
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not value > 0 or not value <= _F32_MAX):
        raise SpiDNNConfigurationError(
            f"learning_rate must be a positive number that is finite "
            f"in float32 (the cores' arithmetic), or a Keras schedule, got "
            f"{value!r}")
    return float(value)


def _fraction(value, what, low=0.0, high=1.0, closed_high=False):
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not (low <= value and (value <= high if closed_high
                                      else value < high))):
        raise SpiDNNConfigurationError(
            f"{what} must be in [{low}, {high}{']' if closed_high else ')'}"
            f", not {value!r}")
    return float(value)


def _f32(value):
    return numpy.float32(value)


class Optimizer:
    """What every optimizer states for the cores and the host.

    :param weight_decay: Keras' decoupled weight decay, ``w - w wd lr``
        before each step (None: none)
    :param clipvalue: Keras' gradient clipping to [-clipvalue, clipvalue]
        (None: none); clipnorm needs a whole kernel's norm, which no core
        holds, and is refused
    """

    #: Its entry in spiDNN/abi/optimizers.py's table.
    ABI = None
    #: Its name (``ABI.name``, set by ``register``).
    KIND = None
    #: The Keras optimizer computing the same updates:
    #: ``keras.optimizers.<KERAS>``, whose arguments this class takes.
    KERAS = None
    #: Keras' settings taken over besides learning_rate, weight_decay and
    #: clipvalue (this class's arguments of the same names).
    KERAS_SETTINGS = ()
    #: Keras' settings spiDNN computes only at these values (any other is
    #: refused, never ignored).
    KERAS_FIXED = {}
    #: The Keras optimizer variables holding each state array, in
    #: ``ABI.states``' order (the cores').
    KERAS_SLOTS = ()
    #: Per ABI variant (cost point update_<variant>): the settings that
    #: the calibration (tools/calibration/grid.py) measures it with.
    CALIBRATION = {}

    def __init__(self, learning_rate, weight_decay=None, clipvalue=None):
        self.learning_rate = _learning_rate(learning_rate)
        self.weight_decay = None if weight_decay is None else _fraction(
            weight_decay, "weight_decay", 0.0, _F32_MAX)
        self.clipvalue = None if clipvalue is None else _fraction(
            clipvalue, "clipvalue", 0.0, _F32_MAX)

    @property
    def n_states(self):
        """State arrays per weight array on the cores."""
        raise NotImplementedError

    def constants(self):
        """The optimizer fields of the cores' params (layouts)."""
        raise NotImplementedError

    def learning_rate_at(self, step):
        """The learning rate of step ``step`` (0 first), float32."""
        if callable(self.learning_rate):
            return _f32(numpy.asarray(self.learning_rate(step)))
        return _f32(self.learning_rate)

    def step_scale(self, step):
        """The scale the cores multiply step ``step``'s update by."""
        return self.learning_rate_at(step)

    def fields(self, has_state=False):
        """The optimizer's fields of a core's params; ``has_state``: its
        state starts from the OPTIMIZER_STATE region.  Other optimizers'
        constants are 0."""
        constants = self.constants()
        mine = {field for field, _, _ in self.ABI.constants}
        if set(constants) != mine:
            raise AssertionError(
                f"{type(self).__name__}.constants() gives "
                f"{sorted(constants)}, its ABI entry {sorted(mine)}")
        types = abi.constants()
        fields = {"optimizer": layouts.OPTIMIZERS[self.KIND]}
        for field, (kind, _) in types.items():
            value = constants.get(field, 0)
            fields[field] = (layouts.float_bits(float(value))
                             if kind == "float" else int(value))
        fields.update(
            weight_decay=layouts.float_bits(
                float(_f32(self.weight_decay or 0.0))),
            clipvalue=layouts.float_bits(float(_f32(self.clipvalue or 0.0))),
            has_state=int(has_state))
        return fields

    def __repr__(self):
        settings = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({settings})"


#: The registered optimizers, by name, in the ABI table's order.
_REGISTRY = {}


def register(cls):
    """Registers an optimizer class (a decorator): checks it against its
    ABI entry, and makes it known to ``get``, the Keras conversion, the
    state's round trip and the calibration."""
    entry = cls.ABI
    if abi.BY_NAME.get(getattr(entry, "name", None)) is not entry:
        raise AssertionError(f"{cls.__name__}.ABI is not an entry of "
                             f"spiDNN/abi/optimizers.py's table")
    if len(cls.KERAS_SLOTS) != len(entry.states):
        raise AssertionError(f"{cls.__name__}: a Keras slot per state "
                             f"array {entry.states}")
    if set(cls.CALIBRATION) != set(entry.variants):
        raise AssertionError(f"{cls.__name__}: calibration settings per "
                             f"variant {entry.variants}")
    cls.KIND = entry.name
    _REGISTRY[entry.name] = cls
    order = [name for name in abi.BY_NAME if name in _REGISTRY]
    for name in order:
        _REGISTRY[name] = _REGISTRY.pop(name)
    return cls


def registered():
    """The optimizer classes, in the ABI table's order."""
    return list(_REGISTRY.values())


def calibration_optimizers():
    """{variant: a function making an optimizer that runs it}: every
    cost point update_<variant> of every registered optimizer."""
    return {variant: (lambda cls=cls, settings=settings: cls(**settings))
            for cls in registered()
            for variant, settings in ((v, cls.CALIBRATION[v])
                                      for v in cls.ABI.variants)}


@register
class SGD(Optimizer):
    """``keras.optimizers.SGD``: ``w <- w - lr g``; with momentum,
    ``m <- momentum m - lr g``, then ``w <- w + m`` (or, Nesterov,
    ``w <- w + momentum m - lr g``)."""

    ABI = abi.BY_NAME["sgd"]
    KERAS = "SGD"
    KERAS_SETTINGS = ("momentum", "nesterov")
    KERAS_SLOTS = ("momentums",)
    CALIBRATION = {
        "sgd": dict(learning_rate=0.1),
        "sgd_momentum": dict(learning_rate=0.1, momentum=0.9),
        "sgd_nesterov": dict(learning_rate=0.1, momentum=0.9, nesterov=True),
    }

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False,
                 weight_decay=None, clipvalue=None):
        super().__init__(learning_rate, weight_decay, clipvalue)
        self.momentum = _fraction(momentum, "SGD momentum",
                                  closed_high=True)
        self.nesterov = bool(nesterov)

    @property
    def n_states(self):
        return 1 if self.momentum else 0

    def constants(self):
        return {"momentum": float(_f32(self.momentum)),
                "nesterov": int(self.nesterov)}


@register
class Adam(Optimizer):
    """``keras.optimizers.Adam`` (amsgrad off)."""

    ABI = abi.BY_NAME["adam"]
    KERAS = "Adam"
    KERAS_SETTINGS = ("beta_1", "beta_2", "epsilon")
    KERAS_FIXED = {"amsgrad": False}
    KERAS_SLOTS = ("_momentums", "_velocities")
    CALIBRATION = {"adam": dict(learning_rate=0.01)}

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, weight_decay=None, clipvalue=None):
        super().__init__(learning_rate, weight_decay, clipvalue)
        self.beta_1 = _fraction(beta_1, "Adam beta_1")
        self.beta_2 = _fraction(beta_2, "Adam beta_2")
        self.epsilon = _fraction(epsilon, "Adam epsilon", 0.0, _F32_MAX)

    @property
    def n_states(self):
        return 2

    def constants(self):
        # Keras subtracts in Python (double), then the tensor maths casts
        # the result to float32.
        return {"one_minus_beta_1": float(_f32(1 - self.beta_1)),
                "one_minus_beta_2": float(_f32(1 - self.beta_2)),
                "epsilon": float(_f32(self.epsilon))}

    def step_scale(self, step):
        lr = self.learning_rate_at(step)
        local_step = _f32(step + 1)
        with numpy.errstate(under="ignore"):
            beta_1_power = numpy.power(_f32(self.beta_1), local_step)
            beta_2_power = numpy.power(_f32(self.beta_2), local_step)
        one = _f32(1)
        return _f32(lr * numpy.sqrt(one - beta_2_power)
                    / (one - beta_1_power))


@register
class RMSprop(Optimizer):
    """``keras.optimizers.RMSprop`` (centered off)."""

    ABI = abi.BY_NAME["rmsprop"]
    KERAS = "RMSprop"
    KERAS_SETTINGS = ("rho", "momentum", "epsilon")
    KERAS_FIXED = {"centered": False}
    KERAS_SLOTS = ("_velocities", "_momentums")
    CALIBRATION = {
        "rmsprop": dict(learning_rate=0.01),
        "rmsprop_momentum": dict(learning_rate=0.01, momentum=0.5),
    }

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0,
                 epsilon=1e-7, weight_decay=None, clipvalue=None):
        super().__init__(learning_rate, weight_decay, clipvalue)
        self.rho = _fraction(rho, "RMSprop rho")
        self.momentum = _fraction(momentum, "RMSprop momentum",
                                  closed_high=True)
        self.epsilon = _fraction(epsilon, "RMSprop epsilon", 0.0, _F32_MAX)

    @property
    def n_states(self):
        return 2 if self.momentum > 0 else 1

    def constants(self):
        return {"rho": float(_f32(self.rho)),
                "one_minus_rho": float(_f32(1 - self.rho)),
                "momentum": float(_f32(self.momentum)),
                "epsilon": float(_f32(self.epsilon))}


missing = [name for name in abi.BY_NAME if name not in _REGISTRY]
assert not missing, f"optimizers in the ABI table with no class: {missing}"
del missing


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
    names = optimizer.KERAS_SLOTS[:optimizer.n_states]
    slots = []
    for name in names:
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
    Keras keeps)."""
    if not keras_optimizer.built:
        keras_optimizer.build(variables)
    if state is None:
        return
    for name, arrays in zip(optimizer.KERAS_SLOTS, state["slots"]):
        trained = [array for array, (_, trainable) in zip(arrays, weights)
                   if trainable]
        for variable, array in zip(getattr(keras_optimizer, name), trained):
            variable.assign(array)
    keras_optimizer.iterations.assign(state["iterations"])

#: The settings every Keras optimizer's counterpart takes over.
_COMMON = ("learning_rate", "weight_decay", "clipvalue")
_KERAS_DEFAULTS = {
    "clipnorm": None, "global_clipnorm": None, "use_ema": False,
    "loss_scale_factor": None, "gradient_accumulation_steps": None,
}
#: Settings that do nothing while their switch (use_ema) is off.
_KERAS_IDLE = {"name", "ema_momentum", "ema_overwrite_frequency"}


def _by_keras(identifier):
    """The registered class whose Keras counterpart ``identifier`` is an
    instance of (by its class's name), or None."""
    name = type(identifier).__name__
    for cls in registered():
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
            f"Keras {name} with {setting}={value!r}: spiDNN computes "
            f"{name} on the cores without {setting}")
    settings = {key: config[key] for key in taken}
    # A schedule: the optimizer's own object, evaluated at each step.
    schedule = getattr(optimizer, "_learning_rate", None)
    if callable(schedule) and hasattr(schedule, "get_config"):
        settings["learning_rate"] = schedule
    return cls(**settings)


def get(identifier):
    """An optimizer from an instance, a name (``"sgd"``, ``"adam"``,
    ``"rmsprop"``: each registered optimizer's, with Keras' defaults), or
    a Keras SGD, Adam or RMSprop (each registered one's counterpart) whose
    settings spiDNN computes exactly."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _REGISTRY:
        return _REGISTRY[identifier.lower()]()
    if _by_keras(identifier) is not None and hasattr(
            identifier, "get_config"):
        return _from_keras(identifier)
    names = [cls.__name__ for cls in registered()]
    raise SpiDNNConfigurationError(
        f"unknown optimizer {identifier!r}; spiDNN trains with "
        f"spiDNN.optimizers.{', '.join(names[:-1])} or {names[-1]} (or "
        f"their names, or the Keras ones)")
