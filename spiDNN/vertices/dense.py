"""The dense app's vertices: a layer, and a slice of its neurons per core.

It runs Dense layers and convolutions whose window covers their whole
input (``layer.kernel`` is then the reshaped conv kernel).

Weights on a core: its neurons' kernel rows (one per neuron) then their
biases; sent back after training as neuron j's row then its bias, at
``weights key + j * (n_inputs + 1) + i``.
"""
import numpy

from spiDNN.errors import SpiDNNMachineError
from spiDNN.vertices import layouts
from spiDNN.vertices.layer_vertex import LayerMachineVertex, LayerVertex


class DenseMachineVertex(LayerMachineVertex):
    APP_NAME = "dense"


class DenseVertex(LayerVertex):
    """A Dense layer: ``neurons_per_core`` neurons on each core."""

    MACHINE_VERTEX = DenseMachineVertex
    SENDS_DELTAS = True
    CAN_STREAM = True

    @classmethod
    def app_dtcm_floats(cls, core_layer, n_neurons, training, streamed=False):
        layer = core_layer.layer
        n_states = training.optimizer.n_states if training else 0
        if streamed:
            # The biases (with their gradients and state) and the
            # stream's double buffers (dense_stream.h): kernel and input
            # blocks, and, training, gradient and state blocks.
            floats = n_neurons * ((2 + n_states) if training else 1)
            floats += 2 * layouts.STREAM_BLOCK * (
                2 + ((1 + n_states) if training else 0))
        else:
            floats = n_neurons * (layer.n_inputs + 1)    # kernel rows, bias
            if training:     # their gradients and the optimizer's state
                floats *= 2 + n_states
        if layer.activation == "softmax":
            floats += 3 * layer.units    # the layer's z, p and dL/dp
        return floats

    @classmethod
    def forward_work(cls, core_layer, n_neurons):
        return [("forward", 1, n_neurons * core_layer.layer.n_inputs)]

    @classmethod
    def backward_work(cls, core_layer, n_neurons, training):
        work = [("accumulate", 1, n_neurons * core_layer.layer.n_inputs)]
        if core_layer.sends_backward:
            work.append(("send", 1, n_neurons))
        return work

    def backward_packets(self):
        return self.layer.units if self.sends_backward else 0

    def _rows(self, vertex_slice):
        return slice(vertex_slice.lo_atom, vertex_slice.hi_atom + 1)

    def weights_words(self, vertex_slice, arrays=None):
        kernel, bias = arrays or (self.layer.kernel, self.layer.bias)
        neurons = self._rows(vertex_slice)
        kernel = numpy.reshape(kernel, (-1, self.layer.units))
        data = numpy.concatenate(
            [kernel[:, neurons].T.ravel(),
             bias[neurons]]).astype(numpy.float32)
        return data.view(numpy.uint32)

    def n_weight_packets(self, machine_vertex):
        return machine_vertex.vertex_slice.n_atoms * (self.layer.n_inputs + 1)

    def weights_from_cores(self, values):
        n_in = self.layer.n_inputs
        rows = numpy.empty((self.layer.units, n_in + 1), dtype=numpy.float32)
        for machine_vertex, sent in values.items():
            vertex_slice = machine_vertex.vertex_slice
            rows[self._rows(vertex_slice)] = sent.reshape(
                vertex_slice.n_atoms, n_in + 1)
        if len(values) != len(self.machine_vertices):
            raise SpiDNNMachineError(
                f"{self.layer.name}: not every core sent its weights")
        # Keras' shape: (inputs, units), or a fully connected conv's kernel.
        kernel_shape = self.layer.weights[0].shape
        return [numpy.ascontiguousarray(rows[:, :n_in].T).reshape(
                    kernel_shape), rows[:, n_in].copy()]
