"""Optimizers the machine runs: Keras' plain SGD."""
import numbers

import numpy

from spiDNN.errors import SpiDNNConfigurationError


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


def get(identifier):
    """An optimizer from an instance, ``"sgd"``, or a Keras SGD without
    momentum (its learning rate is taken over)."""
    if isinstance(identifier, SGD):
        return identifier
    if isinstance(identifier, str) and identifier.lower() == "sgd":
        return SGD()
    if type(identifier).__name__ == "SGD" and hasattr(
            identifier, "get_config"):
        config = identifier.get_config()
        if config.get("momentum", 0) == 0 and not config.get("nesterov"):
            return SGD(float(config["learning_rate"]))
    raise SpiDNNConfigurationError(
        f"unknown optimizer {identifier!r}; spiDNN trains with "
        f"spiDNN.optimizers.SGD (or 'sgd'), without momentum")
