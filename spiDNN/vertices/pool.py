"""The pool app's vertices: max or average pooling, or zero padding (a 1x1
window whose padding reads as zero).  No weights."""
import numpy

from spiDNN.vertices import layouts
from spiDNN.vertices.layer_vertex import LayerMachineVertex
from spiDNN.vertices.window import WindowVertex


class PoolMachineVertex(LayerMachineVertex):
    APP_NAME = "pool"


class PoolVertex(WindowVertex):
    """A pooling or zero-padding layer (``layer.mode``)."""

    MACHINE_VERTEX = PoolMachineVertex

    def weights_words(self, vertex_slice):
        return numpy.zeros(0, dtype=numpy.uint32)

    def n_weight_packets(self, machine_vertex):
        return 0

    def weights_from_cores(self, values):
        return []

    def window_fields(self, machine_vertex):
        return {**super().window_fields(machine_vertex),
                "pool_mode": layouts.POOL_MODES[self.layer.mode]}
