"""What every layer shares: a unique Keras-style name and its weights."""
import itertools
from collections import defaultdict

from spiDNN.errors import SpiDNNConfigurationError

_counters = defaultdict(itertools.count)


def unique_name(base):
    """``dense``, ``dense_1``, ... as Keras names layers."""
    n = next(_counters[base])
    return base if n == 0 else f"{base}_{n}"


def positive_int(value, what):
    """``value`` as an int, or a clear error naming ``what``."""
    if isinstance(value, bool) or not hasattr(type(value), "__index__"):
        raise SpiDNNConfigurationError(
            f"{what} must be a positive integer, not {value!r}")
    value = int(value)
    if value <= 0:
        raise SpiDNNConfigurationError(
            f"{what} must be a positive integer, not {value}")
    return value


class Layer:
    """Base of the layers; ``units`` is the number of neurons."""

    def __init__(self, units, name):
        self.units = units
        self.name = name

    def get_weights(self):
        return []

    def set_weights(self, weights):
        if weights:
            raise SpiDNNConfigurationError(
                f"layer {self.name} has no weights, got {len(weights)}")

    @property
    def n_weights(self):
        return len(self.get_weights())
