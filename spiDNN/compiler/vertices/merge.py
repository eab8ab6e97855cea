"""The merge app's vertices: a layer combining its sources element by
element, concatenating them, or scaling one (Rescaling, a standalone
activation).  No weights.

A core of output elements [lo, hi) (whole rows of ``layer.row``
elements) takes, of each source k, the same rows' elements: [lo / row *
row_k, hi / row * row_k).  Only the sources' cores holding those send it
its inputs, and, training, it sends source k dL/dx of them on
``backward_<k>``, keyed by their index in the source, to the source's
cores that hold them.
"""
import numpy

from spiDNN.abi import layouts
from spiDNN.abi.partitions import FORWARD, backward_to
from spiDNN.compiler.vertices.app_machine_vertex import struct_words
from spiDNN.compiler.vertices.layer_vertex import (
    LayerMachineVertex, LayerVertex, WithoutWeights, cores_holding)


class MergeMachineVertex(LayerMachineVertex):
    APP_NAME = "merge"


class MergeVertex(WithoutWeights, LayerVertex):
    """A merging, rescaling or activation layer."""

    MACHINE_VERTEX = MergeMachineVertex
    ROUTES_GRADIENTS_TO_HOLDERS = True
    EXTRA_REGION_BYTES = layouts.MERGE_PARAMS.n_bytes + (
        layouts.MAX_SOURCES * layouts.MERGE_INPUT.n_bytes)

    @classmethod
    def app_dtcm_floats(cls, core_layer, n_neurons, training, streamed=False,
                        inputs=None, partial=False):
        return 0

    @classmethod
    def forward_work(cls, core_layer, n_neurons, inputs):
        return [(f"merge_forward_{core_layer.layer.op}", 1,
                 n_neurons * _n_sources(core_layer.layer))]

    @classmethod
    def backward_work(cls, core_layer, n_neurons, training, inputs,
                      sends_backward):
        return [(f"merge_backward_{core_layer.layer.op}", 1,
                 n_neurons * _n_sources(core_layer.layer))]

    # ------------------------------------------------ the sources' slices
    @property
    def rows_per_core(self):
        return self.core_layer.neurons_per_core // self.layer.row

    def source_slices(self, vertex_slice):
        row = self.layer.row
        first_row = vertex_slice.lo_atom // row
        n_rows = -(-vertex_slice.n_atoms // row)
        return [(offset + first_row * k_row, n_rows * k_row)
                for offset, k_row in zip(self.source_offsets,
                                         self.layer.source_rows())]

    def key_space_shape(self, partition_id):
        """backward_<k>: the keys number source k's elements, so many per
        core as its rows hold."""
        for k, k_row in enumerate(self.layer.source_rows()):
            if partition_id == backward_to(k):
                return (self.rows_per_core * k_row,
                        _source_units(self.layer, k))
        return super().key_space_shape(partition_id)

    def sends_to(self, k):
        return bool(self.training) and self.core_layer.sends_backward_to(k)

    @property
    def sends_backward(self):
        return False      # it sends on backward_<k>, not layer_core's key

    def backward_packets(self):
        return sum(_source_units(self.layer, k)
                   for k in range(_n_sources(self.layer)) if self.sends_to(k))

    # ------------------------------------------------------- the routes
    def sources_of(self, machine_vertex, source_vertex, partition_id):
        """A core takes, of each source, the cores holding the elements
        of its rows."""
        if partition_id == FORWARD and source_vertex in self.source_vertices:
            slices = self.source_slices(machine_vertex.vertex_slice)
            cores = [core for k, (first, n) in enumerate(slices)
                     if self.source_vertices[k] is source_vertex
                     for core in cores_holding(source_vertex, first,
                                              first + n)]
            return list(dict.fromkeys(cores))
        return super().sources_of(machine_vertex, source_vertex,
                                  partition_id)

    def senders_to(self, partition_id, lo, hi):
        """The cores whose ``backward_<k>`` keys number source elements in
        [lo, hi) (None: not a partition of the kind)."""
        if partition_id not in map(backward_to,
                                   range(_n_sources(self.layer))):
            return None
        shape = self.key_space_shape(partition_id)
        per_core = shape[0]
        return [v for v in self.machine_vertices
                if v.core_index * per_core < hi
                and (v.core_index + 1) * per_core > lo]

    # ------------------------------------------------------ the regions
    def extra_regions(self, machine_vertex):
        layer = self.layer
        words = [struct_words(layouts.MERGE_PARAMS.pack(
            op=layouts.MERGE_OPS[layer.op],
            n_sources=_n_sources(layer),
            scale=layouts.float_bits(getattr(layer, "scale", 1.0)),
            offset=layouts.float_bits(getattr(layer, "offset", 0.0)),
            row=layer.row))]
        for k, k_row in enumerate(self.layer.source_rows()):
            sends = self.sends_to(k)
            words.append(struct_words(layouts.MERGE_INPUT.pack(
                sends=int(sends),
                backward_key=machine_vertex._key(backward_to(k), sends),
                row=k_row)))
        return [("MERGE", numpy.concatenate(words))]


def _n_sources(layer):
    return len(layer.input_shape) if layer.merges else 1


def _source_units(layer, k):
    shape = layer.input_shape[k] if layer.merges else layer.input_shape
    return int(numpy.prod(shape))
