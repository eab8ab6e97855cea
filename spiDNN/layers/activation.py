"""Layers that transform one input element by element, on cores of their
own (the merge app with one source): Activation; ReLU, LeakyReLU and ELU
with Keras' settings; Softmax; and Rescaling.

An Activation (or ReLU, LeakyReLU, ELU, Softmax) right after a Dense or
convolution without an activation of its own, and feeding nothing else,
computes the same on that layer's cores: ``from_keras`` folds it so."""
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers.activation_settings import keras_layer_config
from spiDNN.layers.layer import Layer, activation_name, unique_name


class _Elementwise(Layer):
    """One input, one output of the same shape; ``scale`` and
    ``offset`` as the merge app's "scale" op takes them."""

    takes_cores = True
    op = "scale"
    scale = 1.0
    offset = 0.0

    def __init__(self, name, neurons_per_core):
        super().__init__(name)
        self.request_slice(neurons_per_core)

    def output_shape_for(self, input_shape):
        return input_shape

    # As a merge of one source, to the merge app (spiDNN/layers/merging).
    row = 1

    def source_rows(self):
        return [1]

    def core_inputs(self, n_neurons, training=False):
        return n_neurons


class Activation(_Elementwise):
    """``Activation(activation)``: the activation of each element."""

    def __init__(self, activation, neurons_per_core="auto", name=None):
        super().__init__(name or unique_name("activation"),
                         neurons_per_core)
        self.activation = activation_name(activation)

    def output_shape_for(self, input_shape):
        if self.activation == "softmax" and len(input_shape) > 1:
            raise SpiDNNConfigurationError(
                f"{self.name}: spiDNN's softmax spans a layer's outputs, so "
                f"it takes a flat input, not shape {tuple(input_shape)}; "
                f"add a Flatten before it")
        return input_shape

    def keras_config(self):
        return {"activation": self.activation}


class _Parameterised(Activation):
    """Keras' layer of an activation with settings: the settings as its
    arguments, and back (``keras_config``)."""

    def __init__(self, activation, settings, neurons_per_core, name):
        super().__init__(activation, neurons_per_core, name)
        self.set_activation(activation, settings)

    def keras_config(self):
        return keras_layer_config(self.activation,
                                  self.activation_settings)[1]


class ReLU(_Parameterised):
    """``ReLU(max_value=None, negative_slope=0.0, threshold=0.0)``, as
    Keras: x above the threshold (else 0), clipped to [0, max_value],
    less negative_slope * max(threshold - x, 0).  (Keras' ReLU layer
    takes a threshold of at least 0; its relu function, and spiDNN, any.)
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0,
                 neurons_per_core="auto", name=None):
        super().__init__("relu", {"max_value": max_value,
                                  "negative_slope": negative_slope,
                                  "threshold": threshold},
                         neurons_per_core, name or unique_name("re_lu"))


class LeakyReLU(_Parameterised):
    """``LeakyReLU(negative_slope=0.3)`` (Keras' layer default; its string
    "leaky_relu" is 0.2): x above 0, else negative_slope * x."""

    def __init__(self, negative_slope=0.3, neurons_per_core="auto",
                 name=None):
        super().__init__("leaky_relu", {"negative_slope": negative_slope},
                         neurons_per_core, name or unique_name("leaky_re_lu"))


class ELU(_Parameterised):
    """``ELU(alpha=1.0)``: x above 0, else alpha * (exp(x) - 1)."""

    def __init__(self, alpha=1.0, neurons_per_core="auto", name=None):
        super().__init__("elu", {"alpha": alpha}, neurons_per_core,
                         name or unique_name("elu"))


class Softmax(Activation):
    """``Softmax()`` over a flat input (Keras' axis=-1)."""

    def __init__(self, neurons_per_core="auto", name=None):
        super().__init__("softmax", neurons_per_core,
                         name or unique_name("softmax"))

    def keras_config(self):
        return {}


class Rescaling(_Elementwise):
    """``Rescaling(scale, offset=0.0)``: x * scale + offset, as Keras."""

    def __init__(self, scale, offset=0.0, neurons_per_core="auto",
                 name=None):
        super().__init__(name or unique_name("rescaling"), neurons_per_core)
        for value, what in ((scale, "scale"), (offset, "offset")):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SpiDNNConfigurationError(
                    f"Rescaling {what} must be a number, not {value!r} "
                    f"(spiDNN takes one for every element)")
        self.scale = float(scale)
        self.offset = float(offset)

    def keras_config(self):
        return {"scale": self.scale, "offset": self.offset}
