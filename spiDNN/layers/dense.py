"""Dense: ``activation(x @ kernel + bias)``, as Keras' ``Dense``."""
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.initializers import glorot_uniform
from spiDNN.layers.arguments import positive_int
from spiDNN.layers.core import Dropout, Reshape
from spiDNN.layers.layer import (
    KernelAndBias, Layer, activation_name, unique_name)


class Dense(KernelAndBias, Layer):
    """A fully connected layer of ``units`` neurons.

    A Dense after a multi-dimensional layer flattens its input (channels
    last), as the original spiDNN did; Keras' explicit Flatten is accepted
    too.

    :param units: number of neurons
    :param activation: a Keras activation name (``None`` is
        ``"linear"``): spiDNN.abi.layouts.ACTIVATIONS has them, with
        ``"swish"`` and ``"hard_swish"`` as Keras' aliases and
        ``"gelu_approximate"`` for Keras' ``gelu(approximate=True)``
    :param neurons_per_core: how many of the layer's neurons share a core
        (1 is one neuron per core); ``"auto"``, the default, leaves it to
        the planner (``spiDNN.compiler.planner``), which shows its choice in
        ``Model.summary()``
    :param weights_in: where each core keeps its kernel (and input
        vectors): ``"dtcm"``, ``"sdram"`` (streamed through DMA), or
        ``"auto"``, the default: DTCM where it fits, else SDRAM
    :param inputs_per_core: a 2-D split: each core takes this many of the
        layer's inputs (and its neurons' part of the kernel), a chain of
        cores per slice of neurons summing in input order, so the
        numbers are those of one core; ``"auto"`` leaves it to the
        planner, which splits for the least predicted board time;
        ``None``, the default, takes every input on each core (on the
        virtual machine a 2-D plan's many cores cost more host time than
        they save: MNIST 784-128-10 trains 60 samples/s at its 2-D plan
        of 713 cores against 175 at one neuron per core, though a board
        would run it 3.4 times faster)
    :param use_bias: as Keras': False, the layer has no bias (its weights
        are the kernel alone)
    :param kernel_regularizer: as Keras': None, a
        :py:mod:`spiDNN.regularizers` L1, L2 or L1L2, Keras' own, or
        ``"l1"``, ``"l2"``, ``"l1_l2"``
    :param bias_regularizer: the same for the biases
    """

    takes_cores = True

    def __init__(self, units, activation=None, neurons_per_core="auto",
                 name=None, weights_in="auto", inputs_per_core=None,
                 use_bias=True, kernel_regularizer=None,
                 bias_regularizer=None):
        super().__init__(name or unique_name("dense"))
        self.take_use_bias(use_bias)
        self.take_regularizers(kernel_regularizer, bias_regularizer)
        self.n_units = positive_int(units, "Dense units")
        self.activation = activation_name(activation)
        self.request_slice(neurons_per_core)
        self.take_weights_in(weights_in)
        #: True: the planner chooses the input blocks.
        self.plans_own_blocks = isinstance(inputs_per_core, str) and (
            inputs_per_core == "auto")
        if not self.plans_own_blocks and inputs_per_core is not None:
            self.requested_inputs_per_core = positive_int(
                inputs_per_core, "inputs_per_core")

    @property
    def units(self):
        return self.n_units

    def output_shape_for(self, input_shape):
        return (self.n_units,)

    def check_after(self, layers):
        # spiDNN's Dense flattens a convolution's output, as the original
        # spiDNN did; a shape the user asked for explicitly, Keras' Dense
        # would take along its last axis.
        shaped = next((layer for layer in reversed(layers)
                       if not isinstance(layer, Dropout)), None)
        if isinstance(shaped, Reshape) and len(shaped.output_shape) > 1:
            raise SpiDNNConfigurationError(
                f"{self.name}: a Dense after {shaped.name} (Reshape to "
                f"{shaped.output_shape}) would act on the last axis in "
                f"Keras, which spiDNN does not compute; reshape to one "
                f"dimension or add a Flatten before it")

    def initial_weights(self, rng):
        return self.with_bias(
            glorot_uniform(rng, self.n_inputs, self.n_units), self.n_units)

    def keras_config(self):
        return {"units": self.n_units, "activation": self.activation,
                "use_bias": self.use_bias, **self.regularizer_config()}

    @property
    def kernel(self):
        return self.weights[0]

    def outgoing_rows(self, lo, hi, kernel=None):
        """Kernel rows of the previous layer's neurons lo .. hi - 1: the
        copy those neurons keep for the backward pass (of ``kernel``, an
        array shaped as the kernel, such as its optimizer state)."""
        return (self.kernel if kernel is None else kernel)[lo:hi]
