"""The input layer: the width of the vectors the model is fed."""
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers.layer import Layer, positive_int, unique_name


class Input(Layer):
    """``Input(n)`` or Keras' ``Input(shape=(n,))``."""

    def __init__(self, shape=None, name=None, **kwargs):
        if "units" in kwargs:
            shape = kwargs.pop("units")
        if kwargs:
            raise TypeError(f"Input got unknown arguments {sorted(kwargs)}")
        if isinstance(shape, (tuple, list)):
            if len(shape) != 1:
                raise SpiDNNConfigurationError(
                    f"Input shape must be one-dimensional, not {shape}")
            shape = shape[0]
        super().__init__(positive_int(shape, "Input size"),
                         name or unique_name("input_layer"))
