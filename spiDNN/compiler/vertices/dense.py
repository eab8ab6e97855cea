"""The dense app's vertices: a layer, and a slice of its neurons per core.

It runs Dense layers and convolutions whose window covers their whole
input (``layer.kernel`` is then the reshaped conv kernel).

Weights on a core: its neurons' kernel rows (one per neuron) then their
biases; sent back after training as neuron j's row then its bias, at
``weights key + j * (n_inputs + 1) + i``.  In a 2-D split a row is the
part of the core's input block.  A core without biases (a 2-D split's
partial core, or any core of a layer with use_bias=False) has the rows
alone, sent at ``weights key + j * n_inputs + i``.

A layer applied more than once (spiDNN.compiler.sharing) has a vertex per
use, sliced alike; at each batch end core j of each use adds its
gradients (its neurons' kernel rows, one after the other, then their
biases) to the running sums of core j of the uses before it
(``shared_chain``), and the last use's sums, the totals, go to every use's
core j and to the layers before the uses, which keep copies of the rows
(dense.c, dense_shared.h, layer_core.h).  The first use's cores send the
weights.
"""
import numpy

from spiDNN.errors import SpiDNNMachineError
from spiDNN.abi import layouts
from spiDNN.abi.partitions import SHARED_CHAIN
from spiDNN.compiler.vertices.app_machine_vertex import struct_words
from spiDNN.compiler.vertices.keys import NO_KEY_SPACE, key_space, prefixed
from spiDNN.compiler.vertices.layer_vertex import (
    LayerMachineVertex, LayerVertex, received_work)


class DenseMachineVertex(LayerMachineVertex):
    APP_NAME = "dense"


class DenseVertex(LayerVertex):
    """A Dense layer: ``neurons_per_core`` neurons on each core."""

    MACHINE_VERTEX = DenseMachineVertex
    SENDS_DELTAS = True
    CAN_STREAM = True
    SHARED_PARTITION = SHARED_CHAIN
    EXTRA_REGION_BYTES = layouts.SHARED_PARAMS.n_bytes

    @classmethod
    def app_dtcm_floats(cls, core_layer, n_neurons, training, streamed=False,
                        inputs=None, partial=False):
        layer = core_layer.layer
        inputs = layer.n_inputs if inputs is None else inputs
        n_states = training.optimizer.n_states if training else 0
        biases = n_neurons if _has_bias(layer, partial) else 0
        if streamed:
            # The biases (with their gradients and state) and the
            # stream's double buffers (dense_stream.h): kernel and input
            # blocks, and, training, gradient and state blocks.
            floats = biases * ((2 + n_states) if training else 1)
            floats += 2 * layouts.STREAM_BLOCK * (
                2 + ((1 + n_states) if training else 0))
        else:
            floats = n_neurons * inputs + biases     # kernel rows, biases
            if training:     # their gradients and the optimizer's state
                floats *= 2 + n_states
        if layer.activation == "softmax" and not partial:
            floats += 3 * layer.units    # the layer's z, p and dL/dp
        if training and core_layer.shared_uses is not None:
            # The previous use's running sums (dense_shared.h).
            floats += n_neurons * inputs + biases
        return floats

    @staticmethod
    def shared_values(core_layer):
        """The values a shared layer's cores send along their chain, all
        its cores together: the kernel and biases."""
        layer = core_layer.layer
        return layer.units * (layer.n_inputs + int(layer.use_bias))

    @classmethod
    def kernel_floats(cls, core_layer, n_neurons, inputs=None,
                      streamed=False):
        """Its kernel rows and biases (in SDRAM, streamed)."""
        if streamed:
            return 0
        layer = core_layer.layer
        inputs = layer.n_inputs if inputs is None else inputs
        return n_neurons * inputs + (n_neurons if layer.use_bias else 0)

    @classmethod
    def forward_work(cls, core_layer, n_neurons, inputs):
        return [("forward", 1, n_neurons * inputs)]

    @classmethod
    def backward_work(cls, core_layer, n_neurons, training, inputs,
                      sends_backward):
        work = [("accumulate", 1, n_neurons * inputs)]
        if sends_backward:
            work.append(("send", 1, n_neurons))
        if core_layer.shared_uses is not None:
            # The batch's chain over the uses: its link, the previous
            # use's sums in and the totals back.
            values = n_neurons * (inputs + int(core_layer.layer.use_bias))
            per_batch = 1 / training.batch_size
            work += [("chain", per_batch, values)] + [
                (point, calls * per_batch, size)
                for point, calls, size in received_work(2 * values)]
        return work

    def backward_packets(self):
        return self.layer.units if self.sends_backward else 0

    # ---------------------------------------------------- shared layers
    def n_shared_values(self):
        return self.shared_values(self.core_layer)

    @property
    def _use(self):
        """Its place among the shared layer's uses, 0 first."""
        return self.shared_vertices.index(self)

    def extra_deliveries(self):
        """A shared layer's chain: each core receives the previous use's
        sums of its slice (but the first use's) and the totals, counted
        as if every sample ended a batch."""
        if not (self.is_shared and self.training):
            return 0
        return self.n_shared_values() * (2 if self._use else 1)

    def key_space_shape(self, partition_id):
        if partition_id == SHARED_CHAIN:
            per_neuron = self.layer.n_inputs + int(self.layer.use_bias)
            return (self.core_layer.neurons_per_core * per_neuron,
                    self.layer.units * per_neuron)
        return super().key_space_shape(partition_id)

    def sources_of(self, machine_vertex, source_vertex, partition_id):
        """On the chain, a use's core takes the sums of its own slice from
        the other uses, unless it keeps a copy of their rows (the use
        takes a use's output: it takes every core's totals)."""
        if (partition_id == SHARED_CHAIN and source_vertex in
                self.shared_vertices and source_vertex not in
                self.dense_uses()):
            same = machine_vertex.vertex_slice.lo_atom
            return [v for v in source_vertex.machine_vertices
                    if v.vertex_slice.lo_atom == same]
        return super().sources_of(machine_vertex, source_vertex,
                                  partition_id)

    def shared_fields(self, machine_vertex):
        """The SHARED region's fields (zeros: not shared)."""
        if not (self.is_shared and self.training):
            return {"chain_key": 0, **prefixed("previous", NO_KEY_SPACE),
                    **prefixed("total", NO_KEY_SPACE), "slice": 0}
        uses = self.shared_vertices
        return {
            "chain_key": machine_vertex._key(SHARED_CHAIN),
            **prefixed("previous", key_space(uses[self._use - 1],
                                             SHARED_CHAIN)
                       if self._use else NO_KEY_SPACE),
            **prefixed("total", key_space(uses[-1], SHARED_CHAIN)),
            "slice": machine_vertex.core_index}

    def extra_regions(self, machine_vertex):
        if not self.training:
            return []
        return [("SHARED", struct_words(layouts.SHARED_PARAMS.pack(
            **self.shared_fields(machine_vertex))))]

    def _rows(self, vertex_slice):
        return slice(vertex_slice.lo_atom, vertex_slice.hi_atom + 1)

    @property
    def _inputs(self):
        return slice(self.block_first, self.block_first + self.block_inputs)

    @property
    def has_bias(self):
        """The cores add the biases (dense.c's has_bias)."""
        return _has_bias(self.layer, self.is_partial)

    @property
    def _row_words(self):
        """Words per neuron: its row of the block, and its bias."""
        return self.block_inputs + (1 if self.has_bias else 0)

    def weights_words(self, vertex_slice, arrays=None):
        """(``arrays``: shaped as the layer's weights, such as a state's.)"""
        kernel, *bias = arrays or self.layer.weights
        neurons = self._rows(vertex_slice)
        kernel = numpy.reshape(kernel, (-1, self.layer.units))
        parts = [kernel[self._inputs, neurons].T.ravel()]
        if self.has_bias:
            parts.append(bias[0][neurons])
        data = numpy.concatenate(parts).astype(numpy.float32)
        return data.view(numpy.uint32)

    def n_weight_packets(self, machine_vertex):
        if not self.sends_weights:
            return 0
        return machine_vertex.vertex_slice.n_atoms * self._row_words

    def weights_from_cores(self, values):
        """(The last block's vertex assembles the blocks' values.)"""
        n_in = self.layer.n_inputs
        rows = numpy.empty((self.layer.units, n_in + 1), dtype=numpy.float32)
        for machine_vertex, sent in values.items():
            vertex_slice = machine_vertex.vertex_slice
            block = machine_vertex.app_vertex
            sent = sent.reshape(vertex_slice.n_atoms, block._row_words)
            rows[self._rows(vertex_slice), block._inputs] = (
                sent[:, :block.block_inputs])
            if block.has_bias:
                rows[self._rows(vertex_slice), n_in] = sent[:, -1]
        if len(values) != sum(len(block.machine_vertices)
                              for block in self.block_vertices):
            raise SpiDNNMachineError(
                f"{self.layer.name}: not every core sent its weights")
        # Keras' shape: (inputs, units), or a fully connected conv's kernel.
        kernel_shape = self.layer.weights[0].shape
        kernel = numpy.ascontiguousarray(rows[:, :n_in].T).reshape(
            kernel_shape)
        return [kernel] + ([rows[:, n_in].copy()] if self.layer.use_bias
                           else [])


def _has_bias(layer, partial):
    """A core of ``layer`` adds biases: the layer has them, and the core
    is not a 2-D split's partial one (whose sums go on unfinished)."""
    return layer.use_bias and not partial
