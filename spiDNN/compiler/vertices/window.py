"""What the conv and pool vertices share: the WINDOW region (geometry,
the input elements whose gradients each core sends, the delta exchange).

A core computes whole output positions (every channel of each), so
``neurons_per_core`` is a multiple of the channels.  It keeps only its
receptive field, the band of input rows its windows read
(``WindowedLayer.input_span``), and only the source's cores holding them
send it their outputs.  In the backward pass each core sends dL/dx of a
range of the input elements (it owns them) to the cores holding them;
the layer's cores exchange their deltas sideways, each receiving only
those of the output rows whose windows read its elements
(``output_span``; window_core.h).

Where it can (holder_candidates: the layer has no more cores than its
source, each taking whole holders' slices) and the graph leaves the
keys (machine_graph.MAX_PARTITIONS), a core's range is a run of its
holders' (the source's cores') whole slices, and its dL/dx of its j-th
holder's elements go on partition ``backward#<j>``
(partitions.holder_partition) to that holder alone: each core receives
as many as it has neurons.  Else core c owns [c q, (c + 1) q), q =
ceil(inputs / cores), on one partition to every holder of any of them,
and a holder receives the whole ranges that cover its neurons
(keras.io's mnist_convnet: each of its second convolution's 121 cores
took 2,582 of its pooling's dL/dx for its 64; by holder, 64).
"""
import functools

import numpy

from spiDNN.abi import layouts
from spiDNN.compiler.vertices.app_machine_vertex import struct_words
from spiDNN.compiler.vertices.keys import (
    NO_KEY_SPACE, atom_bits_of, key_space, prefixed)
from spiDNN.compiler.vertices.layer_vertex import (
    LayerVertex, cores_holding, received_work)
from spiDNN.abi.partitions import (
    BACKWARD, EXCHANGE, FORWARD, holder_index, holder_partition)

#: Marks "no core" in the WINDOW region's core fields.
NO_CORE = 0xFFFFFFFF
#: The most holders a core sends dL/dx to by partitions of their own
#: (each is a key block, a route and a segment of the WINDOW region).
MAX_HOLDER_SEGMENTS = 64


class WindowVertex(LayerVertex):
    """A conv, pooling or padding layer; ``layer.geometry`` describes it."""

    SENDS_DELTAS = False
    ROUTES_GRADIENTS_TO_HOLDERS = True
    # The struct, then the segments (a count and their (first, key)s).
    EXTRA_REGION_BYTES = layouts.WINDOW_PARAMS.n_bytes + 4 * (
        1 + 2 * MAX_HOLDER_SEGMENTS)

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
        """Input elements whose gradient a core sends: the most any core
        owns."""
        return max(end - first for first, end in map(
            self.owned, range(self.core_layer.n_cores)))

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
    #: Set by the graph where the model's partitions leave keys for the
    #: holders' (holder_candidates).
    routes_by_holder = False

    def holder_slices(self):
        """[(first, end)] of the source cores' slices, each a holder of
        the elements whose dL/dx go to it alone (see above), or None."""
        return self.holder_candidates if self.routes_by_holder else None

    @functools.cached_property
    def holder_candidates(self):
        """holder_slices where the graph lets the layer route by holder:
        [(first, end)] of the source cores' slices, if the layer takes
        them all and has no more cores, each taking at most
        MAX_HOLDER_SEGMENTS and, in whole holders, at most twice the
        mean's elements; else None."""
        source = self.source_vertex
        source_plan = getattr(source, "core_layer", None)
        if (not self.sends_backward or source_plan is None
                or self.core_layer.shared_uses is not None
                or source.is_block_of_split or self.source_offsets[0]
                or source.layer.units != self.layer.n_inputs):
            return None
        per_core, units = source_plan.neurons_per_core, source.layer.units
        n_holders = -(-units // per_core)
        n_cores = self.core_layer.n_cores
        most = -(-n_holders // n_cores)
        if n_holders < n_cores or most > MAX_HOLDER_SEGMENTS or (
                most * per_core > 2 * -(-units // n_cores)):
            return None
        return [(h * per_core, min((h + 1) * per_core, units))
                for h in range(n_holders)]

    def holders_of(self, core_index):
        """The holders (indices into holder_candidates) whose elements
        core ``core_index`` owns: a run of them, the runs as even as
        whole holders allow."""
        n_holders = len(self.holder_candidates)
        n_cores = self.core_layer.n_cores
        return range(core_index * n_holders // n_cores,
                     (core_index + 1) * n_holders // n_cores)

    def owned(self, core_index):
        """(first, end) of the input elements whose dL/dx core
        ``core_index`` sends."""
        holders = self.holder_slices()
        if holders is not None:
            mine = self.holders_of(core_index)
            return holders[mine.start][0], holders[mine.stop - 1][1]
        q = -(-self.layer.n_inputs // self.core_layer.n_cores)
        first = min(core_index * q, self.layer.n_inputs)
        return first, min(first + q, self.layer.n_inputs)

    def holder_partitions(self):
        """The partitions on which the cores would send dL/dx by holder,
        after ``backward`` (holder_candidates), or []."""
        if self.holder_candidates is None:
            return []
        most = max(len(self.holders_of(c))
                   for c in range(self.core_layer.n_cores))
        return [holder_partition(j) for j in range(1, most)]

    def n_keys_of(self, machine_vertex, partition_id):
        j = holder_index(partition_id)
        if j is None or self.holder_slices() is None:
            return None
        mine = self.holders_of(machine_vertex.core_index)
        if j >= len(mine):
            return 1      # no j-th holder: a key unused
        first, end = self.holder_slices()[mine[j]]
        return end - first

    def segments(self, machine_vertex):
        """The WINDOW region's segments: [(first, key)], each from its
        first of the owned elements (counted from owned_first) on."""
        if not self.sends_backward:
            return []
        holders = self.holder_slices()
        if holders is None:
            return [(0, machine_vertex._key(BACKWARD))]
        owned_first, _ = self.owned(machine_vertex.core_index)
        return [(holders[h][0] - owned_first,
                 machine_vertex._key(holder_partition(j)))
                for j, h in enumerate(self.holders_of(
                    machine_vertex.core_index))]

    def holder_gradient_space(self, holder, partition_id):
        """Routed by holder, ``holder``'s segment's key space (GRADIENT's
        fields), else None."""
        holders = self.holder_slices()
        if holders is None:
            return None
        # The segment of the core owning the holder's elements.
        h = holder.vertex_slice.lo_atom // (holders[0][1] - holders[0][0])
        n = holders[h][1] - holders[h][0]
        for owner in self.machine_vertices:
            mine = self.holders_of(owner.core_index)
            if h in mine:
                info = _routing_info(owner, holder_partition(h - mine.start))
                return {"base": info.key,
                        "atom_bits": atom_bits_of(info.mask),
                        "atoms_per_core": n, "n_atoms": n, "first": 0}
        raise AssertionError(f"no core of {self.label} owns holder {h}")

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
        """The cores sending on ``partition_id`` dL/dx of any of input
        elements [lo, hi) (None: not a backward partition)."""
        j = holder_index(partition_id)
        if j is None:
            return None
        holders = self.holder_slices()
        if holders is None:
            return [v for v in self.machine_vertices
                    if self.owned(v.core_index)[0] < hi
                    and self.owned(v.core_index)[1] > lo]
        senders = []
        for v in self.machine_vertices:
            mine = self.holders_of(v.core_index)
            if j < len(mine) and holders[mine[j]][0] < hi and (
                    holders[mine[j]][1] > lo):
                senders.append(v)
        return senders

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
        segments = self.segments(machine_vertex)
        return [("WINDOW", numpy.concatenate([
            struct_words(layouts.WINDOW_PARAMS.pack(**fields)),
            numpy.array([len(segments)] + [word for segment in segments
                                           for word in segment],
                        dtype="<u4")]))]

    def self_partitions(self):
        return super().self_partitions() + (
            [EXCHANGE] if self.sends_backward else [])


def _routing_info(machine_vertex, partition_id):
    from spinn_front_end_common.data import FecDataView
    return FecDataView.get_routing_infos().get_info_from(
        machine_vertex, partition_id)
