"""What every layer shares: a unique Keras-style name, its input and output
shapes (channels_last, without the batch axis), its weights in Keras'
layout, and the vertex class that runs it on the machine."""
import itertools
import math
from collections import defaultdict

import numpy

from spiDNN.arrays import check_finite
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers.arguments import positive_int
from spiDNN.abi import layouts

_counters = defaultdict(itertools.count)


def unique_name(base):
    """``dense``, ``dense_1``, ... as Keras names layers."""
    n = next(_counters[base])
    return base if n == 0 else f"{base}_{n}"


def activation_name(activation, allowed=None):
    """Keras' activation name, as the user wrote it (an alias such as
    ``"swish"`` stays so: layouts.activation_kind resolves it for the
    cores), or a clear error naming what they wrote."""
    name = "linear" if activation is None else activation
    allowed = set(layouts.ACTIVATIONS if allowed is None else allowed)
    allowed |= {alias for alias, kind in layouts.ACTIVATION_ALIASES.items()
                if kind in allowed}
    if not isinstance(name, str) or name not in allowed:
        raise SpiDNNConfigurationError(
            f"unknown activation {activation!r}; here spiDNN knows "
            f"{sorted(allowed)}")
    return name


class Layer:
    """Base of the layers.

    Subclasses set ``takes_cores`` (whether cores of the machine compute
    the layer; not for Flatten or Dropout, say: spiDNN.compiler.registry
    says which app does) and ``weight_names``, and implement ``output_shape_for`` and, if they have
    weights, ``initial_weights``.
    """

    takes_cores = False
    weight_names = ()
    #: The planner chooses the input blocks of a 2-D split (Dense's
    #: inputs_per_core="auto"); other layers take all their inputs.
    plans_own_blocks = False
    activation = "linear"
    #: The activations the layer computes (None: every one spiDNN knows).
    ACTIVATIONS = None

    def __init__(self, name):
        self.name = name
        #: Where the user asked the cores to keep their kernel: "auto",
        #: "dtcm" or "sdram" (layers that can stream it: Dense).
        self.weights_in = "auto"
        #: The user's input block size for a 2-D split (None: the planner
        #: chooses, for layers that can split their inputs: Dense).  What
        #: the planner chose is in the model's plan, not here.
        self.requested_inputs_per_core = None
        self.input_shape = None
        self.output_shape = None
        self.weights = []
        self.model = None

    @property
    def units(self):
        """Output elements: the neurons of the layer."""
        return math.prod(self.output_shape)

    @property
    def n_inputs(self):
        return math.prod(self.input_shape)

    def output_shape_for(self, input_shape):
        raise NotImplementedError

    def initial_weights(self, rng):
        return []

    def keras_config(self):
        """The arguments of the equivalent Keras layer (``to_keras``)."""
        return {}

    def build(self, input_shape, rng):
        """Fixes the shapes and creates the weights (Keras' initialisers)."""
        self.input_shape = tuple(input_shape)
        self.output_shape = tuple(self.output_shape_for(self.input_shape))
        if not all(d > 0 for d in self.output_shape):
            raise SpiDNNConfigurationError(
                f"layer {self.name} would have output shape "
                f"{self.output_shape} from input shape {self.input_shape}")
        self.weights = [w.astype(numpy.float32)
                        for w in self.initial_weights(rng)]
        if self.takes_cores:
            self._check_slice()

    def check_free(self):
        """A layer object belongs to one model (``model``), as its weights
        do: refuse one that another model holds."""
        if self.model is not None:
            raise SpiDNNConfigurationError(
                f"layer {self.name} already belongs to another model; "
                f"create a new layer object")

    # ------------------------------------------------------------ weights
    @property
    def n_weights(self):
        return len(self.weight_names)

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        if len(weights) != len(self.weight_names):
            names = ", ".join(self.weight_names) or "no weights"
            raise SpiDNNConfigurationError(
                f"layer {self.name} takes {len(self.weight_names)} arrays "
                f"({names}), got {len(weights)}")
        arrays = []
        for array, current, what in zip(weights, self.weights,
                                        self.weight_names):
            array = numpy.asarray(array)
            if array.shape != current.shape:
                raise SpiDNNConfigurationError(
                    f"layer {self.name}: {what} must have shape "
                    f"{current.shape}, got {array.shape}")
            if not numpy.issubdtype(array.dtype, numpy.number):
                raise SpiDNNConfigurationError(
                    f"layer {self.name}: {what} must be numbers")
            check_finite(array, f"layer {self.name}: {what}")
            arrays.append(array.astype(numpy.float32))
        self.weights = arrays

    def take_trained_weights(self, weights):
        """The weights the machine trained, as they came back: the shapes
        are the layer's, and a run that diverged may hold nan or inf."""
        for array, current in zip(weights, self.weights):
            assert array.shape == current.shape, (self.name, array.shape)
        self.weights = [numpy.asarray(w, dtype=numpy.float32)
                        for w in weights]

    # ------------------------------------------------------------ machine
    def request_slice(self, neurons_per_core):
        """Takes the user's ``neurons_per_core``: a number, or ``"auto"``
        (or None) to leave it to the planner (spiDNN.compiler.planner)."""
        self.requested_neurons_per_core = (
            None if neurons_per_core is None or (
                isinstance(neurons_per_core, str)
                and neurons_per_core == "auto")
            else positive_int(neurons_per_core, "neurons_per_core"))

    @property
    def plans_own_slice(self):
        """Whether the planner chooses neurons_per_core (none was given)."""
        return self.requested_neurons_per_core is None

    @property
    def slice_granularity(self):
        """neurons_per_core is a multiple of this."""
        return 1

    def _check_slice(self):
        """The user's slice against the built shape."""
        if self.plans_own_slice:
            return
        granularity = self.slice_granularity
        if self.requested_neurons_per_core % granularity:
            raise SpiDNNConfigurationError(
                f"{self.name}: neurons_per_core "
                f"({self.requested_neurons_per_core}) must be a multiple "
                f"of its {granularity} output channels (a core computes "
                f"whole output positions)")

    def summary_row(self, n_cores):
        """(name, output shape, parameters, cores, packets its cores send
        per predicted sample) for Model.summary, on ``n_cores`` (the
        plan's)."""
        # Each output element once; a softmax's z once more, sideways.
        sent = self.units * (2 if getattr(self, "activation", None)
                             == "softmax" else 1) if n_cores else 0
        return (f"{self.name} ({type(self).__name__})",
                str((None,) + self.output_shape),
                sum(w.size for w in self.weights), n_cores, sent)
