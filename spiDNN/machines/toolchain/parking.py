"""Parking the toolchain's global state, so that a session may open inside
another (a callback of a running ``fit`` that predicts, evaluates or runs
another model).

The toolchain keeps its state in process-wide singletons (each layer's
``_<Name>DataModel``, the configuration in ``config_holder``, the log
store, spiDNN's key-space cache).  A session opened while another is
running would reset them under it, and the outer session's machine (loaded
already, needing nothing of the toolchain until its clean-up) would then
fail to stop, losing its run.  ``park`` takes a copy of that state before
the inner session sets up; ``unpark`` puts it back after it has stopped.
"""
import sys

from spinn_utilities import config_holder
from spinn_utilities.log import FormatAdapter

from spiDNN.compiler.vertices import keys

#: config_holder's module globals (its configuration, files, template).
_CONFIG_GLOBALS = ("__config", "__config_file", "__default_config_files",
                   "__template", "__unittest_mode")
_MISSING = object()


def _data_models():
    """Every toolchain data-model singleton class loaded (their instances
    hold the state, in slots)."""
    for module in list(sys.modules.values()):
        name = getattr(module, "__name__", "") or ""
        if not name.endswith(("data_view", "data_writer")):
            continue
        for attribute, value in list(vars(module).items()):
            if isinstance(value, type) and attribute.endswith(
                    "DataModel") and getattr(value, "__slots__", None):
                yield value


def _singleton_name(cls):
    """The mangled name of the class's ``__singleton``."""
    return f"_{cls.__name__.lstrip('_')}__singleton"


def _slots(cls):
    for klass in cls.__mro__:
        for slot in getattr(klass, "__slots__", ()):
            yield slot


def park():
    """The toolchain's global state now (see the module's doc)."""
    models = {}
    for cls in set(_data_models()):
        singleton = getattr(cls, _singleton_name(cls), None)
        if singleton is None:
            continue
        models[cls] = (singleton, {slot: getattr(singleton, slot, _MISSING)
                                   for slot in _slots(cls)})
    config = {name: vars(config_holder).get(name, _MISSING)
              for name in _CONFIG_GLOBALS}
    return {"models": models, "config": config,
            "log_store": getattr(FormatAdapter,
                                 "_FormatAdapter__log_store", None),
            "keys": dict(keys._cache)}


def unpark(parked):
    """Puts back what :py:func:`park` took (the inner session has
    stopped)."""
    for cls, (singleton, slots) in parked["models"].items():
        setattr(cls, _singleton_name(cls), singleton)
        for slot, value in slots.items():
            if value is _MISSING:
                if hasattr(singleton, slot):
                    delattr(singleton, slot)
            else:
                setattr(singleton, slot, value)
    for name, value in parked["config"].items():
        if value is _MISSING:
            vars(config_holder).pop(name, None)
        else:
            setattr(config_holder, name, value)
    FormatAdapter._FormatAdapter__log_store = parked["log_store"]
    keys._cache.clear()
    keys._cache.update(parked["keys"])
