"""The input layer: the shape of the samples the model is fed."""
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers.arguments import positive_int
from spiDNN.layers.layer import Layer, unique_name


class Input(Layer):
    """``Input(784)``, ``Input(28, 28, 1)`` (the original spiDNN's
    ``Input(*shape)``), ``Input((28, 28, 1))`` or Keras'
    ``Input(shape=(28, 28, 1))``; channels_last."""

    def __init__(self, *dims, shape=None, name=None, **kwargs):
        if "units" in kwargs:
            shape = kwargs.pop("units")
        if kwargs:
            raise TypeError(f"Input got unknown arguments {sorted(kwargs)}")
        if dims and shape is not None:
            raise SpiDNNConfigurationError(
                "give Input its shape once: Input(28, 28, 1) or "
                "Input(shape=(28, 28, 1))")
        if shape is None:
            shape = dims[0] if len(dims) == 1 else dims
        if not isinstance(shape, (tuple, list)):
            shape = (shape,)
        if not shape:
            raise SpiDNNConfigurationError("Input needs a shape")
        super().__init__(name or unique_name("input_layer"))
        self.input_shape = self.output_shape = tuple(
            positive_int(d, "Input size") for d in shape)
