"""Layers that need no core of their own: Flatten and Dropout."""
import math

from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers.layer import Layer, unique_name


class Flatten(Layer):
    """``Flatten()``: the machine's neurons are already numbered channels
    last, so flattening changes only the shape."""

    def __init__(self, name=None):
        super().__init__(name or unique_name("flatten"))

    def output_shape_for(self, input_shape):
        return (math.prod(input_shape),)


class Dropout(Layer):
    """``Dropout(rate, seed=None)``: in ``fit``, each output of the layer
    before it is zeroed with probability ``rate`` and the rest scaled by
    1 / (1 - rate), as Keras; ``predict`` is unaffected.  The masks are
    drawn on the cores of the layer before it from ``seed`` (by default
    one drawn from the model's seed), so it takes no core itself."""

    def __init__(self, rate, seed=None, name=None):
        super().__init__(name or unique_name("dropout"))
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or (
                not 0 <= rate < 1):
            raise SpiDNNConfigurationError(
                f"Dropout rate must be a number in [0, 1), not {rate!r}")
        self.rate = float(rate)
        if seed is not None and (isinstance(seed, bool) or not hasattr(
                type(seed), "__index__")):
            raise SpiDNNConfigurationError(
                f"Dropout seed must be an integer, not {seed!r}")
        self.seed = seed

    def output_shape_for(self, input_shape):
        return input_shape

    def keras_config(self):
        return {"rate": self.rate, "seed": self.seed}

    def build(self, input_shape, rng):
        super().build(input_shape, rng)
        if self.seed is None:
            self.seed = int(rng.integers(2 ** 32))
        self.seed = int(self.seed) & 0xFFFFFFFF
