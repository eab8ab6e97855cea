"""What the conv and pool vertices share: the WINDOW region (geometry,
the input elements whose gradients each core sends, the delta exchange).

A core computes whole output positions (every channel of each), so
``neurons_per_core`` is a multiple of the channels.  In the backward pass
the layer's cores exchange their deltas and core c sends dL/dx of the
input elements [c q, (c + 1) q), q = ceil(inputs / cores) (window_core.h).
"""
from spiDNN.abi import layouts
from spiDNN.compiler.vertices.app_machine_vertex import struct_words
from spiDNN.compiler.vertices.keys import NO_KEY_SPACE, key_space, prefixed
from spiDNN.compiler.vertices.layer_vertex import LayerVertex, received_work
from spiDNN.abi.partitions import BACKWARD, EXCHANGE

#: Marks "no core" in the WINDOW region's core fields.
NO_CORE = 0xFFFFFFFF


class WindowVertex(LayerVertex):
    """A conv, pooling or padding layer; ``layer.geometry`` describes it."""

    SENDS_DELTAS = False
    EXTRA_REGION_BYTES = layouts.WINDOW_PARAMS.n_bytes

    @classmethod
    def app_dtcm_floats(cls, core_layer, n_neurons, training, streamed=False,
                        inputs=None, partial=False):
        sends_backward = training and core_layer.sends_backward
        return core_layer.layer.units if sends_backward else 0

    @classmethod
    def backward_work(cls, core_layer, n_neurons, training, inputs,
                      sends_backward):
        if not core_layer.sends_backward:
            return []
        layer = core_layer.layer
        n_cores = -(-layer.units // n_neurons)
        n_owned = -(-layer.n_inputs // n_cores)
        # The exchange of the layer's deltas, then dL/dx of the owned
        # inputs (each priced with its send by the app's point).
        return ([("send", 1, n_neurons)] + received_work(layer.units)
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
        if not self.sends_backward:
            return 0
        return self.core_layer.n_cores * self.layer.units

    def key_space_shape(self, partition_id):
        if partition_id == BACKWARD:
            return self.n_owned, self.layer.n_inputs
        return None

    def window_fields(self, machine_vertex):
        """The WINDOW struct's fields that are not the geometry's."""
        owned_first = machine_vertex.core_index * self.n_owned
        exchange = self.sends_backward
        return {
            "pool_mode": 0,
            "filter_first": 0, "n_filters": 0,
            "owned_first": owned_first,
            "n_owned": max(0, min(self.layer.n_inputs - owned_first,
                                  self.n_owned)) if exchange else 0,
            "exchange_key": machine_vertex._key(EXCHANGE, exchange),
            **prefixed("exchange", key_space(self, EXCHANGE)
                       if exchange else NO_KEY_SPACE),
            "chain_key": 0, **prefixed("chain", NO_KEY_SPACE),
            "chain_previous": NO_CORE, "chain_last": NO_CORE}

    def extra_regions(self, machine_vertex):
        fields = {**self.layer.geometry, **self.window_fields(machine_vertex)}
        return [("WINDOW", struct_words(layouts.WINDOW_PARAMS.pack(**fields)))]

    def self_partitions(self):
        return super().self_partitions() + (
            [EXCHANGE] if self.sends_backward else [])

