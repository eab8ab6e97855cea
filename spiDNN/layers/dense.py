"""Dense: ``activation(x @ kernel + bias)``, as Keras' ``Dense``."""
import numpy

from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.initializers import glorot_uniform, zeros
from spiDNN.layers.layer import Layer, positive_int, unique_name
from spiDNN.vertices import layouts


def _activation_name(activation):
    name = "linear" if activation is None else activation
    if name not in layouts.ACTIVATIONS:
        raise SpiDNNConfigurationError(
            f"unknown activation {activation!r}; spiDNN knows "
            f"{sorted(layouts.ACTIVATIONS)}")
    return name


class Dense(Layer):
    """A fully connected layer of ``units`` neurons.

    :param units: number of neurons
    :param activation: ``None``/``"linear"``, ``"relu"``, ``"sigmoid"``,
        ``"tanh"`` or ``"softmax"``
    :param neurons_per_core: how many of the layer's neurons share a core
        (1, the default, is one neuron per core)
    """

    def __init__(self, units, activation=None, neurons_per_core=1,
                 name=None):
        super().__init__(positive_int(units, "Dense units"),
                         name or unique_name("dense"))
        self.activation = _activation_name(activation)
        self.neurons_per_core = positive_int(
            neurons_per_core, "neurons_per_core")
        self.n_inputs = None
        self.kernel = None
        self.bias = None

    @property
    def n_cores(self):
        """Cores the layer's slices take."""
        return -(-self.units // self.neurons_per_core)

    def build(self, n_inputs, rng):
        """Creates the weights with Keras' default initialisers."""
        self.n_inputs = n_inputs
        self.kernel = glorot_uniform(rng, n_inputs, self.units)
        self.bias = zeros(self.units)
        self.check_fits_core()

    def sends_logits(self, training, is_output):
        """Whether, as the output layer, it hands z to a loss that takes
        logits (Keras' cross-entropies after a softmax or a sigmoid)."""
        return bool(training and is_output and training.from_logits)

    def exchanges_softmax(self, training=None, is_output=True):
        """Whether its cores exchange z to compute a softmax."""
        return self.activation == "softmax" and not self.sends_logits(
            training, is_output)

    def dtcm_bytes(self, n_neurons, training=None, next_layer=None):
        """DTCM of a core holding ``n_neurons`` of the layer.

        :param training: the :py:class:`~spiDNN.training.TrainingRun`, or
            None for forward passes only
        :param next_layer: the layer after it, None for the output layer
        """
        is_output = next_layer is None
        return layouts.dense_dtcm_bytes(
            n_neurons=n_neurons, n_inputs=self.n_inputs,
            layer_size=self.units,
            softmax=self.exchanges_softmax(training, is_output),
            training=bool(training),
            n_next=self.units if is_output else next_layer.units,
            outgoing=not is_output)

    def check_fits_core(self, training=None, next_layer=None):
        """Refuse a layer whose slice cannot fit one core's DTCM."""
        n_neurons = min(self.neurons_per_core, self.units)
        needed = self.dtcm_bytes(n_neurons, training, next_layer)
        if needed > layouts.DTCM_HEAP_BYTES:
            raise SpiDNNConfigurationError(
                f"Dense layer {self.name} ({self.n_inputs} inputs, "
                f"{self.neurons_per_core} neurons per core) needs {needed} "
                f"bytes of DTCM per core"
                f"{' to train' if training else ''}; a SpiNNaker core has "
                f"{layouts.DTCM_HEAP_BYTES} for data. Use fewer "
                f"neurons_per_core or a narrower input.")

    def get_weights(self):
        return [self.kernel.copy(), self.bias.copy()]

    def set_weights(self, weights):
        shapes = [(self.n_inputs, self.units), (self.units,)]
        if len(weights) != 2:
            raise SpiDNNConfigurationError(
                f"layer {self.name} takes 2 arrays (kernel, bias), "
                f"got {len(weights)}")
        arrays = []
        for array, shape, what in zip(weights, shapes, ("kernel", "bias")):
            array = numpy.asarray(array)
            if array.shape != shape:
                raise SpiDNNConfigurationError(
                    f"layer {self.name}: {what} must have shape {shape}, "
                    f"got {array.shape}")
            if not numpy.issubdtype(array.dtype, numpy.number) or not (
                    numpy.all(numpy.isfinite(array))):
                raise SpiDNNConfigurationError(
                    f"layer {self.name}: {what} must be finite numbers")
            arrays.append(array.astype(numpy.float32))
        self.kernel, self.bias = arrays
