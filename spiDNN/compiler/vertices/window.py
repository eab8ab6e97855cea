"""What the conv and pool vertices share: the WINDOW region (geometry,
the input elements whose gradients each core sends, the delta exchange).

A core computes whole output positions (every channel of each), so
``neurons_per_core`` is a multiple of the channels.  It keeps only its
receptive field, the band of input rows its windows read
(``WindowedLayer.input_span``), and only the source's cores holding them
send it their outputs.  In the backward pass core c sends dL/dx of the
input elements [c q, (c + 1) q), q = ceil(inputs / cores), to the cores
holding them; the layer's cores exchange their deltas sideways, each
receiving only those of the output rows whose windows read its
elements (``output_span``; window_core.h).
"""
from spiDNN.abi import layouts
from spiDNN.compiler.vertices.app_machine_vertex import struct_words
from spiDNN.compiler.vertices.keys import NO_KEY_SPACE, key_space, prefixed
from spiDNN.compiler.vertices.layer_vertex import (
    LayerVertex, cores_holding, received_work)
from spiDNN.abi.partitions import BACKWARD, EXCHANGE, FORWARD

#: Marks "no core" in the WINDOW region's core fields.
NO_CORE = 0xFFFFFFFF


class WindowVertex(LayerVertex):
    """A conv, pooling or padding layer; ``layer.geometry`` describes it."""

    SENDS_DELTAS = False
    ROUTES_GRADIENTS_TO_HOLDERS = True
    EXTRA_REGION_BYTES = layouts.WINDOW_PARAMS.n_bytes

    @classmethod
    def app_dtcm_floats(cls, core_layer, n_neurons, training, streamed=False,
                        inputs=None, partial=False):
        sends_backward = training and core_layer.sends_backward
        return (core_layer.layer.core_deltas(n_neurons) if sends_backward
                else 0)

    @classmethod
    def backward_work(cls, core_layer, n_neurons, training, inputs,
                      sends_backward):
        if not core_layer.sends_backward:
            return []
        layer = core_layer.layer
        n_cores = -(-layer.units // n_neurons)
        n_owned = -(-layer.n_inputs // n_cores)
        # The exchange of the deltas its owned inputs need, then their
        # dL/dx (each priced with its send by the app's point).
        return ([("send", 1, n_neurons)]
                + received_work(layer.core_deltas(n_neurons))
                + [("task", 1, 0)] + cls.input_gradient_work(
                    core_layer, n_owned))

    @classmethod
    def input_gradient_work(cls, core_layer, n_owned):
        """dL/dx of ``n_owned`` input elements: [(point, calls, size)]."""
        raise NotImplementedError

    @staticmethod
    def window_size(core_layer):
        geometry = core_layer.layer.geometry
        return geometry["kernel_height"] * geometry["kernel_width"]

    @property
    def n_owned(self):
        """q: input elements whose gradient each core sends."""
        return -(-self.layer.n_inputs // self.core_layer.n_cores)

    def backward_packets(self):
        if not self.sends_backward:
            return 0
        return self.layer.units + self.layer.n_inputs

    def extra_deliveries(self):
        """The exchange: each core receives the whole slices of the cores
        holding the deltas it gathers."""
        if not self.sends_backward:
            return 0
        if not self.machine_vertices:
            return sum(self.delta_span(c)[1]
                       for c in range(self.core_layer.n_cores))
        return sum(core.vertex_slice.n_atoms
                   for machine_vertex in self.machine_vertices
                   for core in self.sources_of(machine_vertex, self,
                                               EXCHANGE))

    def key_space_shape(self, partition_id):
        if partition_id == BACKWARD:
            return self.n_owned, self.layer.n_inputs
        return super().key_space_shape(partition_id)

    # ------------------------------------------------ receptive fields
    def owned(self, core_index):
        """(first, end) of the input elements whose dL/dx core
        ``core_index`` sends."""
        first = min(core_index * self.n_owned, self.layer.n_inputs)
        return first, min(first + self.n_owned, self.layer.n_inputs)

    def delta_span(self, core_index):
        """(first, n) of the layer's deltas that core ``core_index``
        gathers for its owned inputs' dL/dx."""
        return self.layer.output_span(*self.owned(core_index))

    def stored_span(self, vertex_slice):
        """(first, n) of the input elements a core of ``vertex_slice``
        keeps."""
        core_index = vertex_slice.lo_atom // self.core_layer.neurons_per_core
        return self.layer.stored_span(
            vertex_slice.lo_atom, vertex_slice.hi_atom + 1,
            self.owned(core_index) if self.sends_backward else None)

    def source_slices(self, vertex_slice):
        first, n = self.stored_span(vertex_slice)
        return [(self.source_offsets[0] + first, n)]

    def sources_of(self, machine_vertex, source_vertex, partition_id):
        """Forward, the source's cores holding the core's receptive
        field; in the exchange, the layer's cores holding the deltas it
        gathers."""
        if partition_id == FORWARD and source_vertex is self.source_vertex:
            first, n = self.source_slices(machine_vertex.vertex_slice)[0]
            return cores_holding(source_vertex, first, first + n)
        if partition_id == EXCHANGE and source_vertex is self:
            first, n = self.delta_span(machine_vertex.core_index)
            return cores_holding(self, first, first + n)
        return super().sources_of(machine_vertex, source_vertex,
                                  partition_id)

    def input_deliveries(self, inputs):
        """Every packet of the source's cores holding a core's receptive
        field reaches it (a source core's keys are routed as one), so a
        core of a band receives its holders' whole slices."""
        if not self.machine_vertices:
            return super().input_deliveries(inputs)
        source = self.source_vertex
        return sum(
            core.get_n_keys_for_partition(FORWARD)
            for machine_vertex in self.machine_vertices
            for core in self.sources_of(machine_vertex, source, FORWARD))

    def senders_to(self, partition_id, lo, hi):
        """The cores sending dL/dx of any of input elements [lo, hi)
        (None: not the backward partition)."""
        if partition_id != BACKWARD:
            return None
        return [v for v in self.machine_vertices
                if self.owned(v.core_index)[0] < hi
                and self.owned(v.core_index)[1] > lo]

    def window_fields(self, machine_vertex):
        """The WINDOW struct's fields that are not the geometry's."""
        owned_first, owned_end = self.owned(machine_vertex.core_index)
        exchange = self.sends_backward
        delta_first, n_deltas = (self.delta_span(machine_vertex.core_index)
                                 if exchange else (0, 0))
        return {
            "pool_mode": 0,
            "filter_first": 0, "n_filters": 0,
            "input_first": self.stored_span(machine_vertex.vertex_slice)[0],
            "owned_first": owned_first,
            "n_owned": owned_end - owned_first if exchange else 0,
            "delta_first": delta_first, "n_deltas": n_deltas,
            "exchange_key": machine_vertex._key(EXCHANGE, exchange),
            **prefixed("exchange", key_space(self, EXCHANGE)
                       if exchange else NO_KEY_SPACE),
            "chain_key": 0, **prefixed("chain", NO_KEY_SPACE),
            "chain_previous": NO_CORE, **prefixed("total", NO_KEY_SPACE),
            "chain_last": NO_CORE}

    def extra_regions(self, machine_vertex):
        fields = {**self.layer.geometry, **self.window_fields(machine_vertex)}
        return [("WINDOW", struct_words(layouts.WINDOW_PARAMS.pack(**fields)))]

    def self_partitions(self):
        return super().self_partitions() + (
            [EXCHANGE] if self.sends_backward else [])

