"""Lowering: the model as the machine sees it, the layers that take cores
as nodes, each knowing the nodes it takes its input from and those that
consume its output, and the Dropout (if any) that its cores apply.

The model may branch and merge: a node lists its sources (a merge has
several) and every use of its output, in the model's order.  A layer
with weights applied more than once is a node per use, which know one
another (``shared_uses``, spiDNN.compiler.sharing).

Lowering is pure: it reads the user's layers and changes none of them.
Without a plan each node has the slicing the user asked for (the
planner's starting point); with one (``spiDNN.compiler.planner.Plan``,
frozen) each node carries the plan's slicing, which the machine graph's
vertices read.

Flatten and Reshape need no core (the machine numbers neurons row-major,
channels last, so they change only the shape) and a Dropout is a flag on
the layer before it, which must feed nothing else.
"""
import dataclasses

from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.compiler.registry import vertex_class_of
from spiDNN.compiler.sharing import link_uses
from spiDNN.layers.core import Dropout
from spiDNN.layers.input import Input
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


@dataclasses.dataclass(frozen=True)
class ModelInput:
    """One of the model's Inputs as a node's source: the input source
    sends every Input's elements, one Input after the other, so Input
    ``index``'s start at ``offset``."""
    index: int
    offset: int = 0


def gradient_kind(consumer):
    """How a consumer's gradients reach its sources (GRADIENT_SOURCES): a
    Dense layer's as its deltas, the others' directly."""
    return ("dense_deltas" if consumer.vertex_class.SENDS_DELTAS
            else "direct")


def is_node(source):
    """Whether a node's source is a layer's node (not a model input)."""
    return isinstance(source, CoreLayer)


@dataclasses.dataclass(eq=False)
class CoreLayer:
    """A layer with cores, a node of the lowered model."""
    layer: object
    index: int
    slicing: Slicing
    dropout: object = None            # the Dropout layer after it
    #: The node of each of its sources, in the layer's order (or a
    #: ModelInput); and each use of its output: (consumer, which of the
    #: consumer's sources it is), in the model's order, which is the order
    #: the cores sum the consumers' gradients in.
    inputs: list = dataclasses.field(default_factory=list)
    uses: list = dataclasses.field(default_factory=list)
    #: The model's outputs it computes (their positions in the model's
    #: outputs: one, or more where an output is a Flatten of it), each
    #: taken by a loss core when training; it may feed other layers too.
    output_indices: list = dataclasses.field(default_factory=list)
    #: A layer with weights applied more than once: every use's node, in
    #: use order (spiDNN.compiler.sharing); None for a layer used once.
    shared_uses: list = None

    @property
    def is_output(self):
        """Its output is one of the model's: a loss takes it."""
        return bool(self.output_indices)

    @property
    def consumers(self):
        return [consumer for consumer, _ in self.uses]

    @property
    def previous(self):
        return self.inputs[0] if self.inputs else None

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
        """It takes the model's input (its only source: layers with
        weights take one)."""
        return not is_node(self.previous)

    @property
    def needs_backward(self):
        """Whether training needs this layer's backward pass: it or a layer
        before it has weights.  A first ZeroPadding, say, only forwards."""
        return bool(self.layer.weights) or any(
            source.needs_backward for source in self.inputs
            if is_node(source))

    def sends_backward_to(self, k):
        """Whether, training, the layer sends its source ``k`` gradients."""
        source = self.inputs[k]
        return is_node(source) and source.needs_backward

    @property
    def sends_backward(self):
        """Whether, training, the layer sends any source gradients."""
        return any(self.sends_backward_to(k)
                   for k in range(len(self.inputs)))

    def gradients(self):
        """Where, training, the cores get dL/d(output) from, in the order
        they sum it (layouts' GRADIENT_SOURCES): [(kind, the consumer's
        node, None for a loss)]: a Dense consumer's deltas through a
        copy of its kernel rows, or one packet per neuron directly; the
        consumers' first, in the model's order, then each output's
        loss (the machine graph adds their edges in this order)."""
        return [(gradient_kind(consumer), consumer)
                for consumer in self.consumers] + [
            ("direct", None) for _ in self.output_indices]

    def gradient_packets(self, n_neurons, partial=False):
        """Packets a core of ``n_neurons`` receives per sample in the
        backward pass: each Dense consumer's deltas; of a direct
        consumer's, all of them (the loss's and a windowed layer's reach
        every core of the layer), but a merge's and, 2-D, the last block's
        reach only the core holding their neurons."""
        if partial:
            return n_neurons

        def packets(kind, consumer):
            if kind == "dense_deltas":
                return consumer.layer.units
            if consumer is not None and (
                    consumer.vertex_class.ROUTES_GRADIENTS_TO_HOLDERS):
                return n_neurons
            return self.layer.units
        return sum(packets(kind, consumer)
                   for kind, consumer in self.gradients())

    @property
    def has_dense_consumers(self):
        """Whether the layer keeps a copy of a Dense consumer's rows."""
        return any(kind == "dense_deltas" for kind, _ in self.gradients())

    def gradients_received(self, n_neurons, partial=False):
        """[(GRADIENT_SOURCES id, values gathered)] of each consumer for a
        core of ``n_neurons`` (a partial core of a 2-D split: its
        deltas, from the last block's core)."""
        if partial:
            return [(layouts.GRADIENT_SOURCES["direct"], n_neurons)]
        return [(layouts.GRADIENT_SOURCES[kind],
                 consumer.layer.units if kind == "dense_deltas"
                 else n_neurons) for kind, consumer in self.gradients()]

    def core_inputs(self, n_neurons, training):
        """Input elements a core of ``n_neurons`` keeps (its windows',
        windowed; training, with those its dL/dx reads)."""
        return self.layer.core_inputs(
            n_neurons, bool(training) and self.needs_backward
            and self.sends_backward)

    @property
    def dropout_rate(self):
        return self.dropout.rate if self.dropout is not None else 0.0

    def dtcm_bytes(self, training, n_neurons=None, streamed=None,
                   inputs=None, carried=False, partial=False):
        """DTCM of one core holding ``n_neurons`` (default: a full slice),
        its kernel (and a Dense's inputs) in SDRAM if ``streamed`` (default: as the
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
            inputs = self.core_inputs(n_neurons, training)
        return layouts.layer_dtcm_bytes(
            n_neurons, inputs, bool(training),
            self.gradients_received(n_neurons, partial),
            self.dropout_rate > 0 and not partial,
            training.optimizer.n_states if training else 0,
            streamed and vertex_class.streams_inputs(),
            carried, rows_in_sdram=streamed,
            norm_slots=self.norm_slots(training)) + 4 * (
                vertex_class.app_dtcm_floats(
                    self, n_neurons, training, streamed, inputs, partial))

    def norm_slots(self, training):
        """Training with Keras' clipnorm: the gradient norms a core of the
        layer gathers (clip_norm.h), one per weight array of its layer
        and per Dense consumer whose rows it copies; global_clipnorm: one,
        all of them; else none."""
        mode = training.optimizer.norm_mode if training else "none"
        if mode == "none":
            return 0
        if mode == "global":
            return 1
        return len(self.layer.weights) + sum(
            kind == "dense_deltas" for kind, _ in self.gradients())


def blocks_of(layer, inputs_per_core):
    """Input blocks of ``inputs_per_core`` of ``layer``'s inputs (None:
    one, all of them)."""
    if inputs_per_core is None:
        return 1
    return -(-layer.n_inputs // inputs_per_core)


def core_layers(layers, plan=None, inputs=None, outputs=None):
    """The lowered nodes of a model's layers (after its Input, in an order
    where each comes after its sources), with the slicing of ``plan`` (a
    :py:class:`~spiDNN.compiler.planner.Plan`), or as the user asked
    without one.

    A layer's sources are its ``inbound`` layers (the functional API's),
    or, without, the layer before it in ``layers`` (a Sequential's).
    ``inputs``: the model's Inputs, in order (None: one); ``outputs``:
    its output layers, in order (None: the last layer)."""
    result = []
    #: Each layer's output: the node that computes it (or a ModelInput).
    node_of = {id(None): ModelInput(0)}
    offset = 0
    for k, model_input in enumerate(inputs or ()):
        node_of[id(model_input)] = ModelInput(k, offset)
        offset += model_input.units
    fed = _consumer_counts(layers)
    #: Nodes whose output feeds several layers before any Dropout.
    fanned = set()

    def source_node(layer):
        if id(layer) not in node_of and isinstance(layer, Input):
            node_of[id(layer)] = ModelInput(0)      # a model's one Input
        return node_of[id(layer)]

    for i, layer in enumerate(layers):
        sources = _sources_of(layers, i)
        if layer.takes_cores:
            slicing = (plan.slicing_of(layer.name) if plan is not None
                       else requested_slicing(layer))
            core = CoreLayer(layer, len(result), slicing,
                             inputs=[source_node(s) for s in sources])
            for k, source in enumerate(core.inputs):
                if is_node(source):
                    source.uses.append((core, k))
            node_of[id(layer)] = core
            result.append(core)
        else:
            node_of[id(layer)] = source_node(sources[0])
            if isinstance(layer, Dropout):
                _fold_dropout(layer, node_of[id(layer)],
                              node_of[id(layer)] in fanned)
        node = node_of[id(layer)]
        if fed.get(id(layer), 0) > 1 and is_node(node) and (
                node.dropout is None):
            fanned.add(node)
    if not result:
        return result
    link_uses(result)
    for index, layer in enumerate(outputs or [layers[-1]]):
        output = node_of[id(layer)]
        if not is_node(output):
            raise SpiDNNConfigurationError(
                f"the model's output ({layer.name}) is its input: add a "
                f"layer with neurons")
        if output.dropout is not None:
            raise SpiDNNConfigurationError(
                f"{output.dropout.name}: a Dropout after an output layer "
                f"is not supported: the loss takes the output layer's "
                f"values")
        output.output_indices.append(index)
    for core in result:
        if core.dropout is not None and not core.needs_backward:
            raise SpiDNNConfigurationError(
                f"{core.dropout.name}: a Dropout before the first layer "
                f"with weights is not supported")
    return result


def _sources_of(layers, i):
    """The layers (or Input) whose outputs layer ``i`` takes: its
    ``inbound``, or the one before it."""
    layer = layers[i]
    inbound = getattr(layer, "inbound", None)
    if inbound is not None:
        return list(inbound)
    return [layers[i - 1] if i else None]


def _consumer_counts(layers):
    """How many layers take each layer's output, by id."""
    counts = {}
    for i in range(len(layers)):
        for source in _sources_of(layers, i):
            counts[id(source)] = counts.get(id(source), 0) + 1
    return counts


def _fold_dropout(dropout, source, fanned):
    """A Dropout becomes a flag on the cores computing its input, which
    then drop what they send: only when the Dropout is all they feed
    (not ``fanned`` out to other layers too)."""
    if not is_node(source):
        raise SpiDNNConfigurationError(
            f"{dropout.name}: a Dropout must follow a layer with "
            f"neurons (spiDNN drops on the cores of the layer "
            f"before it), not the Input")
    if source.dropout is not None:
        raise SpiDNNConfigurationError(
            f"{dropout.name}: two Dropouts after "
            f"{source.layer.name}; combine them into one")
    if fanned:
        raise SpiDNNConfigurationError(
            f"{dropout.name}: its input feeds other layers too; spiDNN "
            f"drops on the cores of {source.layer.name}, so a Dropout "
            f"must be the only layer taking its output")
    source.dropout = dropout
