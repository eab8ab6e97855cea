"""Lowering: the model as the machine sees it, the layers that take cores
as nodes, each knowing the node it takes its input from and those that
consume its output (a chain is the one case today), and the Dropout (if
any) that its cores apply.

Lowering is pure: it reads the user's layers and changes none of them.
Without a plan each node has the slicing the user asked for (the
planner's starting point); with one (``spiDNN.compiler.planner.Plan``,
frozen) each node carries the plan's slicing, which the machine graph's
vertices read.

Flatten and Reshape need no core (the machine numbers neurons row-major,
channels last, so they change only the shape) and a Dropout is a flag on
the layer before it.
"""
import dataclasses

from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.compiler.registry import vertex_class_of
from spiDNN.layers.core import Dropout
from spiDNN.abi import layouts


@dataclasses.dataclass(frozen=True)
class Slicing:
    """How a layer's work is cut over cores."""
    neurons_per_core: int
    #: The cores keep the kernel and inputs in SDRAM.
    streamed: bool = False
    #: Inputs each core takes (None: all of them, a 1-D split).
    inputs_per_core: int = None


def requested_slicing(layer):
    """The slicing the user asked for: their neurons_per_core (or one core
    for the layer), their inputs_per_core (when it splits), in DTCM."""
    requested = layer.requested_inputs_per_core
    return Slicing(
        layer.units if layer.plans_own_slice else min(
            layer.requested_neurons_per_core, layer.units),
        False, requested if requested is not None
        and requested < layer.n_inputs else None)


@dataclasses.dataclass(eq=False)
class CoreLayer:
    """A layer with cores, a node of the lowered model."""
    layer: object
    index: int
    slicing: Slicing
    dropout: object = None            # the Dropout layer after it
    #: The nodes it takes its input from (none: the model's input) and
    #: those that take its output (none: the loss or the output).
    inputs: list = dataclasses.field(default_factory=list)
    consumers: list = dataclasses.field(default_factory=list)

    @property
    def previous(self):
        return self.inputs[0] if self.inputs else None

    @property
    def next(self):
        return self.consumers[0] if self.consumers else None

    @property
    def neurons_per_core(self):
        return self.slicing.neurons_per_core

    @property
    def streamed(self):
        return self.slicing.streamed

    @property
    def inputs_per_core(self):
        return self.slicing.inputs_per_core

    @property
    def n_blocks(self):
        """Blocks its inputs are split in across cores (1: a 1-D split)."""
        return blocks_of(self.layer, self.inputs_per_core)

    def input_blocks(self):
        """[(first, end)] of each input block, in order."""
        n_inputs = self.layer.n_inputs
        size = self.inputs_per_core or n_inputs
        return [(lo, min(lo + size, n_inputs))
                for lo in range(0, n_inputs, size)]

    @property
    def n_slices(self):
        """Slices of its neurons (each on a core per input block)."""
        return -(-self.layer.units // self.neurons_per_core)

    @property
    def n_cores(self):
        return self.n_slices * self.n_blocks

    @property
    def vertex_class(self):
        """The application vertex class that runs the layer."""
        return vertex_class_of(self.layer)

    @property
    def is_first(self):
        return self.previous is None

    @property
    def is_output(self):
        return self.next is None

    @property
    def needs_backward(self):
        """Whether training needs this layer's backward pass: it or a layer
        before it has weights.  A first ZeroPadding, say, only forwards."""
        core = self
        while core is not None:
            if core.layer.weights:
                return True
            core = core.previous
        return False

    @property
    def sends_backward(self):
        """Whether, training, the layer sends the previous one gradients."""
        return self.previous is not None and self.previous.needs_backward

    @property
    def gradient_source(self):
        """Where the cores get dL/d(output) from when training (layouts'
        GRADIENT_SOURCES): the next Dense layer's deltas, through a copy
        of its kernel rows, or one packet per neuron directly."""
        if self.next is not None and self.next.vertex_class.SENDS_DELTAS:
            return "dense_deltas"
        return "direct"

    @property
    def n_next(self):
        """Values a core gathers per sample in the backward pass."""
        if self.gradient_source == "dense_deltas":
            return self.next.layer.units
        return self.layer.units

    @property
    def dropout_rate(self):
        return self.dropout.rate if self.dropout is not None else 0.0

    def dtcm_bytes(self, training, n_neurons=None, streamed=None,
                   inputs=None, carried=False, partial=False):
        """DTCM of one core holding ``n_neurons`` (default: a full slice),
        its kernel and inputs in SDRAM if ``streamed`` (default: as the
        layer is planned); in a 2-D split, a core of ``inputs`` of the
        layer's inputs, its sums ``carried`` from the previous block's,
        ``partial`` if its block is not the last."""
        vertex_class = self.vertex_class
        training = training if self.needs_backward else None
        if n_neurons is None:
            n_neurons = min(self.neurons_per_core, self.layer.units)
        if streamed is None:
            streamed = self.streamed
        if inputs is None:
            inputs = self.layer.n_inputs
        source = layouts.GRADIENT_SOURCES[
            "direct" if partial else self.gradient_source]
        return layouts.layer_dtcm_bytes(
            n_neurons, inputs, bool(training), source,
            self.n_next if not partial else n_neurons,
            self.dropout_rate > 0 and not partial,
            training.optimizer.n_states if training else 0, streamed,
            carried) + 4 * vertex_class.app_dtcm_floats(
                self, n_neurons, training, streamed, inputs, partial)


def blocks_of(layer, inputs_per_core):
    """Input blocks of ``inputs_per_core`` of ``layer``'s inputs (None:
    one, all of them)."""
    if inputs_per_core is None:
        return 1
    return -(-layer.n_inputs // inputs_per_core)


def core_layers(layers, plan=None):
    """The lowered nodes of a model's layers (after its Input), with the
    slicing of ``plan`` (a :py:class:`~spiDNN.compiler.planner.Plan`), or
    as the user asked without one."""
    result = []
    for layer in layers:
        if layer.takes_cores:
            slicing = (plan.slicing_of(layer.name) if plan is not None
                       else requested_slicing(layer))
            core = CoreLayer(layer, len(result), slicing)
            if result:
                core.inputs.append(result[-1])
                result[-1].consumers.append(core)
            result.append(core)
        elif isinstance(layer, Dropout):
            if not result:
                raise SpiDNNConfigurationError(
                    f"{layer.name}: a Dropout must follow a layer with "
                    f"neurons (spiDNN drops on the cores of the layer "
                    f"before it), not the Input")
            if result[-1].dropout is not None:
                raise SpiDNNConfigurationError(
                    f"{layer.name}: two Dropouts after "
                    f"{result[-1].layer.name}; combine them into one")
            result[-1].dropout = layer
    for core in result:
        if core.dropout is not None and not core.needs_backward:
            raise SpiDNNConfigurationError(
                f"{core.dropout.name}: a Dropout before the first layer "
                f"with weights is not supported")
    if result and result[-1].dropout is not None:
        raise SpiDNNConfigurationError(
            f"{result[-1].dropout.name}: a Dropout after the output layer "
            f"is not supported: the loss takes the output layer's values")
    return result
