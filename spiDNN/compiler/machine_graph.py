"""A model as an application graph: sources, layers, loss and gatherer.

Predicting: the input source feeds the first layer, each layer the next
(``forward``; ``softmax`` self-edges on softmax layers), and each output
layer's ``forward`` goes to the live packet gatherer at the machine's edge.

A third source carries the host's control commands to every app core
(``control``: abort and resume for a replay, commit, send the weights).

Training adds, for each of the model's outputs, a source streaming its
labels and a loss vertex; the output layer's ``forward`` goes to its loss,
``backward`` runs from the losses down to the first layer (an output that
feeds other layers too sums their gradients, then its loss's), softmax
layers add ``softmax_backward`` self-edges, and the gatherer receives each
sample's ``loss`` (of each loss core) and, at the end, every core's
``weights``; a regularised layer's cores send it their parts of the
weight penalty (``penalty``) when the host asks.

A layer split 2-D (``inputs_per_core``) has a vertex per input block
(``LayerVertex``): each takes its block's inputs (``forward``, routed to
it alone), the blocks before the last send their sums on to the next
(``forward``), and, training, the last block's deltas go back to them as
well as to the previous layer (``backward``).  When the first layer is
split so, the input source has a core per block.

With the training data on the board (``board_data``), the feeder takes the
place of the input and label sources and, for the apps, of the control
source: it streams the samples itself, paced by the loss it hears, and
carries on the host's commands, which now go to it alone
(``vertices/feeder.py``).
"""
import numpy
from pacman.model.graphs.application import ApplicationEdge
from spinn_front_end_common.data import FecDataView
from spinn_front_end_common.utilities.utility_objs import (
    LivePacketGatherParameters)
from spinnman.messages.eieio import EIEIOType
from spinn_front_end_common.utility_models import (
    ReverseIpTagMultiCastSource)

from spiDNN.compiler.lowering import core_layers, gradient_kind, is_node
from spiDNN.errors import (
    SpiDNNConfigurationError, SpiDNNInternalError, SpiDNNMachineError)
from spiDNN.compiler.vertices.feeder import FeederVertex
from spiDNN.compiler.vertices.keys import index_of_keys, key_space
from spiDNN.compiler.vertices.loss import LossVertex
from spiDNN.abi import layouts
from spiDNN.abi.partitions import (
    BACKWARD, CONTROL, FORWARD, LABELS, LOSS, NORM, PENALTY, RELAY, WEIGHTS,
    backward_to)

#: The most (vertex, partition) pairs a model's graph takes for dL/dx by
#: holder (window.py): planner.WEIGHT_KEY_BITS leaves PACMAN's zoned key
#: allocator 7 bits to number them.
MAX_PARTITIONS = 128

INPUT_LABEL = "input"
LABELS_LABEL = "labels"
CONTROL_LABEL = "control"
OUTPUT_LABEL = "output"
#: Where a board's live packet gatherer sends outputs (unused virtually).
LIVE_OUTPUT_PORT = 17895
LIVE_INPUT_PORT = 12345
LIVE_LABELS_PORT = 12346
LIVE_CONTROL_PORT = 12347


class ModelGraph:
    """The vertices of one model added to the current toolchain session.

    :param training: a :py:class:`~spiDNN.training.training_run.TrainingRun` to build
        the training graph, or None for forward passes only
    :param board_data: training: a :py:class:`~spiDNN.compiler.board_data.BoardData`
        to keep the training set on the board, streamed by the feeder
    """

    def __init__(self, model, session, training=None, board_data=None):
        self.session = session
        self.training = training
        self.model_inputs = model.inputs
        self._edges = set()
        # The run's plan: the model's check_fits made it for this run.
        if model.plan is None or model.plan.training != bool(training):
            raise SpiDNNInternalError(
                "the machine graph needs the model planned for its run "
                "(Model.check_fits)")
        self.core_layers = core_layers(model.layers, model.plan,
                                       model.inputs, model.outputs)
        self.layers = [core.layer for core in self.core_layers]
        #: The host's commands (to every app, or to the feeder).
        self.host_control_vertex = self._source(
            CONTROL_LABEL, len(layouts.CONTROLS), LIVE_CONTROL_PORT)
        self.feeder = None
        if board_data is not None:
            if self._input_block_size() is not None:
                raise SpiDNNConfigurationError(
                    "the feeder sends every input to one input block: keep "
                    "the data on the host (spiDNN.LiveIO(data_on_board="
                    "False)) for a first layer split by inputs_per_core")
            self.feeder = FeederVertex(board_data, self.host_control_vertex)
            self.session.add_vertex(self.feeder)
            self._edge(self.host_control_vertex, self.feeder, CONTROL)
            if len(board_data.shards) > 1:
                self._edge(self.feeder, self.feeder, RELAY)
            self.input_vertex = self.control_vertex = self.feeder
        else:
            self.input_vertex = self._source(
                INPUT_LABEL, model.n_inputs, LIVE_INPUT_PORT,
                self._input_block_size())
            self.control_vertex = self.host_control_vertex
        #: Every layer's vertices (each input block's, 2-D), in order.
        self.layer_vertices = []
        #: Each node's vertex (its last input block's, 2-D).
        self.vertex_of = {}
        for core in self.core_layers:
            sources = [self.vertex_of[source] if is_node(source)
                       else self.input_vertex for source in core.inputs]
            self.vertex_of[core] = self._add_layer(core, sources, training)
        for core in self.core_layers:
            self._add_gradients(core)
        self._add_shared_chains()
        self._add_norms()
        #: The vertex computing each of the model's outputs, in order.
        self.output_vertices = [None] * len(model.outputs)
        for core in self.core_layers:
            for index in core.output_indices:
                self.output_vertices[index] = self.vertex_of[core]
        #: The first output's (the model's one, mostly).
        self.output_vertex = self.output_vertices[0]
        #: Training: each output's labels source and loss vertex.
        self.labels_vertices, self.loss_vertices = [], []
        if training:
            self._add_losses(training)
        else:
            for vertex in dict.fromkeys(self.output_vertices):
                self._gather(vertex, [FORWARD])
        self._route_gradients_by_holder()

    def _route_gradients_by_holder(self):
        """Training, the windowed layers that can (holder_candidates)
        send dL/dx by holder, a partition for each of a core's holders,
        in layer order while the model's partitions stay within
        MAX_PARTITIONS: each is a zone of PACMAN's key allocator, and more
        would take a key bit from the weights (planner.WEIGHT_KEY_BITS)."""
        partitions = {(pre, partition) for pre, _, partition in self._edges}
        for vertex in self.layer_vertices:
            extra = getattr(vertex, "holder_partitions", list)()
            if not extra or len(partitions) + len(extra) > MAX_PARTITIONS:
                continue
            vertex.routes_by_holder = True
            for partition in extra:
                self._edge(vertex, vertex.source_vertex, partition)
                partitions.add((vertex, partition))

    def _input_block_size(self):
        """The inputs per core of the input source: a first layer split
        2-D takes a core's block each (None: one core sends them all)."""
        first = [core for core in self.core_layers
                 if not all(is_node(source) for source in core.inputs)]
        split = [core for core in first if core.n_blocks > 1]
        if not split:
            return None
        if len(first) > 1 or len(self.model_inputs) > 1:
            raise SpiDNNConfigurationError(
                f"{split[0].layer.name} splits the model's input in blocks "
                f"(inputs_per_core) but other layers take the model's "
                f"inputs too: give it inputs_per_core=None")
        return split[0].inputs_per_core

    def _add_gradients(self, core):
        """Training: the backward edges from the node's consumers to its
        vertex, in the order its cores sum their gradients."""
        vertex = self.vertex_of[core]
        if not vertex.training:
            return
        for consumer, k in core.uses:
            partition = backward_to(k)
            self._edge(self.vertex_of[consumer], vertex, partition)
            vertex.gradient_uses.append(
                (self.vertex_of[consumer], partition,
                 gradient_kind(consumer)))

    def _add_shared_chains(self):
        """Each shared layer's uses (spiDNN.compiler.sharing): their
        vertices know one another; training, the chain of their gradients
        runs from each use to the next, and the last use's totals go to
        every use and to the layers keeping copies of its rows."""
        for core in self.core_layers:
            if core.shared_uses is None or core is not core.shared_uses[0]:
                continue
            uses = [self.vertex_of[use] for use in core.shared_uses]
            for vertex in uses:
                vertex.shared_vertices = uses
            if not uses[0].training or uses[0].frozen:
                continue
            partition = uses[0].SHARED_PARTITION
            for vertex, after in zip(uses, uses[1:]):
                self._edge(vertex, after, partition)
            holders = [vertex for vertex in self.layer_vertices
                       if any(use in vertex.dense_uses() for use in uses)]
            for vertex in uses + holders:
                self._edge(uses[-1], vertex, partition)

    def _add_norms(self):
        """Training with Keras' clipnorm or global_clipnorm (clip_norm.h):
        every vertex that steps weights (its layer's, or its copies of a
        Dense consumer's rows) gathers the norms of what it steps from
        the cores owning them (each owning vertex once: a slot per norm,
        clipnorm's one per variable, global_clipnorm's one for all)."""
        trained = [vertex for vertex in self.layer_vertices
                   if vertex.training]
        if not trained or trained[0].norm_mode == "none":
            return
        whole = trained[0].norm_mode == "global"
        owners = {}          # each layer's (its owner's) owning vertices
        for vertex in trained:
            if vertex.owns_norms:
                owners.setdefault(id(vertex.layer.owner), []).append(vertex)
        for vertex in trained:
            consumers = [consumer for consumer in dict.fromkeys(
                vertex.dense_uses()) if consumer.steps_weights]
            if not (vertex.steps_weights or consumers):
                continue
            if whole:
                vertex.norm_sources = [(owner, 0, 0) for layer_owners in
                                       owners.values()
                                       for owner in layer_owners]
                vertex.norm_slots = 1
                vertex.norm_consumer_slots = {c: 0 for c in consumers}
            else:
                self._clipnorm_slots(vertex, consumers, owners)
            for owner, _, _ in vertex.norm_sources:
                self._edge(owner, vertex, NORM)

    @staticmethod
    def _clipnorm_slots(vertex, consumers, owners):
        """clipnorm: the vertex's own variables take slots 0 and 1, each
        Dense consumer's kernel the next (a consumer that is a use of
        the vertex's own layer, its kernel's slot 0)."""
        no_slot = layouts.NO_NORM_SLOT
        own = id(vertex.layer.owner)
        kernel_slots = {own: 0}
        sources = {}
        if vertex.steps_weights:
            for owner in owners.get(own, []):
                sources[owner] = (0, 1 if owner.norm_variables > 1
                                  else no_slot)
        slots = len(vertex.layer.weights)
        vertex.norm_consumer_slots = {}
        for consumer in consumers:
            layer = id(consumer.layer.owner)
            if layer not in kernel_slots:
                kernel_slots[layer] = slots
                slots += 1
            slot = kernel_slots[layer]
            vertex.norm_consumer_slots[consumer] = slot
            for owner in owners.get(layer, []):
                sources.setdefault(owner, (slot, no_slot))
        vertex.norm_slots = max(slots, 1)
        vertex.norm_sources = [(owner, *pair)
                               for owner, pair in sources.items()]

    def _add_layer(self, core, sources, training):
        """The layer's vertices, each input block's (one, 1-D), with
        their edges from ``sources`` (a vertex per source of the node);
        the last block's, which is the layer's."""
        # Layers before the first with weights only forward.
        training = training if core.needs_backward else None
        blocks = core.input_blocks()
        split = len(blocks) > 1
        vertices = []
        for index, (lo, hi) in enumerate(blocks):
            vertex = core.vertex_class(
                core, sources, training, (index, lo, hi) if split else None)
            self._add_app_vertex(vertex)
            for source in dict.fromkeys(sources):
                self._edge(source, vertex, FORWARD)
            if vertices:
                vertex.previous_block = vertices[-1]
                self._edge(vertices[-1], vertex, FORWARD)
            vertices.append(vertex)
        last = vertices[-1]
        last.block_vertices = vertices
        for vertex in vertices[:-1]:
            vertex.last_block = last
            if training:
                self._edge(last, vertex, BACKWARD)
                vertex.gradient_uses.append((last, BACKWARD, "direct"))
        for partition in last.self_partitions():
            self._edge(last, last, partition)
        self.layer_vertices += vertices
        return last

    def _source(self, label, n_keys, port, keys_per_core=None):
        """A reverse IP tag source of ``n_keys``, on a core per
        ``keys_per_core`` (None: one core)."""
        live = self.session.is_live
        vertex = ReverseIpTagMultiCastSource(
            n_keys=n_keys, label=label,
            max_atoms_per_core=keys_per_core or n_keys,
            receive_port=port if live else None,
            reserve_reverse_ip_tag=live)
        self.session.add_vertex(vertex)
        return vertex

    def _add_app_vertex(self, vertex):
        """An app's vertex, under the host's control."""
        self.session.add_vertex(vertex)
        vertex.control_vertex = self.control_vertex
        self._edge(self.control_vertex, vertex, CONTROL)

    def _edge(self, pre, post, partition):
        """An edge, once (a shared layer's chain may ask for one the
        graph has)."""
        if (pre, post, partition) in self._edges:
            return
        self._edges.add((pre, post, partition))
        self.session.add_edge(ApplicationEdge(pre, post), partition)

    def _gather(self, vertex, partitions):
        FecDataView.add_live_packet_gatherer_parameters(
            LivePacketGatherParameters(
                port=LIVE_OUTPUT_PORT, hostname="localhost",
                label=OUTPUT_LABEL,
                # Every value is float32 bits in the payload of its key.
                message_type=EIEIOType.KEY_PAYLOAD_32_BIT,
                use_payload_prefix=False, payload_as_time_stamps=False),
            vertex, partitions)

    def _add_losses(self, training):
        """Each output's labels source and loss core (the feeder streams
        the labels of a model of one output itself), then what the
        gatherer takes in training."""
        if self.feeder is not None and len(training.outputs) > 1:
            raise SpiDNNConfigurationError(
                "the feeder streams one output's labels and waits for one "
                "loss core: keep the data on the host for a model of "
                "several outputs")
        for output, vertex in zip(training.outputs, self.output_vertices):
            self._add_loss(training, output, vertex)
        self.labels_vertex = self.labels_vertices[0]
        self.loss_vertex = self.loss_vertices[0]
        for vertex in self.loss_vertices:
            self._gather(vertex, [LOSS])
        for vertex in self.vertices_with_weights():
            self._gather(vertex, [WEIGHTS])
        for vertex in self.regularised_vertices():
            self._gather(vertex, [PENALTY])

    def _add_loss(self, training, output, output_vertex):
        """The labels source and the loss core of ``output`` (an
        OutputLoss), computed by ``output_vertex``."""
        if self.feeder is not None:
            labels_vertex, labels_partition = self.feeder, LABELS
        else:
            labels_vertex, labels_partition = self._source(
                LABELS_LABEL if output.name is None
                else f"{LABELS_LABEL}_{output.name}", output.label_width,
                LIVE_LABELS_PORT), FORWARD
        loss_vertex = LossVertex(
            training, output, output_vertex, labels_vertex,
            labels_partition)
        self._add_app_vertex(loss_vertex)
        self._edge(output_vertex, loss_vertex, FORWARD)
        self._edge(labels_vertex, loss_vertex, labels_partition)
        if self.feeder is not None:
            # Each loss starts the next pass.
            self.feeder.loss_vertex = loss_vertex
            self._edge(loss_vertex, self.feeder, LOSS)
        # After the consumers' gradients (_add_gradients): the order
        # lowering's CoreLayer.gradients gives.
        self._edge(loss_vertex, output_vertex, BACKWARD)
        output_vertex.gradient_uses.append(
            (loss_vertex, BACKWARD, "direct"))
        self.labels_vertices.append(labels_vertex)
        self.loss_vertices.append(loss_vertex)

    def app_vertices(self):
        """Every vertex of the graph but the gatherer: sources, layers and
        the loss."""
        vertices = [self.input_vertex, self.host_control_vertex]
        vertices += self.layer_vertices
        vertices += self.labels_vertices + self.loss_vertices
        return list(dict.fromkeys(vertices))

    def regularised_vertices(self):
        """Training: the layer vertices with a weight regulariser."""
        return [vertex for vertex in self.layer_vertices
                if vertex.regularised]

    @property
    def regularised(self):
        """A regulariser adds a penalty to the training loss."""
        return bool(self.regularised_vertices())

    def vertices_with_weights(self):
        """The layer vertices that send weights back after training (a
        shared layer's first use's)."""
        return [vertex for vertex in self.layer_vertices
                if vertex.sends_weights]

    # ------------------------------------------------- after the mapping
    def input_keys(self):
        """Key of each input element, in order."""
        return _keys_of(self.input_vertex)

    def input_key_sources(self):
        """The input source's machine vertex sending each input element,
        in order (a core per input block of a first layer split 2-D)."""
        return _senders_of(self.input_vertex)

    def label_keys(self):
        """Key of each label value, in order: each output's, output
        after output (the labels' words side by side)."""
        return [key for vertex in self.labels_vertices
                for key in _keys_of(vertex)]

    def label_key_sources(self):
        """The labels source sending each label value, in order."""
        return [vertex for vertex in self.labels_vertices
                for _ in range(vertex.n_atoms)]

    def n_output_packets(self):
        """Forward packets the gatherer takes per predicted sample: each
        output layer's neurons (once for a layer computing two
        outputs)."""
        return sum(vertex.n_atoms
                   for vertex in dict.fromkeys(self.output_vertices))

    def decode_outputs(self, out_keys, out_payloads):
        """Each output's values (n_samples, its elements), in the model's
        order, from the gathered forward packets (each sample's in
        arrival order); each output neuron must send once."""
        out_keys = out_keys.astype(numpy.int64)
        values = out_payloads.view(numpy.float32)
        n_samples = len(out_keys)
        decoded = {}
        for vertex in dict.fromkeys(self.output_vertices):
            n_out = vertex.n_atoms
            index = _indices_of(key_space(vertex, FORWARD), n_out, out_keys)
            mine = index >= 0
            if numpy.any(mine.sum(axis=1) != n_out) or not numpy.array_equal(
                    numpy.sort(index[mine].reshape(n_samples, n_out), axis=1),
                    numpy.broadcast_to(numpy.arange(n_out),
                                       (n_samples, n_out))):
                raise SpiDNNMachineError(
                    f"the output layer {vertex.label} did not send each of "
                    f"its neurons once")
            outputs = numpy.empty((n_samples, n_out), dtype=numpy.float32)
            rows, columns = numpy.nonzero(mine)
            outputs[rows, index[rows, columns]] = values[rows, columns]
            decoded[vertex] = outputs
        return [decoded[vertex] for vertex in self.output_vertices]

    def loss_key(self):
        """The first loss core's loss key (the model's one, mostly)."""
        return self.result_keys()[0]

    def metric_keys(self):
        """The first loss core's metric keys, after its loss's."""
        return self.result_keys()[
            1:1 + len(self.training.outputs[0].quantities)]

    def result_keys(self):
        """The keys of what the loss cores send the host per sample, in
        the order TrainingRun.combine reads them: each loss core's loss,
        then each of its metrics (its loss key + 1 + the metric's id in
        layouts.METRICS)."""
        routing_infos = FecDataView.get_routing_infos()
        keys = []
        for vertex, output in zip(self.loss_vertices, self.training.outputs):
            loss_key = routing_infos.get_key_from(
                next(iter(vertex.machine_vertices)), LOSS)
            keys += [loss_key] + [loss_key + 1 + layouts.METRICS[kind]
                                  for kind in output.quantities]
        return keys

    def packets_lower_bound(self):
        """Packets per sample if every input and neuron sent once forward,
        and backward each layer sent what its contract needs (one delta
        per neuron; windowed layers also dL/dx), with the labels, the
        loss's gradients and the loss value."""
        forward = self.input_vertex.n_atoms + sum(
            layer.units for layer in self.layers)
        if not self.training:
            return forward
        return (forward + sum(output.label_width + output.n_outputs + 1
                              for output in self.training.outputs)
                + sum(vertex.backward_packets()
                      for vertex in self.layer_vertices))

    def deliveries_per_sample(self):
        """A bound on the packets the cores receive per sample: the
        layers' and, training, the loss cores'."""
        return sum(vertex.deliveries_per_sample()
                   for vertex in self.layer_vertices + self.loss_vertices)

    def n_weights(self):
        """Packets the cores send asked for their weights (the weights and
        each optimizer state array)."""
        return sum(vertex.n_sent_packets(machine_vertex)
                   for vertex in self.vertices_with_weights()
                   for machine_vertex in vertex.machine_vertices)

    def decode_weights(self, keys, payloads):
        """(weights, optimizer state) from the ``weights`` packets: the
        trained weights in Keras' order, and per state kind a list shaped
        the same ([] without state); every value must arrive exactly
        once."""
        routing_infos = FecDataView.get_routing_infos()
        blocks = sorted(
            (routing_infos.get_key_from(machine_vertex, WEIGHTS),
             id(machine_vertex), machine_vertex)
            for vertex in self.vertices_with_weights()
            for machine_vertex in vertex.machine_vertices)
        bases = numpy.array([b[0] for b in blocks], dtype=numpy.int64)
        keys = keys.astype(numpy.int64)
        which = numpy.searchsorted(bases, keys, side="right") - 1
        if numpy.any(which < 0):
            raise SpiDNNMachineError("a weights packet with an unknown key")
        values = payloads.view(numpy.float32)
        # Each core's packets, by one sort (not a pass over all of them
        # per core: a model of thousands of cores sends millions).
        order = numpy.argsort(which, kind="stable")
        bounds = numpy.searchsorted(which[order], numpy.arange(len(blocks) + 1))
        sent = {}
        for b, (base, _, machine_vertex) in enumerate(blocks):
            vertex = machine_vertex.app_vertex
            n = vertex.n_sent_packets(machine_vertex)
            mine = order[bounds[b]:bounds[b + 1]]
            offset = keys[mine] - base
            name = f"{vertex.layer.name} core {machine_vertex.core_index}"
            if numpy.any(offset >= max(n, 1)) or (n == 0 and len(mine)):
                raise SpiDNNMachineError(
                    f"{name}: a weights packet with an unknown key")
            seen = numpy.bincount(offset, minlength=n)
            if not numpy.all(seen == 1):
                raise SpiDNNMachineError(
                    f"{name}: {numpy.count_nonzero(seen == 0)} weights did "
                    f"not come back and {numpy.count_nonzero(seen > 1)} came "
                    f"back twice")
            if n:
                array = numpy.empty(n, dtype=numpy.float32)
                array[offset] = values[mine]
                sent[machine_vertex] = array
        n_states = self.training.optimizer.n_states if self.training else 0
        # Each core's block: its weights, then each state in their layout;
        # the layer's vertex (its last input block's) puts them together.
        of_layer = {}
        for vertex in self.vertices_with_weights():
            if vertex.last_block is not vertex:
                continue
            mine = {mv: v for mv, v in sent.items()
                    if mv.app_vertex.last_block is vertex}
            of_layer[vertex.layer.owner] = [
                vertex.weights_from_cores(
                    {mv: numpy.split(v, 1 + n_states)[k]
                     for mv, v in mine.items()})
                for k in range(1 + n_states)]
        # In the model's order: a shared layer's at its first use.
        weights, state = [], [[] for _ in range(n_states)]
        for layer in dict.fromkeys(layer.owner for layer in self.layers):
            for k, arrays in enumerate(of_layer.get(layer, ())):
                (weights if k == 0 else state[k - 1]).extend(arrays)
        return weights, state

    def n_penalty_packets(self):
        """Packets the cores send asked for their parts of the penalty."""
        return len(self._penalty_keys())

    def _penalty_keys(self):
        """The ``penalty`` packets' keys in the order the host adds them:
        the layers' (and a 2-D split's blocks') in the model's order, each
        one's parts in their order (a Dense's neurons'), whatever the
        slicing."""
        routing_infos = FecDataView.get_routing_infos()
        return [routing_infos.get_key_from(machine_vertex, PENALTY) + part
                for vertex in self.regularised_vertices()
                for machine_vertex in sorted(
                    vertex.machine_vertices,
                    key=lambda v: v.vertex_slice.lo_atom)
                for part in range(vertex.n_penalty_packets(machine_vertex))]

    def decode_penalty(self, keys, payloads):
        """The model's weight penalty from the ``penalty`` packets: the
        parts added in the fixed order of ``_penalty_keys`` (whatever
        order they arrive in, and the same on every slicing: a Dense's
        penalty is a part per neuron), in float64, as a float32; each
        must arrive once.  A Dense split 2-D sends each input block's
        parts of its rows, so its penalty rounds by its blocks."""
        expected = numpy.asarray(self._penalty_keys(), dtype=numpy.int64)
        keys = numpy.asarray(keys, dtype=numpy.int64)
        order = numpy.argsort(keys, kind="stable")
        if not numpy.array_equal(keys[order], numpy.sort(expected)):
            raise SpiDNNMachineError(
                f"{len(keys)} penalty packets reached the host, not the "
                f"{len(expected)} parts of the regularised layers' penalty")
        parts = numpy.asarray(payloads, dtype=numpy.uint32)[order].view(
            numpy.float32)
        # parts follow the sorted keys: put them in the adding order.
        in_order = parts[numpy.searchsorted(keys[order], expected)]
        return numpy.float32(numpy.sum(in_order, dtype=numpy.float64))

    def control_key(self, command):
        """The key the host sends a control command (``layouts.CONTROLS``)
        on."""
        return (key_space(self.host_control_vertex, CONTROL)["base"]
                + layouts.CONTROLS[command])


def _indices_of(space, n_atoms, keys):
    """The sender's index of each of ``keys`` (numpy, int64) in ``space``
    (of ``n_atoms``), -1 for a key outside it."""
    offset = keys - space["base"]
    low = offset & ((1 << space["atom_bits"]) - 1)
    index = index_of_keys(space, keys)
    inside = (offset >= 0) & (low < space["atoms_per_core"]) & (
        index < n_atoms)
    return numpy.where(inside, index, -1)


def _senders_of(source_vertex):
    return [machine_vertex
            for machine_vertex in sorted(source_vertex.machine_vertices,
                                         key=lambda v: v.vertex_slice.lo_atom)
            for _ in range(machine_vertex.vertex_slice.n_atoms)]


def _keys_of(source_vertex):
    """Each element's key, its core's keys numbering its elements."""
    space = key_space(source_vertex, FORWARD)
    per_core = space["atoms_per_core"]
    return [space["base"] + ((i // per_core) << space["atom_bits"])
            + i % per_core for i in range(space["n_atoms"])]
