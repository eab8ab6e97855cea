"""The conv app's vertices: Conv1D and Conv2D.

Every core holds the whole kernel (Keras' layout, then the biases, with
use_bias).  At each batch end the cores add up their kernel gradients
along a chain in core order on ``gradient_chain`` (conv.c); the last
core's sums are the totals every core applies.  After training core 0
sends the weights.

Streamed (``weights_in="sdram"``, or the planner's choice for a kernel
DTCM cannot hold), the weights stay in SDRAM with, training, their
gradients, state and each output position's sums (the STREAM region,
layouts.conv_stream_region_words), and stream through DMA
(conv_stream.h); the input vectors are read in place in SDRAM.

A convolution applied more than once (spiDNN.compiler.sharing) chains
every use's cores, use after use: the first core of a use adds its sums
to the previous use's last core's, and the last use's last core's sums
are the totals; its first use's core 0 sends the weights.
"""
import numpy

from spiDNN.abi import layouts
from spiDNN.compiler.vertices.keys import key_space, prefixed
from spiDNN.compiler.vertices.layer_vertex import LayerMachineVertex, received_work
from spiDNN.abi.partitions import GRADIENT_CHAIN, PENALTY
from spiDNN.compiler.vertices.window import NO_CORE, WindowVertex


class ConvMachineVertex(LayerMachineVertex):
    APP_NAME = "conv"


class ConvVertex(WindowVertex):
    """A convolution: whole output positions, every filter, per core."""

    MACHINE_VERTEX = ConvMachineVertex
    SHARED_PARTITION = GRADIENT_CHAIN
    CAN_STREAM = True

    @property
    def n_params(self):
        """Kernel weights and biases (if any): what every core holds."""
        return sum(w.size for w in self.layer.weights)

    @classmethod
    def app_dtcm_floats(cls, core_layer, n_neurons, training, streamed=False,
                        inputs=None, partial=False):
        n_params = cls.weights_floats(core_layer, n_neurons, inputs)
        if streamed:
            # conv_stream.h's double buffers: weight blocks; training,
            # sum, running-sum and state blocks, a block of running sums,
            # one of zeros, and the owned elements' dL/dx.
            block = layouts.CONV_STREAM_BLOCK
            floats = 2 * block
            if training:
                n_cores = -(-core_layer.layer.units // n_neurons)
                floats += block * (6 + 2 * training.optimizer.n_states) + (
                    -(-core_layer.layer.n_inputs // n_cores))
        else:
            # The weights; training adds their totals, the running sums,
            # the optimizer's state and the sums of each output position
            # (conv.c).
            floats = n_params * (
                3 + training.optimizer.n_states if training else 1)
            if training:
                floats += n_params * (
                    n_neurons // core_layer.layer.slice_granularity)
        return floats + super().app_dtcm_floats(
            core_layer, n_neurons, training, streamed, inputs, partial)

    @classmethod
    def kernel_floats(cls, core_layer, n_neurons, inputs=None,
                      streamed=False):
        """The whole kernel and biases: every core holds them (in SDRAM,
        streamed)."""
        return 0 if streamed else cls.weights_floats(
            core_layer, n_neurons, inputs)

    @classmethod
    def weights_floats(cls, core_layer, n_neurons, inputs):
        return sum(w.size for w in core_layer.layer.weights)

    @classmethod
    def stream_region_floats(cls, core_layer, n_neurons, training, inputs,
                             chained=True):
        return layouts.conv_stream_region_words(
            cls.weights_floats(core_layer, n_neurons, inputs),
            n_neurons // core_layer.layer.slice_granularity, inputs,
            bool(training), training.optimizer.n_states if training else 0,
            chained)

    @classmethod
    def streamed_words(cls, core_layer, n_neurons, training, inputs):
        """The weights read forward; training, each position's sums read
        and written and the kernel read again for dL/dx, and each batch
        the chain (the sums read, zeros written, the running sums read)
        and the update (weights, gradients and state, read and
        written)."""
        n_params = cls.weights_floats(core_layer, n_neurons, inputs)
        positions = n_neurons // core_layer.layer.slice_granularity
        # An input read in place per kernel row and position, forward
        # and for the kernel gradient.
        reads = positions * cls.window_size(core_layer) * (
            core_layer.layer.geometry["in_channels"])
        words = n_params + reads
        if training:
            n_states = training.optimizer.n_states
            words += 2 * positions * n_params + n_params + reads + (
                (2 * positions + 1) + 2 * (2 + n_states)) * n_params / (
                training.batch_size)
        return words

    def chained(self, vertex_slice):
        index = vertex_slice.lo_atom // self.core_layer.neurons_per_core
        uses = self.shared_vertices or [self]
        return bool(index or uses.index(self))

    @classmethod
    def _multiplies(cls, core_layer):
        """Multiplies per output element (conv.c's window_multiplies)."""
        return cls.window_size(core_layer) * core_layer.layer.geometry[
            "in_channels"]

    @classmethod
    def forward_work(cls, core_layer, n_neurons, inputs):
        return [("forward", 1, n_neurons * cls._multiplies(core_layer))]

    @classmethod
    def backward_work(cls, core_layer, n_neurons, training, inputs,
                      sends_backward):
        n_params = sum(w.size for w in core_layer.layer.weights)
        # The batch's gradient chain: the sums in and the totals back.
        per_batch = 1 / training.batch_size
        positions = n_neurons // core_layer.layer.slice_granularity
        return ([("accumulate", 1, n_neurons * cls._multiplies(core_layer)),
                 ("chain", per_batch, n_params * positions)]
                + [(point, calls * per_batch, size) for point, calls, size
                   in received_work(2 * n_params)]
                + super().backward_work(core_layer, n_neurons, training,
                                        inputs, sends_backward))

    @classmethod
    def input_gradient_work(cls, core_layer, n_owned):
        return [("input_gradient", n_owned, cls.window_size(core_layer)
                 * core_layer.layer.geometry["out_channels"])]

    def weights_words(self, vertex_slice, arrays=None):
        """(``arrays``: shaped as the layer's weights, such as a state's.)"""
        return numpy.concatenate([
            a.ravel() for a in arrays or self.layer.weights]).astype(
            numpy.float32).view(numpy.uint32)

    def n_weight_packets(self, machine_vertex):
        return self.n_params if (
            machine_vertex.core_index == 0 and self.sends_weights) else 0

    def weights_from_cores(self, values):
        (sent,) = [v for mv, v in values.items() if mv.core_index == 0]
        shapes = [w.shape for w in self.layer.weights]
        ends = numpy.cumsum([numpy.prod(shape) for shape in shapes])
        return [part.reshape(shape).copy() for part, shape in zip(
            numpy.split(sent, ends[:-1]), shapes)]

    def key_space_shape(self, partition_id):
        if partition_id == GRADIENT_CHAIN:
            return self.n_params, self.n_params * self.core_layer.n_cores
        if partition_id == PENALTY:   # a key per core, the first's used
            return 1, self.core_layer.n_cores
        return super().key_space_shape(partition_id)

    def extra_deliveries(self):
        # The batch-end chain, counted as if every sample ended a batch:
        # each core takes the previous core's sums and the totals (the
        # chain's first core only the totals).
        cores = self.core_layer.n_cores
        first = not self.is_shared or self.shared_vertices[0] is self
        return super().extra_deliveries() + (
            2 * cores - int(first)) * self.n_params

    def _chain_neighbours(self, machine_vertex):
        """((vertex, core index) of the core before ``machine_vertex`` in
        the chain, or None; that of the chain's last core): the chain runs
        over the layer's cores in order, or over every use's of a shared
        layer, use after use."""
        uses = self.shared_vertices or [self]
        use, index = uses.index(self), machine_vertex.core_index
        previous = ((self, index - 1) if index else (
            (uses[use - 1], uses[use - 1].core_layer.n_cores - 1) if use
            else None))
        return previous, (uses[-1], uses[-1].core_layer.n_cores - 1)

    def sources_of(self, machine_vertex, source_vertex, partition_id):
        """A core takes the chain's sums from the core before it and the
        last only: routed to every core of the layer, each link would
        reach all of them, cores² deliveries of the kernel per batch."""
        if partition_id == GRADIENT_CHAIN:
            wanted = {index for vertex, index in filter(
                None, self._chain_neighbours(machine_vertex))
                if vertex is source_vertex}
            return [core for core in source_vertex.machine_vertices
                    if core.core_index in wanted]
        return super().sources_of(machine_vertex, source_vertex,
                                  partition_id)

    def window_fields(self, machine_vertex):
        fields = {**super().window_fields(machine_vertex),
                  "n_filters": self.layer.filters}
        if self.training:
            previous, (last, last_index) = self._chain_neighbours(
                machine_vertex)
            fields.update({
                "chain_key": machine_vertex._key(GRADIENT_CHAIN),
                **prefixed("chain", key_space(
                    previous[0] if previous else self, GRADIENT_CHAIN)),
                "chain_previous": previous[1] if previous else NO_CORE,
                **prefixed("total", key_space(last, GRADIENT_CHAIN)),
                "chain_last": last_index})
        return fields

    def norm_owner_cores(self):
        # Every core holds the batch's totals: the first sends their
        # squares (a shared layer's first use's).
        return [core for core in super().norm_owner_cores()
                if core.core_index == 0]

    def n_penalty_packets(self, machine_vertex):
        # Every core holds the whole kernel: the first reports its
        # penalty, one sum the same on every slicing (a shared layer's
        # first use's).
        return int(self.regularised and machine_vertex.core_index == 0
                   and self.sends_weights)

    def self_partitions(self):
        return super().self_partitions() + (
            [GRADIENT_CHAIN] if self.training else [])
