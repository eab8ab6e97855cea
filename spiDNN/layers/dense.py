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

    def check_fits_core(self):
        """Refuse a layer whose slice cannot fit one core's DTCM."""
        needed = layouts.dense_dtcm_bytes(
            n_neurons=min(self.neurons_per_core, self.units),
            n_inputs=self.n_inputs, layer_size=self.units,
            softmax=self.activation == "softmax")
        if needed > layouts.DTCM_HEAP_BYTES:
            raise SpiDNNConfigurationError(
                f"Dense layer {self.name} ({self.n_inputs} inputs, "
                f"{self.neurons_per_core} neurons per core) needs {needed} "
                f"bytes of DTCM per core; a SpiNNaker core has "
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
