"""The prelu app's vertices: Keras' PReLU.

Routed as a merge of one source (its cores take their own elements of the
source and send dL/dx of them back on ``backward_0``), with alphas as
weights: without shared axes each core holds its elements' alphas and
sends them back; with them every core holds every alpha, the batch's
gradients are summed along ``gradient_chain`` in core order (chain.h),
and the first core sends them back (prelu.c).
"""
import math

import numpy

from spiDNN.abi import layouts
from spiDNN.abi.partitions import GRADIENT_CHAIN, PENALTY, backward_to
from spiDNN.compiler.vertices.app_machine_vertex import struct_words
from spiDNN.compiler.vertices.keys import NO_KEY_SPACE, key_space, prefixed
from spiDNN.compiler.vertices.layer_vertex import (
    LayerMachineVertex, received_work)
from spiDNN.compiler.vertices.merge import MergeVertex
from spiDNN.compiler.vertices.window import NO_CORE


class PReLUMachineVertex(LayerMachineVertex):
    APP_NAME = "prelu"


def _held_alphas(layer, n_neurons):
    """Alphas a core of ``n_neurons`` holds: all, where they are shared,
    else its elements'."""
    return layer.n_alphas if layer.shares_alphas else n_neurons


class PReLUVertex(MergeVertex):
    """A PReLU layer: a slice of its elements per core."""

    MACHINE_VERTEX = PReLUMachineVertex
    EXTRA_REGION_BYTES = layouts.PRELU_PARAMS.n_bytes

    @classmethod
    def app_dtcm_floats(cls, core_layer, n_neurons, training, streamed=False,
                        inputs=None, partial=False):
        layer = core_layer.layer
        alphas = _held_alphas(layer, n_neurons)
        if not training:
            return alphas
        # The alphas, their gradients and optimizer state; shared, each
        # element's batch sum and the chain's running sums too.
        floats = alphas * (2 + training.optimizer.n_states)
        if layer.shares_alphas:
            floats += n_neurons + alphas
        return floats

    @classmethod
    def kernel_floats(cls, core_layer, n_neurons, inputs=None,
                      streamed=False):
        return _held_alphas(core_layer.layer, n_neurons)

    @classmethod
    def forward_work(cls, core_layer, n_neurons, inputs):
        return [("prelu_forward", 1, n_neurons)]

    @classmethod
    def backward_work(cls, core_layer, n_neurons, training, inputs,
                      sends_backward):
        work = [("prelu_backward", 1, n_neurons)]
        layer = core_layer.layer
        if layer.shares_alphas:
            per_batch = 1 / training.batch_size
            work += [("chain", per_batch, n_neurons)] + [
                (point, calls * per_batch, size) for point, calls, size
                in received_work(2 * layer.n_alphas)]
        return work

    # ------------------------------------------------------ the weights
    @property
    def _shared(self):
        return self.layer.shares_alphas

    def _alpha_slice(self, vertex_slice):
        """The alphas a core holds, of the flattened alpha array."""
        if self._shared:
            return slice(0, self.layer.n_alphas)
        return slice(vertex_slice.lo_atom, vertex_slice.hi_atom + 1)

    def weights_words(self, vertex_slice, arrays=None):
        (alpha,) = arrays or self.layer.weights
        held = numpy.ravel(alpha)[self._alpha_slice(vertex_slice)]
        return held.astype(numpy.float32).view(numpy.uint32)

    def _sends_alphas(self, machine_vertex):
        return not self._shared or machine_vertex.core_index == 0

    def n_weight_packets(self, machine_vertex):
        if not self._sends_alphas(machine_vertex):
            return 0
        held = self._alpha_slice(machine_vertex.vertex_slice)
        return held.stop - held.start

    def weights_from_cores(self, values):
        alpha = numpy.empty(self.layer.n_alphas, dtype=numpy.float32)
        for machine_vertex, sent in values.items():
            if self._sends_alphas(machine_vertex):
                alpha[self._alpha_slice(machine_vertex.vertex_slice)] = sent
        return [alpha.reshape(self.layer.alpha_shape)]

    def norm_owner_cores(self):
        # Shared alphas: every core holds their totals, the first sends
        # their squares; else each core its own alphas'.
        return [core for core in super().norm_owner_cores()
                if self._sends_alphas(core)]

    def n_penalty_packets(self, machine_vertex):
        """A part per alpha held; shared, the first core's one."""
        if not self.regularised:
            return 0
        if self._shared:
            return int(machine_vertex.core_index == 0)
        return machine_vertex.vertex_slice.n_atoms

    # ------------------------------------------------------- the chain
    def key_space_shape(self, partition_id):
        n_cores = self.core_layer.n_cores
        if partition_id == GRADIENT_CHAIN:
            return self.layer.n_alphas, self.layer.n_alphas * n_cores
        if partition_id == PENALTY and self._shared:
            return 1, n_cores
        return super().key_space_shape(partition_id)

    def extra_deliveries(self):
        # The batch-end chain, counted as if every sample ended a batch:
        # each core takes the previous core's sums and the totals.
        if not (self.training and self._shared):
            return super().extra_deliveries()
        cores = self.core_layer.n_cores
        return super().extra_deliveries() + (2 * cores - 1) * (
            self.layer.n_alphas)

    def sources_of(self, machine_vertex, source_vertex, partition_id):
        """On the chain, a core takes the sums of the core before it and
        the last's (the totals), not every core's."""
        if partition_id == GRADIENT_CHAIN and source_vertex is self:
            index = machine_vertex.core_index
            wanted = {index - 1, self.core_layer.n_cores - 1}
            return [core for core in self.machine_vertices
                    if core.core_index in wanted]
        return super().sources_of(machine_vertex, source_vertex,
                                  partition_id)

    def self_partitions(self):
        return super().self_partitions() + (
            [GRADIENT_CHAIN] if self.training and self._shared else [])

    # ------------------------------------------------------ the regions
    def extra_regions(self, machine_vertex):
        layer = self.layer
        shape = tuple(layer.input_shape) + (1,) * (
            layouts.PRELU_AXES - len(layer.input_shape))
        alpha_shape = tuple(layer.alpha_shape) + (1,) * (
            layouts.PRELU_AXES - len(layer.alpha_shape))
        fields = {}
        for i in range(layouts.PRELU_AXES):
            fields[f"size_{i}"] = shape[i]
            fields[f"stride_{i}"] = math.prod(shape[i + 1:])
            fields[f"alpha_stride_{i}"] = 0 if alpha_shape[i] == 1 else (
                math.prod(alpha_shape[i + 1:]))
        held = self._alpha_slice(machine_vertex.vertex_slice)
        sends = self.sends_to(0)
        chained = bool(self.training) and self._shared
        index = machine_vertex.core_index
        fields.update(
            n_alphas=held.stop - held.start, alpha_first=held.start,
            sends=int(sends),
            backward_key=machine_vertex._key(backward_to(0), sends),
            chained=int(chained),
            chain_key=machine_vertex._key(GRADIENT_CHAIN, chained),
            **prefixed("chain", key_space(self, GRADIENT_CHAIN)
                       if chained else NO_KEY_SPACE),
            chain_previous=index - 1 if index and chained else NO_CORE,
            chain_last=self.core_layer.n_cores - 1)
        return [("PRELU", struct_words(layouts.PRELU_PARAMS.pack(**fields)))]
