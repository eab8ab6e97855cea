"""A model as an application graph: input source, layers, output gatherer.

Partitions: ``forward`` from each layer (and the input) to the next,
``softmax`` from a softmax layer to itself; the last layer's ``forward``
goes to the live packet gatherer at the machine's edge.
"""
from pacman.model.graphs.application import ApplicationEdge
from spinn_front_end_common.data import FecDataView
from spinn_front_end_common.utilities.utility_objs import (
    LivePacketGatherParameters)
from spinnman.messages.eieio import EIEIOType
from spinn_front_end_common.utility_models import (
    ReverseIpTagMultiCastSource)

from spiDNN.vertices.dense import DenseVertex, FORWARD, SOFTMAX
from spiDNN.vertices.keys import key_space

INPUT_LABEL = "input"
OUTPUT_LABEL = "output"
#: Where a board's live packet gatherer sends outputs (unused virtually).
LIVE_OUTPUT_PORT = 17895
LIVE_INPUT_PORT = 12345


class ModelGraph:
    """The vertices of one model added to the current toolchain session."""

    def __init__(self, model, session):
        self.input_vertex = ReverseIpTagMultiCastSource(
            n_keys=model.n_inputs, label=INPUT_LABEL,
            receive_port=None if session.is_virtual else LIVE_INPUT_PORT,
            reserve_reverse_ip_tag=not session.is_virtual)
        session.add_vertex(self.input_vertex)
        self.layers = model.layers
        self.layer_vertices = []
        source = self.input_vertex
        for layer in model.layers:
            vertex = DenseVertex(layer, source)
            session.add_vertex(vertex)
            session.add_edge(ApplicationEdge(source, vertex), FORWARD)
            if layer.activation == "softmax":
                session.add_edge(ApplicationEdge(vertex, vertex), SOFTMAX)
            self.layer_vertices.append(vertex)
            source = vertex
        self.output_vertex = source
        FecDataView.add_live_packet_gatherer_parameters(
            LivePacketGatherParameters(
                port=LIVE_OUTPUT_PORT, hostname="localhost",
                label=OUTPUT_LABEL,
                # Outputs are float32 bits in the payload of each key.
                message_type=EIEIOType.KEY_PAYLOAD_32_BIT,
                use_payload_prefix=False, payload_as_time_stamps=False),
            self.output_vertex, [FORWARD])

    def input_keys(self):
        """Key of each input element, in order."""
        space = key_space(self.input_vertex, FORWARD)
        return [space["base"] + i for i in range(space["n_atoms"])]

    def output_space(self):
        return key_space(self.output_vertex, FORWARD)

