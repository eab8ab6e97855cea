"""Which vertex class runs which layer, from the apps' one list
(spiDNN.abi.apps): each app names the layer kinds it runs and its vertex
class.

Layers are Keras-shaped and know no vertex, so that ``spiDNN.layers``
(and ``spiDNN``) load no toolchain module; the compiler looks a layer's
vertex up here when it plans or builds a graph, and only then imports
the vertex modules, which import PACMAN.
"""
import importlib

from spiDNN.abi.apps import APPS, BY_NAME
from spiDNN.errors import SpiDNNInternalError

#: Layer class name -> the app that runs it.
APP_OF_LAYER = {kind: app for app in APPS for kind in app.layers}


def app_of(layer):
    """The app running ``layer`` (a layer that takes cores)."""
    kind = type(layer).__name__
    if kind not in APP_OF_LAYER:
        raise SpiDNNInternalError(f"no app runs {kind} layers")
    app = APP_OF_LAYER[kind]
    if app.name == "conv" and layer.is_fully_connected:
        # A window over the whole input is a Dense over the flattened
        # input (the kernel's layout flattens channels last), so its
        # filters slice over cores like neurons.
        app = BY_NAME["dense"]
    return app


def vertex_class(app):
    """The vertex class of ``app`` (imported now)."""
    module, name = app.vertex.split(":")
    return getattr(importlib.import_module(module), name)


def vertex_class_of(layer):
    """The vertex class running ``layer``."""
    return vertex_class(app_of(layer))
