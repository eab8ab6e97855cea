"""What every layer's vertex shares (dense, conv, pool): the layer_params
struct of layer_core.h, the weights and outgoing regions, and the key
spaces of the forward and backward protocol.

A subclass states its app (its machine vertex class), its backward
contract (``SENDS_DELTAS``: whether the previous layer computes dL/da from
this layer's deltas with a copy of its kernel rows, as Dense allows), its
DTCM beyond layer_core.h's, and how its weights are laid out on the cores
and sent back.
"""
import numpy

from pacman.model.graphs.application import ApplicationVertex
from pacman.model.partitioner_interfaces import LegacyPartitionerAPI
from pacman.model.partitioner_splitters import SplitterFixedLegacy
from pacman.model.resources import ConstantSDRAM
from pacman.utilities.utility_calls import get_keys
from spinn_front_end_common.abstract_models import HasCustomAtomKeyMap
from spinn_front_end_common.data import FecDataView

from spiDNN import optimizers
from spiDNN.abi import layouts
from spiDNN.layers.activation_settings import core_activation
from spiDNN.compiler.vertices.app_machine_vertex import (
    APP_BASE_BYTES, AppMachineVertex, struct_words)
from spiDNN.compiler.vertices.keys import NO_KEY_SPACE, key_space, prefixed
from spiDNN.abi.partitions import (
    BACKWARD, CONTROL, FORWARD, NORM, PENALTY, SOFTMAX, SOFTMAX_BACKWARD,
    WEIGHTS)

#: The regulariser fields of a layer without a regulariser.
_NO_REGULARIZER = {name: 0 for name, _ in layouts.REGULARIZER_FIELDS}


class LayerSplitter(SplitterFixedLegacy):
    """Slices of ``neurons_per_core``; each core receives only what it
    needs where a layer says so (``LayerVertex.sources_of``: a 2-D
    split's block, a merge's rows), so a source core's keys are routed to
    the cores that take them and no others."""

    def get_source_specific_in_coming_vertices(self, source_vertex,
                                               partition_id):
        vertex = self.governed_app_vertex
        return [(target, vertex.sources_of(target, source_vertex,
                                            partition_id))
                for target in self.get_in_coming_vertices(partition_id)]


class LayerVertex(ApplicationVertex, LegacyPartitionerAPI,
                  HasCustomAtomKeyMap):
    """A layer: ``neurons_per_core`` of its output elements on each core.

    In a 2-D split (the plan's ``inputs_per_core``) the layer has one vertex
    per input block, the same slices of neurons on each: the last block's
    vertex is the layer's (it adds the biases, applies the activation and
    sends on), the ones before it are "partial": each core sends its sums
    on to the next block's core of the same slice (``forward``) and takes
    its neurons' deltas from the last block's core (``backward``).

    :param core_layer: the :py:class:`~spiDNN.compiler.lowering.CoreLayer`
    :param source_vertices: the application vertex of each of its sources
    :param training: the :py:class:`~spiDNN.training.training_run.TrainingRun`, or None
        to run forward passes only
    :param block: (index, first input, end) of the input block, or None
        for all the inputs
    """

    MACHINE_VERTEX = None
    #: Bytes of the app's regions beyond params, weights and outgoing.
    EXTRA_REGION_BYTES = 0
    #: The previous layer keeps this layer's kernel rows and receives its
    #: deltas; otherwise this layer sends dL/da of the previous layer.
    SENDS_DELTAS = False
    #: Its dL/dx packets are routed only to the source cores holding
    #: their neurons (a merge's), not to every core of the source.
    ROUTES_GRADIENTS_TO_HOLDERS = False
    #: The app can keep its kernel and input vectors in SDRAM and stream
    #: them through DMA (layer_params.streamed).
    CAN_STREAM = False
    #: Streamed, its input vectors live in SDRAM too (layer_core.h's
    #: inputs_in_sdram); else they stay in DTCM.
    STREAMS_INPUTS = True
    #: The partition on which a shared layer's uses add up their
    #: gradients (spiDNN.compiler.sharing); None: the app has no weights.
    SHARED_PARTITION = None

    def __init__(self, core_layer, source_vertices, training=None,
                 block=None):
        self.core_layer = core_layer
        self.layer = core_layer.layer
        n_blocks = core_layer.n_blocks if block is not None else 1
        self.block_index, self.block_first, end = block or (
            0, 0, self.layer.n_inputs)
        self.block_inputs = end - self.block_first
        #: This vertex's block comes before the last: its cores' sums go
        #: on to the next block's.
        self.is_partial = self.block_index < n_blocks - 1
        #: The layer is split 2-D (this is one of its blocks).
        self.is_block_of_split = n_blocks > 1
        label = self.layer.name
        if self.is_partial:
            label += f"[inputs {self.block_first}:{end}]"
        super().__init__(label=label,
                         max_atoms_per_core=core_layer.neurons_per_core,
                         splitter=LayerSplitter())
        self.source_vertices = list(source_vertices)
        self.source_vertex = self.source_vertices[0]
        #: Where each source's elements start in its sender's numbering:
        #: the input source sends every Input's, one after the other.
        self.source_offsets = [getattr(source, "offset", 0)
                               for source in core_layer.inputs]
        #: 2-D: the previous block's vertex (whose sums this one carries
        #: on), and the last block's (the layer's own); set by the graph.
        self.previous_block = None
        self.last_block = self
        #: The layer's block vertices, on the last block's (the graph's).
        self.block_vertices = [self]
        self.training = training
        #: Training: where dL/d(output) comes from, in the order the cores
        #: sum it: [(vertex, its partition, GRADIENT_SOURCES kind)] of
        #: each consumer (or the loss; a 2-D split's partial block: the
        #: last block), set by the graph once they exist.
        self.gradient_uses = []
        #: The source of the host's control commands (set by the graph).
        self.control_vertex = None
        #: A layer with weights applied more than once: every use's
        #: vertex, in use order (set by the graph); [] if used once.
        self.shared_vertices = []
        #: Clipping by a norm, the norms the cores gather (set by the
        #: graph: clip_norm.h's NORM_SOURCES): [(sending vertex, slot of
        #: its first variable, of its second)], the slot of each Dense
        #: consumer's kernel (for its rows here), and the slots.
        self.norm_sources = []
        self.norm_consumer_slots = {}
        self.norm_slots = 0

    # ----------------------------------------------------- the contract
    @classmethod
    def app_dtcm_floats(cls, core_layer, n_neurons, training, streamed=False,
                        inputs=None, partial=False):
        """DTCM floats the app allocates beyond layer_core.h's (with its
        kernel in SDRAM, when ``streamed``; in a 2-D split, for ``inputs``
        of the layer's inputs, ``partial`` if not the last block's)."""
        raise NotImplementedError

    @classmethod
    def kernel_floats(cls, core_layer, n_neurons, inputs=None,
                      streamed=False):
        """Of app_dtcm_floats, the weights a core holds (none)."""
        return 0

    def backward_packets(self):
        """Packets the layer sends per sample in the backward pass."""
        raise NotImplementedError

    def extra_deliveries(self):
        """Packet deliveries per sample beyond the forward gathers."""
        return 0

    def weights_words(self, vertex_slice):
        """The WEIGHTS region of a core, as uint32 words."""
        raise NotImplementedError

    def n_weight_packets(self, machine_vertex):
        """Weights a core sends to the host after training."""
        raise NotImplementedError

    def weights_from_cores(self, values):
        """The layer's weights in Keras' layout from
        {machine vertex: float32 array of the values it sent, by key
        offset}."""
        raise NotImplementedError

    def extra_regions(self, machine_vertex):
        """[(region name, words)] beyond params, weights and outgoing."""
        return []

    def self_partitions(self):
        """Partitions from the layer to itself: a softmax's exchanges."""
        if not self.exchanges_softmax:
            return []
        return [SOFTMAX] + ([SOFTMAX_BACKWARD] if self.training else [])

    def sources_of(self, machine_vertex, source_vertex, partition_id):
        """2-D: the source's machine vertices whose keys
        ``machine_vertex`` takes: its input block's cores, its slice's
        core of the previous block (the carry) or of the last (deltas);
        the norms' owners; any other source's (the next layer's, the
        control's): all."""
        if partition_id == NORM:
            return source_vertex.norm_owner_cores()
        lo = self.source_offsets[0] + self.block_first
        hi = lo + self.block_inputs
        if (self.is_block_of_split and source_vertex is self.source_vertex
                and partition_id == FORWARD):
            return [v for v in source_vertex.machine_vertices
                    if v.vertex_slice.lo_atom < hi
                    and v.vertex_slice.hi_atom >= lo]
        if source_vertex is not self and source_vertex in (
                self.previous_block, self.last_block):
            same = machine_vertex.vertex_slice.lo_atom
            return [v for v in source_vertex.machine_vertices
                    if v.vertex_slice.lo_atom == same]
        # A merge sends each source core only its neurons' gradients.
        senders = getattr(source_vertex, "senders_to", lambda *_: None)(
            partition_id, machine_vertex.vertex_slice.lo_atom,
            machine_vertex.vertex_slice.hi_atom + 1)
        return [source_vertex] if senders is None else senders

    def source_slices(self, vertex_slice):
        """[(first, n)] of each source's neurons a core of
        ``vertex_slice`` takes: its input block (all of them, 1-D)."""
        return [(self.source_offsets[0] + self.block_first,
                 self.block_inputs)]

    def n_keys_of(self, machine_vertex, partition_id):
        """Keys of ``machine_vertex`` on ``partition_id`` where they differ
        from core to core (a windowed layer's holders'), else None."""
        return None

    def key_space_shape(self, partition_id):
        """(atoms per core, atoms) of a partition whose keys do not number
        the layer's neurons (a norm's: its variables' words), else None."""
        if partition_id == NORM:
            per_core = self.norm_variables * layouts.NORM_WORD_STRIDE
            return per_core, per_core * self.n_slices
        return None

    # ---------------------------------------------- clipping by a norm
    @property
    def norm_mode(self):
        """layouts.NORM_MODES' name of the training's clipping by a norm
        (Keras' clipnorm: "clip", global_clipnorm: "global"), or
        "none"."""
        return self.training.optimizer.norm_mode if self.training else (
            "none")

    @property
    def steps_weights(self):
        """Training, the cores step the layer's weights (not frozen)."""
        return bool(self.training and self.layer.weights
                    and not self.frozen)

    @property
    def norm_variables(self):
        """The layer's weight arrays (Keras' variables: a kernel, a bias)
        whose gradients' squares its owning cores send; 0 if the cores
        step none."""
        return len(self.layer.weights) if self.steps_weights else 0

    @property
    def owns_norms(self):
        """Clipping by a norm, the vertex's cores own parts of its layer's
        gradients (a shared layer's first use's: every use holds the same
        totals)."""
        return (self.norm_mode != "none" and bool(self.norm_variables)
                and self.sends_weights)

    def norm_owner_cores(self):
        """Of an owning vertex (mapped), the cores that send their parts'
        sums of squares: each holds its own part (a Dense's slices, each
        of a 2-D split's blocks).  A layer whose cores all hold the same
        totals overrides this (its first)."""
        return list(self.machine_vertices) if self.owns_norms else []

    def norm_words_received(self):
        """A bound on the norms' words a core receives at each batch end
        (every word of every sum, and their counts)."""
        return sum(len(sender.norm_owner_cores()) * sender.norm_variables
                   * (layouts.EXACT_WORDS + 1)
                   for sender, _, _ in self.norm_sources)

    def norm_fields(self, machine_vertex):
        """The core's clip_norm.h fields of layer_params."""
        if not self.norm_slots:
            return {"norm_mode": layouts.NORM_MODES["none"],
                    "norm_clip": 0, "norm_inverse_clip": 0, "norm_key": 0,
                    "norm_sends": 0, "norm_variables": 0, "norm_slots": 0}
        sends = machine_vertex in self.norm_owner_cores()
        return {**self.training.optimizer.norm_fields(),
                "norm_key": machine_vertex._key(NORM, sends),
                "norm_sends": int(sends),
                "norm_variables": self.norm_variables,
                "norm_slots": self.norm_slots}

    def norm_records(self):
        """The NORM_SOURCES region."""
        return _records(layouts.NORM_SOURCE, [
            {**key_space(sender, NORM),
             "n_variables": sender.norm_variables,
             "senders": len(sender.norm_owner_cores()),
             "slot_0": slot_0, "slot_1": slot_1}
            for sender, slot_0, slot_1 in self.norm_sources])

    # ------------------------------------------- the work of one core
    @classmethod
    def work(cls, core_layer, n_neurons, training, inputs=None,
             carried=False, partial=False):
        """What one core of ``n_neurons`` runs per sample: [(cost point,
        calls, size of each call)] of c_code/common/cost.h's points, and
        ``packet`` and ``task`` for the entries to callbacks; work done
        once a batch counts 1 / batch_size of a call per sample.  The
        planner prices it with the cost table (spiDNN.costs.table.work_cycles).

        In a 2-D split, the core takes ``inputs`` of the layer's inputs,
        its sums start from the previous block's (``carried``), and a
        ``partial`` core sends them on and takes its deltas directly."""
        layer, n = core_layer.layer, n_neurons
        training = training if core_layer.needs_backward else None
        inputs = (core_layer.core_inputs(n, training) if inputs is None
                  else inputs)
        units = layer.units
        softmax = not partial and _exchanges_softmax(core_layer, training)
        work = received_work(inputs, first=True)
        if carried:
            work += received_work(n)
        work += [("task", 1, 0), ("forward_start", 1, n)]
        work += cls.forward_work(core_layer, n, inputs)
        output = "train_output_" if training else "output_"
        if partial:
            work.append((output + "linear", 1, n))
        elif softmax:
            work += received_work(units) + [("task", 1, 0), ("send", 1, n),
                                        ("softmax", 1, units),
                                        (output + "linear", 1, n)]
        elif _softmax_group(core_layer, training):
            span = _softmax_group(core_layer, training)
            work += [("softmax", n // span, span), (output + "linear", 1, n)]
        else:
            activation = ("linear" if _sends_logits(core_layer, training)
                          else layer.core_activation()[0])
            work.append((output + activation, 1, n))
        if not training:
            return work
        gradients = core_layer.gradients_received(n, partial)
        work += received_work(core_layer.gradient_packets(n, partial)) + [
            ("task", 1, 0)]
        for kind, size in gradients:
            if kind == layouts.GRADIENT_SOURCES["dense_deltas"]:
                work += [("gradient_dense", 1, n * size),
                         ("outgoing_accumulate", 1, n * size)]
            else:
                work.append(("gradient_direct", 1, n))
        work.append(("delta", 1, n))
        # A shared Dense consumer's totals, at each batch end.
        for consumer in [] if partial else core_layer.consumers:
            if consumer.shared_uses is not None and (
                    consumer.vertex_class.SENDS_DELTAS):
                work += [(point, calls / training.batch_size, size)
                         for point, calls, size in received_work(
                             consumer.vertex_class.shared_values(consumer))]
        span = 0 if partial else _softmax_group(core_layer, training)
        if span:
            work.append(("softmax_backward", n // span, span))
        elif not partial and not softmax and not _sends_logits(core_layer,
                                                               training):
            work.append(("backward_" + layer.core_activation()[0], 1, n))
        if softmax:
            work += received_work(units) + [("task", 1, 0),
                                        ("softmax_backward", 1, units)]
        # (The update runs in the host's commit round, which the clock
        # counts apart from the passes, as the planner does.)
        sends = not partial and (core_layer.sends_backward or carried)
        return work + cls.backward_work(core_layer, n, training, inputs,
                                        sends)

    @classmethod
    def forward_work(cls, core_layer, n_neurons, inputs):
        """The app's forward maths over ``inputs`` of the layer's inputs:
        [(cost point, calls, size)]."""
        raise NotImplementedError

    @classmethod
    def backward_work(cls, core_layer, n_neurons, training, inputs,
                      sends_backward):
        """The app's backward work past the deltas, per sample (sending
        the previous layer, or blocks, what they need if
        ``sends_backward``)."""
        raise NotImplementedError

    # --------------------------------------------------------- the layer
    @property
    def n_atoms(self):
        return self.layer.units

    @property
    def is_output(self):
        return self.core_layer.is_output

    @property
    def sends_logits(self):
        """The output layer hands z to a loss that takes logits (Keras'
        cross-entropies after a softmax or a sigmoid); a partial core of a
        2-D split hands its sums on, and takes dL/dz back."""
        return self.is_partial or _sends_logits(self.core_layer,
                                                self.training)

    @property
    def activation(self):
        """The activation id name the cores compute (an alias resolved,
        settings counted)."""
        return self.core_activation()[0]

    def core_activation(self):
        """(that name, the layer_params activation_* fields): a partial
        core of a 2-D split hands on its sums as they are."""
        if self.is_partial:
            return core_activation("linear", {})
        return self.layer.core_activation()

    @property
    def exchanges_softmax(self):
        return not self.is_partial and _exchanges_softmax(
            self.core_layer, self.training)

    @property
    def sends_backward(self):
        """Training, the cores send backward: to the previous layer, and
        in a 2-D split to the blocks before the last."""
        return (not self.is_partial and bool(self.training) and (
            self.core_layer.sends_backward or self.is_block_of_split))

    def dense_uses(self):
        """Training: the consumers whose kernel rows the cores copy (each
        Dense consumer's deltas come through them)."""
        return [vertex for vertex, _, kind in self.gradient_uses
                if kind == "dense_deltas"] if self.training else []

    @property
    def has_outgoing(self):
        return bool(self.dense_uses())

    # ---------------------------------------------------- shared layers
    @property
    def is_shared(self):
        """The vertex is a use of a layer applied more than once."""
        return bool(self.shared_vertices)

    @property
    def sends_weights(self):
        """Its cores send the trained weights (and report the penalty):
        a layer with weights used once, or a shared layer's first use
        (every use holds the same)."""
        return bool(self.layer.weights) and (
            not self.is_shared or self is self.shared_vertices[0])

    def shared_consumers(self):
        """Training: the Dense consumers that are shared layers, whose
        rows' totals the cores take from their last use: [(consumer,
        its last use)]."""
        return [(consumer, consumer.shared_vertices[-1])
                for consumer in self.dense_uses() if consumer.is_shared]

    def shared_totals_deliveries(self):
        """Packets of the shared consumers' totals the cores receive
        (every core the whole kernel of each), counted as if every
        sample ended a batch."""
        return self.n_slices * sum(
            last.n_shared_values() for _, last in self.shared_consumers())

    @property
    def n_slices(self):
        """The vertex's cores: the layer's slices of neurons."""
        return self.core_layer.n_slices

    def deliveries_per_sample(self):
        """A bound on the packets the vertex's cores receive per sample."""
        n = self.core_layer.neurons_per_core
        inputs = (self.block_inputs if self.is_block_of_split
                  else self.core_layer.core_inputs(n, self.training))
        forward = self.input_deliveries(inputs) + self.n_slices * ((
            n if self.previous_block is not None else 0) + (
            2 * self.layer.units if self.exchanges_softmax else 0))
        if not self.training:
            return forward
        gathered = self.core_layer.gradient_packets(n, self.is_partial)
        # The norms' words, counted as if every sample ended a batch
        # (as conv's chain): the pass that ends one must have the time.
        norms = self.n_slices * self.norm_words_received()
        return 2 * forward + self.n_slices * gathered + norms + (
            self.extra_deliveries() + self.shared_totals_deliveries())

    def input_deliveries(self, inputs):
        """Packets of its inputs the vertex's cores receive per sample,
        each core taking ``inputs``."""
        return self.n_slices * inputs

    @property
    def n_states(self):
        """The optimizer's state arrays per weight array (training)."""
        return self.training.optimizer.n_states if self.training else 0

    @property
    def initial_state(self):
        """The optimizer state to start from (per kind, arrays shaped as
        the layer's weights), or None."""
        return self.training.layer_state(self.layer) if self.training else (
            None)

    @property
    def frozen(self):
        """Training a layer of Keras' trainable=False: its weights stay
        (no gradients, no update, no penalty, as Keras leaves them)."""
        return bool(self.training) and not self.layer.trainable

    @property
    def resumes_state(self):
        """Training, the optimizer's state starts from the last run's
        (params.has_state): its weights' (OPTIMIZER_STATE), or, a layer
        without weights, that of the Dense consumers' rows it keeps
        (OUTGOING)."""
        if self.layer.weights:
            return self.initial_state is not None
        return any(self.consumer_state(consumer) is not None
                   for consumer in self.dense_uses())

    def regularizer_fields(self):
        """Training: the layer's regularisers' factors (float32 bits,
        layouts.REGULARIZER_FIELDS); zeros without, or frozen (Keras
        counts the penalties of trainable weights only)."""
        fields = getattr(self.layer, "regularizer_fields", None)
        if not self.training or fields is None or self.frozen:
            return dict(_NO_REGULARIZER)
        return fields()

    @property
    def regularised(self):
        """Training, a regulariser adds a penalty of the layer's weights."""
        return any(self.regularizer_fields().values())

    def n_penalty_packets(self, machine_vertex):
        """The parts of the layer's penalty the core sends when asked:
        one per neuron of a regularised layer (its row's and bias's, the
        same on every slicing), keyed by the neuron; a shared layer's
        first use alone."""
        return machine_vertex.vertex_slice.n_atoms if (
            self.regularised and self.sends_weights) else 0

    def consumer_regularizer(self, consumer, kind):
        """A consumer's kernel regulariser's factors, for the copy of its
        rows the cores keep (a Dense consumer's); zeros for the others."""
        fields = consumer.regularizer_fields() if kind == "dense_deltas" else (
            _NO_REGULARIZER)
        return {"kernel_l1": fields["kernel_l1"],
                "kernel_l2": fields["kernel_l2"]}

    def n_sent_packets(self, machine_vertex):
        """Packets a core sends asked for its weights: the weights, then
        each optimizer state array in the same layout."""
        return self.n_weight_packets(machine_vertex) * (1 + self.n_states)

    def consumer_state(self, consumer):
        """A Dense consumer's optimizer state (its outgoing rows'), or
        None."""
        return self.training.layer_state(consumer.layer)

    def get_sdram_used_by_atoms(self, vertex_slice):
        n = vertex_slice.n_atoms
        words = len(self.weights_words(vertex_slice))
        if self.initial_state is not None:
            words *= 1 + self.n_states
        for consumer in self.dense_uses():
            words += n * consumer.layer.units * self._rows_copies(consumer)
        words += self.stream_words(vertex_slice)
        words += 1 + len(layouts.SOURCE.fields) * len(self.source_vertices)
        if self.training:
            words += 1 + len(layouts.GRADIENT.fields) * len(
                self.gradient_uses)
        if self.norm_slots:
            words += 1 + len(layouts.NORM_SOURCE.fields) * len(
                self.norm_sources)
        return ConstantSDRAM(
            APP_BASE_BYTES + layouts.LAYER_PARAMS.n_bytes
            + self.EXTRA_REGION_BYTES + 4 * words)

    def _rows_copies(self, consumer):
        """Arrays of a Dense consumer's rows in the OUTGOING region: the
        rows, and each state array when resuming; streamed, every state
        array and the gradients too (outgoing_weights)."""
        if self.core_layer.streamed:
            return 2 + self.n_states
        return 1 + (self.n_states if self.consumer_state(consumer)
                    is not None else 0)

    @classmethod
    def streams_inputs(cls):
        """Streamed, whether its input vectors live in SDRAM (an app that
        streams its kernel and asks for it)."""
        return cls.CAN_STREAM and cls.STREAMS_INPUTS

    def stream_words(self, vertex_slice):
        """Words of a streamed core's STREAM region; 0 unless streamed
        (a streamed core without a kernel has none: its rows of Dense
        consumers stay in the OUTGOING region)."""
        if not (self.core_layer.streamed and self.CAN_STREAM):
            return 0
        return self.stream_region_floats(
            self.core_layer, vertex_slice.n_atoms, self.training,
            self.block_inputs, self.chained(vertex_slice))

    def chained(self, vertex_slice):
        """Whether a core's gradients add to a previous core's running
        sums (a conv's chain)."""
        return False

    # ------------------------------------------- streamed (CAN_STREAM)
    @classmethod
    def weights_floats(cls, core_layer, n_neurons, inputs):
        """A bound on the weights of a core of ``n_neurons`` taking
        ``inputs``: a Dense's rows and biases."""
        return n_neurons * (inputs + 1)

    @classmethod
    def stream_region_floats(cls, core_layer, n_neurons, training, inputs,
                             chained=True):
        """Words of a streamed core's STREAM region (dense_stream.h's)."""
        return layouts.stream_region_words(
            n_neurons, inputs, bool(training),
            training.optimizer.n_states if training else 0)

    @classmethod
    def streamed_words(cls, core_layer, n_neurons, training, inputs):
        """Words a streamed core moves between SDRAM and DTCM per sample
        (``training``: None predicting): a Dense's kernel and inputs; its
        gradients read and written and its inputs again, training, and
        the update each batch."""
        kernel = n_neurons * inputs
        words = kernel + inputs
        if training:
            words += 2 * kernel + inputs + kernel * 2 * (
                2 + training.optimizer.n_states) / training.batch_size
        return words

    def create_machine_vertex(self, vertex_slice, sdram, label=None):
        return self.MACHINE_VERTEX(self, vertex_slice, sdram, label)

    def get_atom_key_map(self, pre_vertex, partition_id, routing_info):
        """What a board's live connection accepts from the gatherer: each
        weight's key for ``weights``, a key per neuron otherwise."""
        base = routing_info.get_key_from(pre_vertex, partition_id)
        vertex_slice = pre_vertex.vertex_slice
        if partition_id == WEIGHTS:
            return [(i, base + i)
                    for i in range(self.n_sent_packets(pre_vertex))]
        return list(enumerate(get_keys(base, vertex_slice),
                              vertex_slice.lo_atom))


class WithoutWeights:
    """The weight contract of a layer vertex whose layer has no weights
    (pooling, padding, merges): nothing on the cores, nothing sent back."""

    @classmethod
    def weights_floats(cls, core_layer, n_neurons, inputs):
        return 0

    def weights_words(self, vertex_slice, arrays=None):
        return numpy.zeros(0, dtype=numpy.uint32)

    def n_weight_packets(self, machine_vertex):
        return 0

    def weights_from_cores(self, values):
        return []


class LayerMachineVertex(AppMachineVertex):
    """One core's slice of a layer."""

    def get_n_keys_for_partition(self, partition_id):
        keys = self.app_vertex.n_keys_of(self, partition_id)
        if keys is not None:
            return keys
        shape = self.app_vertex.key_space_shape(partition_id)
        if shape is not None:
            return shape[0]
        if partition_id == WEIGHTS:
            return max(1, self.app_vertex.n_sent_packets(self))
        return super().get_n_keys_for_partition(partition_id)

    def _key(self, partition_id, wanted=True):
        if not wanted:
            return 0
        return FecDataView.get_routing_infos().get_key_from(
            self, partition_id)

    @property
    def core_index(self):
        """This core's place in its layer, 0 first."""
        return (self.vertex_slice.lo_atom
                // self.app_vertex.core_layer.neurons_per_core)

    def params(self):
        """The values of this core's ``layer_params`` struct."""
        vertex = self.app_vertex
        core_layer = vertex.core_layer
        training = vertex.training
        softmax = vertex.exchanges_softmax
        return layouts.LAYER_PARAMS.pack(
            n_neurons=self.vertex_slice.n_atoms,
            first_neuron=self.vertex_slice.lo_atom,
            **vertex.core_activation()[1],
            forward_key=self._key(FORWARD),
            softmax_key=self._key(SOFTMAX, softmax),
            **prefixed("peer", key_space(vertex, SOFTMAX)
                       if softmax else NO_KEY_SPACE),
            training=int(bool(training)),
            sends_logits=int(vertex.sends_logits),
            softmax_group=0 if vertex.is_partial else _softmax_group(
                core_layer, training),
            sends_backward=int(vertex.sends_backward),
            backward_key=self._key(BACKWARD, vertex.sends_backward),
            softmax_backward_key=self._key(
                SOFTMAX_BACKWARD, bool(training) and softmax),
            weights_key=self._key(WEIGHTS, bool(training) and (
                vertex.n_weight_packets(self) > 0)),
            **(training.optimizer.fields(vertex.resumes_state)
               if training else optimizers.SGD().fields()),
            **(training.batch_fields() if training else
               {"batch_size": 0, "n_samples": 0}),
            **prefixed("peer_backward",
                       key_space(vertex, SOFTMAX_BACKWARD)
                       if training and softmax else NO_KEY_SPACE),
            dropout_rate=layouts.float_bits(
                core_layer.dropout_rate
                if training and not vertex.is_partial else 0.0),
            dropout_seed=(core_layer.dropout.seed
                          if core_layer.dropout is not None else 0),
            control_key=key_space(vertex.control_vertex, CONTROL)["base"],
            streamed=int(core_layer.streamed),
            inputs_in_sdram=int(core_layer.streamed
                                and vertex.streams_inputs()),
            block_first=vertex.block_first,
            block_inputs=sum(n for _, n in vertex.source_slices(
                self.vertex_slice)),
            use_bias=int(vertex.layer.use_bias),
            partial=int(vertex.is_partial),
            **prefixed("carry", key_space(vertex.previous_block, FORWARD)
                       if vertex.previous_block is not None
                       else NO_KEY_SPACE),
            **vertex.regularizer_fields(),
            penalty_key=self._key(PENALTY, vertex.n_penalty_packets(self) > 0),
            frozen=int(vertex.frozen),
            **vertex.norm_fields(self))

    def outgoing_weights(self):
        """Each Dense consumer's kernel rows of this slice's neurons
        (n, its units): the copy the backward pass multiplies its deltas
        by; then, resuming, the same rows of each optimizer state array;
        the consumers one after the other, in the GRADIENTS region's
        order.  A streamed core keeps the rows in place (outgoing.h):
        then every state array follows them (zeros unless resuming), and
        their gradients' zeros after."""
        vertex = self.app_vertex
        lo, hi = self.vertex_slice.lo_atom, self.vertex_slice.hi_atom + 1
        in_place = vertex.core_layer.streamed
        blocks = []
        for consumer in vertex.dense_uses():
            rows = consumer.layer.outgoing_rows(lo, hi)
            blocks.append(rows)
            state = vertex.consumer_state(consumer)
            if state is not None:
                blocks += [consumer.layer.outgoing_rows(lo, hi,
                                                        kernel=arrays[0])
                           for arrays in state]
            elif in_place:
                blocks += [numpy.zeros_like(rows)] * vertex.n_states
            if in_place:
                blocks.append(numpy.zeros_like(rows))
        return numpy.concatenate([
            numpy.ascontiguousarray(rows, dtype=numpy.float32).ravel()
            for rows in blocks]).view(numpy.uint32)

    def source_records(self):
        """The SOURCES region: each source's key space and the slice of
        its neurons this core takes."""
        vertex = self.app_vertex
        slices = vertex.source_slices(self.vertex_slice)
        return _records(layouts.SOURCE, [
            {**key_space(source, FORWARD), "first": first, "n": n}
            for source, (first, n) in zip(vertex.source_vertices, slices)])

    def gradient_records(self):
        """The GRADIENTS region: each consumer's kind and key space, in
        the order the core sums their parts; a shared Dense consumer's
        totals."""
        vertex = self.app_vertex
        return _records(layouts.GRADIENT, [
            {"source": layouts.GRADIENT_SOURCES[kind],
             **_gradient_space(consumer, self, partition),
             **vertex.consumer_regularizer(consumer, kind),
             "frozen": int(kind == "dense_deltas" and consumer.frozen),
             **_totals_fields(consumer, kind),
             "norm_slot": vertex.norm_consumer_slots.get(
                 consumer, layouts.NO_NORM_SLOT)}
            for consumer, partition, kind in vertex.gradient_uses])

    def regions(self):
        vertex = self.app_vertex
        regions = [("PARAMS", struct_words(self.params())),
                   ("SOURCES", self.source_records())]
        if vertex.training:
            regions.append(("GRADIENTS", self.gradient_records()))
        if vertex.norm_slots:
            regions.append(("NORM_SOURCES", vertex.norm_records()))
        weights = vertex.weights_words(self.vertex_slice)
        if len(weights):
            regions.append(("WEIGHTS", weights))
        if vertex.initial_state is not None:
            regions.append(("OPTIMIZER_STATE", numpy.concatenate([
                vertex.weights_words(self.vertex_slice, arrays)
                for arrays in vertex.initial_state])))
        if vertex.has_outgoing:
            regions.append(("OUTGOING", self.outgoing_weights()))
        stream = vertex.stream_words(self.vertex_slice)
        if stream:
            # Zeros: the input vectors arrive, the gradients start at 0,
            # and the state is copied in from OPTIMIZER_STATE (or 0).
            regions.append(("STREAM", numpy.zeros(stream, numpy.uint32)))
        return regions + vertex.extra_regions(self)


def _totals_fields(consumer, kind):
    """A GRADIENT record's totals: where a shared Dense consumer's last
    use sends its kernel's totals, and the length of its rows."""
    if kind != "dense_deltas" or not consumer.is_shared or consumer.frozen:
        return {**prefixed("totals", NO_KEY_SPACE), "totals_rows": 0}
    last = consumer.shared_vertices[-1]
    return {**prefixed("totals", key_space(last, last.SHARED_PARTITION)),
            "totals_rows": consumer.layer.n_inputs}


def _gradient_space(consumer, holder, partition_id):
    """The key space in which ``holder`` (a core) reads the gradients
    ``consumer`` sends it on ``partition_id``, and the index there of its
    first neuron (GRADIENT's fields): a windowed consumer's own where it
    routes them by holder, else the partition's."""
    own = getattr(consumer, "holder_gradient_space", lambda *_: None)(
        holder, partition_id)
    return own or {**key_space(consumer, partition_id),
                   "first": holder.vertex_slice.lo_atom}


def _records(struct, records):
    """A region of ``struct`` records after their count, as words."""
    return numpy.concatenate([
        numpy.array([len(records)], dtype=numpy.uint32),
        *(struct_words(struct.pack(**fields)) for fields in records)])


def _sends_logits(core_layer, training):
    """An output layer whose loss takes its logits (Model's _check_logits
    keeps it from feeding anything that takes its activations)."""
    return bool(training) and any(
        training.outputs[index].sends_logits
        for index in core_layer.output_indices)


def _exchanges_softmax(core_layer, training):
    return (_computes_softmax(core_layer, training)
            and core_layer.layer.softmax_span is None)


def _computes_softmax(core_layer, training):
    """The cores compute a softmax (a whole layer's, or one per span of
    each core's outputs), rather than leave it to a loss taking logits."""
    return (core_layer.layer.activation == "softmax"
            and not _sends_logits(core_layer, training))


def _softmax_group(core_layer, training):
    """layer_params.softmax_group: the span of a softmax each core
    computes alone (0: none, or the whole layer's, exchanged)."""
    span = core_layer.layer.softmax_span
    return span if span and _computes_softmax(core_layer, training) else 0


def received_work(n_packets, first=False):
    """The work of receiving ``n_packets``: each a packet callback, past
    the input gather's test unless they are inputs (``first``)."""
    work = [("packet", n_packets, 0), ("receive", n_packets, 1)]
    return work if first else work + [("receive_other", n_packets, 1)]


def cores_holding(vertex, lo, hi):
    """``vertex``'s cores sending forward any of its elements [lo, hi):
    those whose slices hold them, unless the vertex's atoms are not its
    elements (the feeder's are shards of the training set) and it says
    which of its cores send them."""
    holders = getattr(vertex, "cores_sending", None)
    if holders is not None:
        return holders(lo, hi)
    return [v for v in vertex.machine_vertices
            if v.vertex_slice.lo_atom < hi and v.vertex_slice.hi_atom >= lo]
