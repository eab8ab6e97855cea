"""Optimizers the cores run at each batch end, with Keras' update rules
(``c_code/common/optimizer.h``): SGD with momentum and Nesterov, Adam and
RMSprop.

Their state (momenta, velocities) lives on the cores beside the weights
and counts against DTCM.  The host computes each step's scale in float32
as Keras does: the learning rate (a Keras schedule evaluated at the step)
and, for Adam, ``lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)``.  It sends the
scale with the step's commit.
"""
import numbers

import numpy

from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.keras.settings import first_unsupported
from spiDNN.abi import layouts

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

    KIND = None

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
        state starts from the OPTIMIZER_STATE region."""
        fields = {"optimizer": layouts.OPTIMIZERS[self.KIND],
                  "momentum": 0.0, "nesterov": 0,
                  "one_minus_beta_1": 0.0, "one_minus_beta_2": 0.0,
                  "rho": 0.0, "one_minus_rho": 0.0, "epsilon": 0.0,
                  "weight_decay": float(_f32(self.weight_decay or 0.0)),
                  "clipvalue": float(_f32(self.clipvalue or 0.0)),
                  "has_state": int(has_state)}
        fields.update(self.constants())
        return {name: (layouts.float_bits(value)
                       if isinstance(value, float) else value)
                for name, value in fields.items()}

    def __repr__(self):
        settings = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({settings})"


class SGD(Optimizer):
    """``keras.optimizers.SGD``: ``w <- w - lr g``; with momentum,
    ``m <- momentum m - lr g``, then ``w <- w + m`` (or, Nesterov,
    ``w <- w + momentum m - lr g``)."""

    KIND = "sgd"

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


class Adam(Optimizer):
    """``keras.optimizers.Adam`` (amsgrad off)."""

    KIND = "adam"

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


class RMSprop(Optimizer):
    """``keras.optimizers.RMSprop`` (centered off)."""

    KIND = "rmsprop"

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


_BY_NAME = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop}

#: The Keras optimizer variables holding each state kind, in the cores'
#: order (optimizer.h).
_KERAS_SLOTS = {"sgd": ["momentums"], "adam": ["_momentums", "_velocities"],
                "rmsprop": ["_velocities", "_momentums"]}


def to_keras(optimizer):
    """The Keras optimizer computing the same updates."""
    import keras
    settings = {name: value for name, value in vars(optimizer).items()}
    return getattr(keras.optimizers, type(optimizer).__name__)(**settings)


def state_from_keras(optimizer, keras_optimizer):
    """{"iterations", "slots"} of a Keras optimizer that has stepped, or
    None (not built, or not stepped yet)."""
    if not getattr(keras_optimizer, "built", False):
        return None
    iterations = int(keras_optimizer.iterations.numpy())
    if iterations == 0:
        return None
    names = _KERAS_SLOTS[optimizer.KIND][:optimizer.n_states]
    return {"iterations": iterations,
            "slots": [[numpy.asarray(v.numpy(), dtype=numpy.float32)
                       for v in getattr(keras_optimizer, name)]
                      for name in names]}


def state_into_keras(optimizer, state, keras_optimizer, variables):
    """Builds ``keras_optimizer`` over ``variables`` (the Keras model's
    trainable ones, in get_weights' order) and gives it ``state``."""
    if not keras_optimizer.built:
        keras_optimizer.build(variables)
    if state is None:
        return
    for name, arrays in zip(_KERAS_SLOTS[optimizer.KIND], state["slots"]):
        for variable, array in zip(getattr(keras_optimizer, name), arrays):
            variable.assign(array)
    keras_optimizer.iterations.assign(state["iterations"])

#: Per Keras optimizer: the settings taken over, and those spiDNN computes
#: only at these values (any other is refused, never ignored).
_COMMON = ("learning_rate", "weight_decay", "clipvalue")
_KERAS = {
    "SGD": (_COMMON + ("momentum", "nesterov"), {}),
    "Adam": (_COMMON + ("beta_1", "beta_2", "epsilon"), {"amsgrad": False}),
    "RMSprop": (_COMMON + ("rho", "momentum", "epsilon"),
                {"centered": False}),
}
_KERAS_DEFAULTS = {
    "clipnorm": None, "global_clipnorm": None, "use_ema": False,
    "loss_scale_factor": None, "gradient_accumulation_steps": None,
}
#: Settings that do nothing while their switch (use_ema) is off.
_KERAS_IDLE = {"name", "ema_momentum", "ema_overwrite_frequency"}


def _from_keras(optimizer):
    name = type(optimizer).__name__
    taken, fixed = _KERAS[name]
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
    return _BY_NAME[name.lower()](**settings)


def get(identifier):
    """An optimizer from an instance, a name (``"sgd"``, ``"adam"``,
    ``"rmsprop"``, with Keras' defaults), or a Keras SGD, Adam or RMSprop
    whose settings spiDNN computes exactly."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    if type(identifier).__name__ in _KERAS and hasattr(
            identifier, "get_config"):
        return _from_keras(identifier)
    raise SpiDNNConfigurationError(
        f"unknown optimizer {identifier!r}; spiDNN trains with "
        f"spiDNN.optimizers.SGD, Adam or RMSprop (or their names, or the "
        f"Keras ones)")
