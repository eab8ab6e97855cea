"""The dense app's vertices: a layer, and a slice of its neurons per core.

It runs Dense layers and convolutions whose window covers their whole
input (``layer.kernel`` is then the reshaped conv kernel).

Weights on a core: its neurons' kernel rows (one per neuron) then their
biases; sent back after training as neuron j's row then its bias, at
``weights key + j * (n_inputs + 1) + i``.  In a 2-D split a row is the
part of the core's input block.  A core without biases (a 2-D split's
partial core, or any core of a layer with use_bias=False) has the rows
alone, sent at ``weights key + j * n_inputs + i``.
"""
import numpy

from spiDNN.errors import SpiDNNMachineError
from spiDNN.abi import layouts
from spiDNN.compiler.vertices.layer_vertex import LayerMachineVertex, LayerVertex


class DenseMachineVertex(LayerMachineVertex):
    APP_NAME = "dense"


class DenseVertex(LayerVertex):
    """A Dense layer: ``neurons_per_core`` neurons on each core."""

    MACHINE_VERTEX = DenseMachineVertex
    SENDS_DELTAS = True
    CAN_STREAM = True

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
        return floats

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
        return work

    def backward_packets(self):
        return self.layer.units if self.sends_backward else 0

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
