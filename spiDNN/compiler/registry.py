"""Which vertex class runs which layer: the one map from a layer's kind to
the application vertex (and so the C app) that computes it.

Layers are Keras-shaped and know no vertex, so that ``spiDNN.layers``
(and ``spiDNN``) load no toolchain module; the compiler looks a layer's
vertex up here when it plans or builds a graph, and only then imports
the vertex modules, which import PACMAN.
"""
import importlib

from spiDNN.errors import SpiDNNInternalError

DENSE = "spiDNN.compiler.vertices.dense:DenseVertex"
CONV = "spiDNN.compiler.vertices.conv:ConvVertex"
POOL = "spiDNN.compiler.vertices.pool:PoolVertex"

#: Layer class name -> its vertex class, "module:class".
VERTEX_CLASSES = {
    "Dense": DENSE,
    "Conv1D": CONV,
    "Conv2D": CONV,
    "MaxPooling1D": POOL,
    "MaxPooling2D": POOL,
    "AveragePooling1D": POOL,
    "AveragePooling2D": POOL,
    # A 1x1 window whose padded positions read as zeros.
    "ZeroPadding2D": POOL,
}


def vertex_class_of(layer):
    """The vertex class running ``layer`` (a layer that takes cores)."""
    kind = type(layer).__name__
    if kind not in VERTEX_CLASSES:
        raise SpiDNNInternalError(f"no vertex runs {kind} layers")
    where = VERTEX_CLASSES[kind]
    if where == CONV and layer.is_fully_connected:
        # A window over the whole input is a Dense over the flattened
        # input (the kernel's layout flattens channels last), so its
        # filters slice over cores like neurons.
        where = DENSE
    module, name = where.split(":")
    return getattr(importlib.import_module(module), name)
