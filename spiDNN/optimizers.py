"""Optimizers the machine runs: Keras' plain SGD."""
import numbers

import numpy

from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.keras_settings import first_unsupported


class SGD:
    """Stochastic gradient descent, ``w <- w - learning_rate * g``, as
    ``keras.optimizers.SGD`` without momentum.

    :param learning_rate: a positive float (Keras' default 0.01)
    """

    def __init__(self, learning_rate=0.01):
        if (isinstance(learning_rate, bool)
                or not isinstance(learning_rate, numbers.Real)
                or not learning_rate > 0
                or not learning_rate <= float(numpy.finfo(numpy.float32).max)):
            raise SpiDNNConfigurationError(
                f"learning_rate must be a positive number that is finite "
                f"in float32 (the cores' arithmetic), got {learning_rate!r}")
        self.learning_rate = float(learning_rate)

    def __repr__(self):
        return f"SGD(learning_rate={self.learning_rate})"


#: Keras SGD settings and the values spiDNN computes; any other value is
#: refused, never ignored.
_KERAS_SGD_DEFAULTS = {
    "momentum": 0.0, "nesterov": False, "weight_decay": None,
    "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
    "use_ema": False, "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}
#: Settings that do nothing while their switch (use_ema) is off.
_KERAS_SGD_IDLE = {"name", "learning_rate", "ema_momentum",
                   "ema_overwrite_frequency"}


def get(identifier):
    """An optimizer from an instance, ``"sgd"``, or a Keras SGD whose
    settings spiDNN computes exactly (its learning rate is taken over)."""
    if isinstance(identifier, SGD):
        return identifier
    if isinstance(identifier, str) and identifier.lower() == "sgd":
        return SGD()
    if type(identifier).__name__ == "SGD" and hasattr(
            identifier, "get_config"):
        config = identifier.get_config()
        unsupported = first_unsupported(
            config, _KERAS_SGD_DEFAULTS, _KERAS_SGD_IDLE)
        if unsupported:
            name, value = unsupported
            raise SpiDNNConfigurationError(
                f"Keras SGD with {name}={value!r}: spiDNN's SGD has "
                f"no {name}; it trains with plain SGD only")
        if not isinstance(config["learning_rate"], numbers.Real):
            raise SpiDNNConfigurationError(
                "Keras SGD with a learning-rate schedule: spiDNN's "
                "learning rate is constant")
        return SGD(float(config["learning_rate"]))
    raise SpiDNNConfigurationError(
        f"unknown optimizer {identifier!r}; spiDNN trains with "
        f"spiDNN.optimizers.SGD (or 'sgd' or a plain Keras SGD), without "
        f"momentum")
