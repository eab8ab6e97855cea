"""The pool app's vertices: max or average pooling, or zero padding (a 1x1
window whose padding reads as zero).  No weights."""
from spiDNN.abi import layouts
from spiDNN.compiler.vertices.layer_vertex import (
    LayerMachineVertex, WithoutWeights)
from spiDNN.compiler.vertices.window import WindowVertex


class PoolMachineVertex(LayerMachineVertex):
    APP_NAME = "pool"


class PoolVertex(WithoutWeights, WindowVertex):
    """A pooling or zero-padding layer (``layer.mode``)."""

    MACHINE_VERTEX = PoolMachineVertex

    @classmethod
    def forward_work(cls, core_layer, n_neurons, inputs):
        return [(f"pool_forward_{core_layer.layer.mode}", 1,
                 n_neurons * cls.window_size(core_layer))]

    @classmethod
    def input_gradient_work(cls, core_layer, n_owned):
        return [(f"pool_gradient_{core_layer.layer.mode}", n_owned,
                 cls.window_size(core_layer))]

    def window_fields(self, machine_vertex):
        return {**super().window_fields(machine_vertex),
                "pool_mode": layouts.POOL_MODES[self.layer.mode]}
