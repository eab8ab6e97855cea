"""What every layer shares: a unique Keras-style name, its input and output
shapes (channels_last, without the batch axis), its weights in Keras'
layout, and the vertex class that runs it on the machine.

A layer called again (``d = Dense(8); a = d(x1); b = d(x2)``, Keras'
shared layer) returns a *use* of it: a copy that stands for the new
output, with sources and a name of its own (``dense[1]``) and the
layer's weights (``shares``), one set for all the uses.  On the machine
each use is a node with cores of its own."""
import copy
import itertools
import math
from collections import defaultdict

import numpy

from spiDNN.arrays import check_finite
from spiDNN.errors import SpiDNNConfigurationError, SpiDNNInternalError
from spiDNN.initializers import zeros
from spiDNN.layers.arguments import boolean, positive_int
from spiDNN.abi import layouts
from spiDNN.layers.activation_settings import (
    SETTINGS_IDS, checked_settings, core_activation)

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
    # The ids of settings are reached through the settings, not by name.
    allowed = set(layouts.ACTIVATIONS if allowed is None else allowed) - (
        set(SETTINGS_IDS))
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
    the layer; not for Flatten, Reshape or Dropout, say: spiDNN.compiler.registry
    says which app does) and ``weight_names``, and implement ``output_shape_for`` and, if they have
    weights, ``initial_weights``.
    """

    takes_cores = False
    #: The layer merges a list of inputs (Add, Concatenate, ...).
    merges = False
    weight_names = ()
    #: The layer adds a bias (Keras' use_bias); layers without weights
    #: have none (their cores' layer_params.use_bias is 0).
    use_bias = False
    #: The planner chooses the input blocks of a 2-D split (Dense's
    #: inputs_per_core="auto"); other layers take all their inputs.
    plans_own_blocks = False
    activation = "linear"
    #: A softmax's span: None, the whole layer (its cores exchange z);
    #: else the consecutive outputs each softmax is over, which a core
    #: holds whole (a convolution's channels).
    softmax_span = None
    #: The activation's settings where it has them and they differ from
    #: its Keras string's (spiDNN.layers.activation_settings): Keras'
    #: ReLU, LeakyReLU or ELU layer folded into this one, or one itself.
    activation_settings = {}
    #: The activations the layer computes (None: every one spiDNN knows).
    ACTIVATIONS = None
    #: A use of a layer called more than once: the layer (its first use),
    #: whose weights it shares; None for the layer itself.
    shares = None
    #: Which use this is: 0 for the layer itself, then in call order.
    use_index = 0

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
        self._trainable = True
        #: The layers (or Input) whose outputs it takes, once called on
        #: them (the functional API); None in a Sequential stack, where
        #: it takes the layer before it.
        self.inbound = None
        #: Its uses after the first (the layer called again), in order.
        self.later_uses = []

    # ----------------------------------------------------- shared layers
    @property
    def owner(self):
        """The layer whose weights these are: itself, or the layer a use
        shares."""
        return self.shares if self.shares is not None else self

    @property
    def weights(self):
        """The weights in Keras' layout (a use's are its layer's)."""
        return self.owner._weights

    @weights.setter
    def weights(self, arrays):
        self.owner._weights = arrays

    @property
    def is_shared(self):
        """The layer (or a use of it) is applied more than once."""
        return bool(self.owner.later_uses)

    def uses(self):
        """Every use of the layer, the layer itself first, in call order."""
        return [self.owner] + self.owner.later_uses

    @property
    def trainable(self):
        """Keras' ``trainable``: False freezes the layer's weights in
        training (no gradients, no update, no regulariser penalty, as
        Keras); gradients still flow through it to the layers before.
        A shared layer's uses are its own: one setting for all."""
        return self.owner._trainable

    @trainable.setter
    def trainable(self, value):
        self.owner._trainable = boolean(value, f"{self.name}: trainable")

    @property
    def units(self):
        """Output elements: the neurons of the layer."""
        return math.prod(self.output_shape)

    @property
    def n_inputs(self):
        """Input elements (of all its inputs, a merge)."""
        if self.merges:
            return sum(math.prod(shape) for shape in self.input_shape)
        return math.prod(self.input_shape)

    def core_inputs(self, n_neurons, training=False):
        """Input elements a core of ``n_neurons`` takes (``training``: a
        core that sends dL/dx): all of them, unless the layer says
        otherwise (a merge takes its slice, a windowed layer its
        windows')."""
        return self.n_inputs

    def output_shape_for(self, input_shape):
        raise NotImplementedError

    def initial_weights(self, rng):
        return []

    def check_after(self, layers):
        """Refuses to follow ``layers`` (the model's layers before it,
        Input excluded) where Keras would compute something else."""

    def keras_config(self):
        """The arguments of the equivalent Keras layer (``to_keras``)."""
        return {}

    def set_activation(self, activation, settings=None):
        """Makes the layer compute ``activation`` (a Keras name) with
        ``settings`` (its ReLU's, LeakyReLU's or ELU's): what from_keras
        folds into it; a clear error if the layer cannot."""
        name = activation_name(activation, self.ACTIVATIONS)
        checked = checked_settings(layouts.activation_kind(name),
                                   settings or {}, self.name)
        self.activation, self.activation_settings = name, checked

    def core_activation(self):
        """(the ACTIVATIONS id name its cores run, the layer_params
        activation_* fields)."""
        return core_activation(self.activation, self.activation_settings)

    def set_shapes(self, input_shape):
        """Fixes the input and output shapes (a merge's input shape is
        its inputs' shapes)."""
        self.input_shape = (tuple(tuple(s) for s in input_shape)
                            if self.merges else tuple(input_shape))
        self.output_shape = tuple(self.output_shape_for(self.input_shape))
        if not all(d > 0 for d in self.output_shape):
            raise SpiDNNConfigurationError(
                f"layer {self.name} would have output shape "
                f"{self.output_shape} from input shape {self.input_shape}")

    def build(self, input_shape, rng):
        """Fixes the shapes and creates the weights (Keras' initialisers)."""
        self.set_shapes(input_shape)
        try:
            self.weights = [w.astype(numpy.float32)
                            for w in self.initial_weights(rng)]
        except MemoryError as error:
            raise SpiDNNConfigurationError(
                f"layer {self.name} ({type(self).__name__}, output shape "
                f"{self.output_shape} from {self.input_shape}): its weights "
                f"do not fit this computer's memory ({error}); make it "
                f"smaller") from None
        self.check_slice()

    # ------------------------------------------------- the functional API
    def __call__(self, inputs):
        """Applies the layer to ``inputs`` (an Input or a layer called
        before; a merge takes a list of them), as Keras' functional API;
        returns the layer, which stands for its output, or, called
        again, a new use of it sharing its weights (its name
        ``<name>[k]``).  The model (``spiDNN.Model(inputs, outputs)``)
        creates the weights."""
        listed = isinstance(inputs, (list, tuple))
        sources = list(inputs) if listed else [inputs]
        kind = type(self).__name__
        if self.merges != listed:
            raise SpiDNNConfigurationError(
                f"{self.name} ({kind}) takes "
                + ("a list of inputs" if self.merges else
                   "one input, not a list") + f", got {inputs!r}")
        for source in sources:
            if not isinstance(source, Layer) or source.output_shape is None:
                raise SpiDNNConfigurationError(
                    f"{self.name} ({kind}) must be called on an Input or a "
                    f"layer already called on one, not {source!r}")
        shapes = ([s.output_shape for s in sources] if self.merges
                  else sources[0].output_shape)
        if self.inbound is not None or self.shares is not None:
            return self.owner._use_again(sources, shapes)
        self.set_shapes(shapes)
        self.inbound = sources
        return self

    def _use_again(self, sources, shapes):
        """A new use of the layer on ``sources``: a copy with the
        layer's weights (Keras' shared layer).  A layer with weights
        takes inputs of one shape: the machine's copies of its weights
        are laid out for it."""
        kind = type(self).__name__
        use = copy.copy(self)
        use.shares, use.later_uses = self, []
        use.use_index = len(self.later_uses) + 1
        use.name = f"{self.name}[{use.use_index}]"
        use.set_shapes(shapes)
        if self.weight_names and use.input_shape != self.input_shape:
            raise SpiDNNConfigurationError(
                f"{self.name} ({kind}) is applied to inputs of shape "
                f"{self.input_shape} and now {use.input_shape}: spiDNN "
                f"shares a layer's weights between inputs of one shape; "
                f"use a layer per shape")
        use.inbound = sources
        self.later_uses.append(use)
        return use

    @property
    def shape(self):
        """The output's shape with the batch axis, as a Keras tensor's."""
        return (None,) + tuple(self.output_shape)

    #: The merge layer classes of ``x + y``, ``x - y`` and ``x * y``,
    #: which spiDNN.layers.merging registers (it builds on this module).
    OPERATORS = {}

    def _operator(self, op, other):
        if op not in Layer.OPERATORS:
            raise SpiDNNInternalError("spiDNN.layers.merging is not loaded")
        return Layer.OPERATORS[op]()([self, other])

    def __add__(self, other):
        return self._operator("add", other)

    def __sub__(self, other):
        return self._operator("subtract", other)

    def __mul__(self, other):
        return self._operator("multiply", other)

    def check_free(self):
        """A layer object belongs to one model (``model``), as its weights
        do: refuse one that another model holds (a use: whose layer)."""
        if self.model is not None or self.owner.model is not None:
            whose = self.name if self.shares is None else (
                f"{self.name} (a use of {self.owner.name})")
            raise SpiDNNConfigurationError(
                f"layer {whose} already belongs to another model; "
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

    def check_slice(self):
        """The user's slice against the built shape."""
        if not self.takes_cores or self.plans_own_slice:
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
        # Each output element once; a whole layer's softmax's z once more,
        # sideways (a conv's, over each position's channels, stays on its
        # cores).
        exchanged = getattr(self, "activation", None) == "softmax" and (
            self.softmax_span is None)
        sent = self.units * (2 if exchanged else 1) if n_cores else 0
        # A shared layer's later uses hold its weights again on their
        # cores, but the model has them once.
        params = sum(w.size for w in self.weights)
        if self.shares is not None and params:
            params = f"{params} (shared)"
        return (f"{self.name} ({type(self).__name__})",
                str((None,) + self.output_shape), params, n_cores, sent)


class KernelAndBias:
    """What Dense and the convolutions share: a kernel and, as Keras'
    ``use_bias`` says, a bias per output channel, so that the weights are
    [kernel, bias], or [kernel] alone, in Keras' order either way."""

    def take_weights_in(self, weights_in):
        """Where each core keeps its kernel: "dtcm", "sdram" (streamed
        through DMA) or "auto" (the planner's choice)."""
        if weights_in not in ("auto", "dtcm", "sdram"):
            raise SpiDNNConfigurationError(
                f"{type(self).__name__} weights_in must be 'auto', 'dtcm' "
                f"or 'sdram', not {weights_in!r}")
        self.weights_in = weights_in

    def take_use_bias(self, use_bias):
        self.use_bias = boolean(use_bias, f"{type(self).__name__} use_bias")

    def take_regularizers(self, kernel_regularizer, bias_regularizer):
        """Keras' kernel_regularizer and bias_regularizer
        (spiDNN.regularizers: L1, L2, L1L2, their Keras names, or Keras'
        own); the cores add their penalties' gradients to each step's."""
        from spiDNN import regularizers
        kind = type(self).__name__
        self.kernel_regularizer = regularizers.get(
            kernel_regularizer, f"{kind} kernel_regularizer")
        self.bias_regularizer = regularizers.get(
            bias_regularizer, f"{kind} bias_regularizer")

    @property
    def regularised(self):
        """A regulariser adds a penalty of this layer's weights (a bias
        regulariser counts only where there are biases)."""
        return self.kernel_regularizer is not None or (
            self.use_bias and self.bias_regularizer is not None)

    def regularizer_fields(self):
        """The cores' kernel_l1, kernel_l2, bias_l1, bias_l2 (float32
        bits; 0: none)."""
        from spiDNN import regularizers
        from spiDNN.abi import layouts
        kernel = regularizers.fields_of(self.kernel_regularizer)
        bias = regularizers.fields_of(
            self.bias_regularizer if self.use_bias else None)
        return {name: layouts.float_bits(value) for name, value in zip(
            ("kernel_l1", "kernel_l2", "bias_l1", "bias_l2"),
            kernel + bias)}

    def regularizer_config(self):
        """The regularisers as Keras layer arguments (Keras' objects)."""
        from spiDNN import regularizers
        return {"kernel_regularizer": regularizers.to_keras(
                    self.kernel_regularizer),
                "bias_regularizer": regularizers.to_keras(
                    self.bias_regularizer)}

    @property
    def weight_names(self):
        return ("kernel", "bias") if self.use_bias else ("kernel",)

    @property
    def bias(self):
        """The biases, or None without (use_bias=False)."""
        return self.weights[1] if self.use_bias else None

    def with_bias(self, kernel, n_channels):
        """The initial weights of ``kernel`` (Keras' zero biases after it,
        with use_bias)."""
        return [kernel] + ([zeros(n_channels)] if self.use_bias else [])
