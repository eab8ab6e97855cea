"""Layers that need no core of their own: Flatten, Reshape and Dropout."""
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


def _is_target_shape(value):
    """A tuple or list of positive ints, at most one of them -1."""
    return isinstance(value, (tuple, list)) and len(value) > 0 and all(
        not isinstance(d, bool) and hasattr(type(d), "__index__")
        and (d > 0 or d == -1) for d in value) and list(value).count(-1) <= 1


class Reshape(Layer):
    """``Reshape(target_shape)``, one entry of which may be -1 (the size
    that keeps the number of elements), as Keras.  Like Flatten it changes
    only the shape: the machine numbers neurons row-major, channels last,
    as numpy's reshape reads them."""

    def __init__(self, target_shape, name=None):
        super().__init__(name or unique_name("reshape"))
        if not _is_target_shape(target_shape):
            raise SpiDNNConfigurationError(
                f"Reshape target_shape must be a tuple of positive "
                f"integers, one of which may be -1, not {target_shape!r}")
        self.target_shape = tuple(int(d) for d in target_shape)

    def output_shape_for(self, input_shape):
        size = math.prod(input_shape)
        # The product of the known entries (-1 counts as a factor of -1).
        known = abs(math.prod(self.target_shape))
        if size % known or (-1 not in self.target_shape and known != size):
            raise SpiDNNConfigurationError(
                f"{self.name}: Reshape{self.target_shape} cannot hold the "
                f"{size} elements of its input of shape {input_shape}")
        return tuple(size // known if d == -1 else d
                     for d in self.target_shape)

    def keras_config(self):
        return {"target_shape": self.target_shape}


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
