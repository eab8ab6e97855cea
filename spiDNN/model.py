"""``spiDNN.Model``: a Keras-style sequential model run on SpiNNaker."""
import math

import numpy

from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers.dense import Dense
from spiDNN.layers.input import Input
from spiDNN.layers.layer import positive_int

#: Application cores per chip (18 cores, one the monitor).
APP_CORES_PER_CHIP = 17
#: Chips on a SpiNN-5 board.
CHIPS_PER_BOARD = 48


class Model:
    """A stack of layers: ``Model().add(Input(n)).add(Dense(...))``.

    :param seed: seed of the initial weights (Keras' default initialisers)
    :param n_boards: boards of the machine; by default as many 48-chip
        boards as the model needs
    """

    def __init__(self, seed=None, n_boards=None):
        self._rng = numpy.random.default_rng(seed)
        self.input = None
        self.layers = []
        self.n_boards = None if n_boards is None else positive_int(
            n_boards, "n_boards")
        self.last_run = None

    # ----------------------------------------------------------- building
    def add(self, layer):
        """Appends a layer; returns the model so calls can chain."""
        if isinstance(layer, Input):
            if self.input is not None:
                raise SpiDNNConfigurationError(
                    "the model already has an Input layer")
            self.input = layer
        elif isinstance(layer, Dense):
            if self.input is None:
                raise SpiDNNConfigurationError(
                    f"add an Input layer before {layer.name}")
            layer.build(self.layers[-1].units if self.layers
                        else self.input.units, self._rng)
            self.layers.append(layer)
        else:
            raise SpiDNNConfigurationError(
                f"spiDNN cannot add {layer!r}: use spiDNN.layers")
        return self

    @property
    def n_inputs(self):
        return self.input.units

    def _check_built(self):
        if self.input is None or not self.layers:
            raise SpiDNNConfigurationError(
                "the model needs an Input and at least one Dense layer")

    # ------------------------------------------------------------ weights
    def get_weights(self):
        """All weights in Keras' order: kernel then bias, layer by layer."""
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, weights):
        """Takes a list as Keras' ``get_weights()`` returns it."""
        weights = list(weights)
        expected = sum(layer.n_weights for layer in self.layers)
        if len(weights) != expected:
            raise SpiDNNConfigurationError(
                f"the model has {expected} weight arrays, got {len(weights)}")
        start = 0
        for layer in self.layers:
            layer.set_weights(weights[start:start + layer.n_weights])
            start += layer.n_weights

    # ----------------------------------------------------------- machine
    def cores_needed(self):
        """Application cores: each layer's slices, plus input and output."""
        return 2 + sum(layer.n_cores for layer in self.layers)

    def boards_needed(self):
        if self.n_boards is not None:
            return self.n_boards
        chips = math.ceil(self.cores_needed() / APP_CORES_PER_CHIP)
        return max(1, math.ceil(chips / CHIPS_PER_BOARD))

    def _check_inputs(self, x):
        try:
            array = numpy.asarray(x)
        except Exception as error:   # ragged nested lists and the like
            raise SpiDNNConfigurationError(
                f"inputs are not an array of numbers: {error}") from error
        if array.dtype == object or not (
                numpy.issubdtype(array.dtype, numpy.number)
                or array.dtype == bool):
            raise SpiDNNConfigurationError(
                f"inputs must be numeric, got dtype {array.dtype}")
        if array.ndim != 2 or array.shape[1] != self.n_inputs:
            raise SpiDNNConfigurationError(
                f"inputs must have shape (n_samples, {self.n_inputs}), "
                f"got {array.shape}")
        if len(array) == 0:
            raise SpiDNNConfigurationError("inputs hold no samples")
        array = array.astype(numpy.float32)
        if not numpy.all(numpy.isfinite(array)):
            raise SpiDNNConfigurationError(
                "inputs contain NaN or infinite values")
        return numpy.ascontiguousarray(array)

    def predict(self, x, batch_size=None, verbose=0):
        """Outputs of the model for ``x`` (n_samples, n_inputs).

        Every forward pass runs in the dense apps on the machine (the
        virtual one unless a board is configured).  ``batch_size`` is
        accepted for Keras compatibility; samples stream one at a time.
        """
        self._check_built()
        if batch_size is not None:
            positive_int(batch_size, "batch_size")
        inputs = self._check_inputs(x)
        from spiDNN.backends.run import predict
        outputs, self.last_run = predict(self, inputs)
        return outputs

    def summary(self):
        """A table of layers, units, activations and cores."""
        lines = [f"{'layer':<16}{'units':>8}  {'activation':<10}{'cores':>6}",
                 f"{self.input.name:<16}{self.input.units:>8}"]
        for layer in self.layers:
            lines.append(f"{layer.name:<16}{layer.units:>8}  "
                         f"{layer.activation:<10}{layer.n_cores:>6}")
        return "\n".join(lines)
