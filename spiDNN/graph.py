"""A model as an application graph: sources, layers, loss and gatherer.

Predicting: the input source feeds the first layer, each layer the next
(``forward``; ``softmax`` self-edges on softmax layers), and the output
layer's ``forward`` goes to the live packet gatherer at the machine's edge.

Training adds a second source streaming the labels and the loss vertex;
the output layer's ``forward`` goes to the loss, ``backward`` runs from the
loss down to the first layer, softmax layers add ``softmax_backward``
self-edges, and the gatherer receives each sample's ``loss`` and, at the
end, every core's ``weights``.
"""
import numpy
from pacman.model.graphs.application import ApplicationEdge
from spinn_front_end_common.data import FecDataView
from spinn_front_end_common.utilities.utility_objs import (
    LivePacketGatherParameters)
from spinnman.messages.eieio import EIEIOType
from spinn_front_end_common.utility_models import (
    ReverseIpTagMultiCastSource)

from spiDNN.errors import SpiDNNMachineError
from spiDNN.vertices.dense import DenseVertex
from spiDNN.vertices.keys import index_of_keys, key_space
from spiDNN.vertices.loss import LossVertex
from spiDNN.vertices.partitions import (
    BACKWARD, FORWARD, LOSS, SOFTMAX, SOFTMAX_BACKWARD, WEIGHTS)

INPUT_LABEL = "input"
LABELS_LABEL = "labels"
OUTPUT_LABEL = "output"
#: Where a board's live packet gatherer sends outputs (unused virtually).
LIVE_OUTPUT_PORT = 17895
LIVE_INPUT_PORT = 12345
LIVE_LABELS_PORT = 12346


class ModelGraph:
    """The vertices of one model added to the current toolchain session.

    :param training: a :py:class:`~spiDNN.training.TrainingRun` to build
        the training graph, or None for forward passes only
    """

    def __init__(self, model, session, training=None):
        self.session = session
        self.training = training
        self.layers = model.layers
        self.input_vertex = self._source(
            INPUT_LABEL, model.n_inputs, LIVE_INPUT_PORT)
        self.layer_vertices = []
        source = self.input_vertex
        for index, layer in enumerate(model.layers):
            next_layer = (model.layers[index + 1]
                          if index + 1 < len(model.layers) else None)
            vertex = DenseVertex(layer, source, training, next_layer,
                                 is_first=index == 0)
            session.add_vertex(vertex)
            self._edge(source, vertex, FORWARD)
            if vertex.exchanges_softmax:
                self._edge(vertex, vertex, SOFTMAX)
                if training:
                    self._edge(vertex, vertex, SOFTMAX_BACKWARD)
            if training and self.layer_vertices:
                self._edge(vertex, self.layer_vertices[-1], BACKWARD)
                self.layer_vertices[-1].next_vertex = vertex
            self.layer_vertices.append(vertex)
            source = vertex
        self.output_vertex = source
        if training:
            self._add_loss(training)
        else:
            self._gather(self.output_vertex, [FORWARD])

    def _source(self, label, n_keys, port):
        virtual = self.session.is_virtual
        vertex = ReverseIpTagMultiCastSource(
            n_keys=n_keys, label=label,
            receive_port=None if virtual else port,
            reserve_reverse_ip_tag=not virtual)
        self.session.add_vertex(vertex)
        return vertex

    def _edge(self, pre, post, partition):
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

    def _add_loss(self, training):
        self.labels_vertex = self._source(
            LABELS_LABEL, training.label_width, LIVE_LABELS_PORT)
        self.loss_vertex = LossVertex(
            training, self.output_vertex, self.labels_vertex)
        self.session.add_vertex(self.loss_vertex)
        self._edge(self.output_vertex, self.loss_vertex, FORWARD)
        self._edge(self.labels_vertex, self.loss_vertex, FORWARD)
        self._edge(self.loss_vertex, self.output_vertex, BACKWARD)
        self.output_vertex.next_vertex = self.loss_vertex
        self._gather(self.loss_vertex, [LOSS])
        for vertex in self.layer_vertices:
            self._gather(vertex, [WEIGHTS])

    # ------------------------------------------------- after the mapping
    def input_keys(self):
        """Key of each input element, in order."""
        return _keys_of(self.input_vertex)

    def label_keys(self):
        """Key of each label value, in order."""
        return _keys_of(self.labels_vertex)

    def decode_outputs(self, out_keys, out_payloads):
        """Outputs (n_samples, n_out) from the gathered forward packets,
        each sample's in arrival order; each neuron must send once."""
        space = key_space(self.output_vertex, FORWARD)
        n_samples, n_out = out_keys.shape
        index = index_of_keys(space, out_keys.astype(numpy.int64))
        if not numpy.array_equal(
                numpy.sort(index, axis=1),
                numpy.broadcast_to(numpy.arange(n_out), index.shape)):
            raise SpiDNNMachineError(
                "the output layer did not send each of its neurons once")
        outputs = numpy.empty((n_samples, n_out), dtype=numpy.float32)
        outputs[numpy.arange(n_samples)[:, None], index] = (
            out_payloads.view(numpy.float32))
        return outputs

    def loss_key(self):
        machine_vertex = next(iter(self.loss_vertex.machine_vertices))
        return FecDataView.get_routing_infos().get_key_from(
            machine_vertex, LOSS)

    def packets_lower_bound(self):
        """Packets per sample if every input, label and neuron sent once
        per direction: forward, the loss's deltas, backward and the loss
        value."""
        units = [layer.units for layer in self.layers]
        forward = self.layers[0].n_inputs + sum(units)
        if not self.training:
            return forward
        return (forward + self.training.label_width + units[-1]
                + sum(units[1:]) + 1)

    def n_weights(self):
        return sum(layer.units * (layer.n_inputs + 1) for layer in self.layers)

    def decode_weights(self, keys, payloads):
        """The trained [kernel, bias, ...] from the ``weights`` packets.

        Every weight must arrive exactly once.
        """
        routing_infos = FecDataView.get_routing_infos()
        blocks = []       # (first key, layer index, first neuron, neurons)
        for index, vertex in enumerate(self.layer_vertices):
            for machine_vertex in vertex.machine_vertices:
                blocks.append((
                    routing_infos.get_key_from(machine_vertex, WEIGHTS),
                    index, machine_vertex.vertex_slice.lo_atom,
                    machine_vertex.vertex_slice.n_atoms))
        blocks.sort()
        bases = numpy.array([b[0] for b in blocks], dtype=numpy.int64)
        keys = keys.astype(numpy.int64)
        which = numpy.searchsorted(bases, keys, side="right") - 1
        values = payloads.view(numpy.float32)
        weights = []
        for index, layer in enumerate(self.layers):
            n_in = layer.n_inputs
            rows = numpy.full((layer.units, n_in + 1), numpy.nan,
                              dtype=numpy.float32)
            seen = numpy.zeros(rows.shape, dtype=numpy.int64)
            for b, (base, layer_index, lo, n) in enumerate(blocks):
                if layer_index != index:
                    continue
                mine = which == b
                offset = keys[mine] - base
                if numpy.any(offset >= n * (n_in + 1)):
                    raise SpiDNNMachineError(
                        f"{layer.name}: a weights packet with an unknown key")
                neuron, i = lo + offset // (n_in + 1), offset % (n_in + 1)
                rows[neuron, i] = values[mine]
                numpy.add.at(seen, (neuron, i), 1)
            if not numpy.all(seen == 1):
                raise SpiDNNMachineError(
                    f"{layer.name}: {numpy.count_nonzero(seen == 0)} weights "
                    f"did not come back and "
                    f"{numpy.count_nonzero(seen > 1)} came back twice")
            weights += [numpy.ascontiguousarray(rows[:, :n_in].T),
                        rows[:, n_in].copy()]
        return weights


def _keys_of(source_vertex):
    space = key_space(source_vertex, FORWARD)
    return [space["base"] + i for i in range(space["n_atoms"])]
